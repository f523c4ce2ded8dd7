"""Changes to versions after upload: yank, unyank, deprecate, delete. Each one audited."""

from django.db import transaction

from registry.models import Blob, FileTombstone, PackageFile, PublicationFile, UpstreamBlob
from registry.services import audit
from storage import blobs


@transaction.atomic
def set_yanked(actor, version, yanked, reason=""):
    version.yanked = yanked
    version.yank_reason = reason if yanked else ""
    _changed(actor, version, ["yanked", "yank_reason"], "version.yank" if yanked else "version.unyank",
             reason=version.yank_reason)


@transaction.atomic
def set_deprecated(actor, version, message):
    """Deprecate `version` with `message` (an empty message takes the deprecation back)."""
    version.deprecated = message
    _changed(actor, version, ["deprecated"], "version.deprecate" if message else "version.undeprecate",
             message=message)


def _changed(actor, version, fields, action, **detail):
    """Save a version's changed `fields`, invalidate what shows it, audit `action`."""
    version.save(update_fields=fields)
    package = version.package
    package.bump_revision()
    package.repository.bump_revision()
    audit.record(actor, action, repository=package.repository, package_name=package.name,
                 version=version.version, **detail)


def delete_version(actor, version):
    """Delete a version and its files; their paths stay taken (tombstones)."""
    with transaction.atomic():
        package = version.package
        repository = package.repository
        files = list(version.files.all())
        FileTombstone.objects.bulk_create(
            [FileTombstone(repository=repository, path=f.path, sha256=f.blob_id) for f in files],
            ignore_conflicts=True,
        )
        candidates = {f.blob_id for f in files} | {f.metadata_blob_id for f in files if f.metadata_blob_id}
        audit.record(
            actor,
            "version.delete",
            repository=repository,
            package_name=package.name,
            version=version.version,
            files=[f.path for f in files],
        )
        version.delete()
        if not package.versions.exists():
            package.delete()
        else:
            package.bump_revision()
        repository.bump_revision()
        _republish(repository)
        transaction.on_commit(lambda: collect_blobs(candidates))


def _republish(repository):
    """Formats with published metadata rebuild it after a deletion."""
    from registry import plugins
    from registry.services import publications

    if plugins.get(repository.format).publishes:
        publications.request_publish(repository)


def delete_files(actor, files, reason):
    """Delete single files of a version (old SNAPSHOT builds), audited; a version left with
    no file goes too. Their paths are not kept: SNAPSHOT builds are never uploaded again."""
    if not files:
        return
    with transaction.atomic():
        touched = {}
        candidates = set()
        for f in files:
            version = f.version
            package = version.package
            touched[package.pk] = package
            candidates |= {f.blob_id} | ({f.metadata_blob_id} if f.metadata_blob_id else set())
            audit.record(actor, "file.delete", repository=package.repository,
                         package_name=package.name, version=version.version, path=f.path,
                         reason=reason)
            f.delete()
            if not version.files.exists():
                version.delete()
        for package in touched.values():
            if not package.versions.exists():
                package.delete()
            else:
                package.bump_revision()
            package.repository.bump_revision()
            _republish(package.repository)
        transaction.on_commit(lambda: collect_blobs(candidates))


def collect_blobs(sha256s):
    """Delete the blobs (rows and bytes) no file refers to any more."""
    for sha256 in sha256s:
        with transaction.atomic():
            referenced = (
                PackageFile.objects.filter(blob_id=sha256).exists()
                or PackageFile.objects.filter(metadata_blob_id=sha256).exists()
                or PublicationFile.objects.filter(blob_id=sha256).exists()
                or UpstreamBlob.objects.filter(blob_id=sha256).exists()
            )
            if referenced:
                continue
            blob = Blob.objects.select_for_update().filter(sha256=sha256).first()
            if blob is None:
                continue
            key = blob.storage_key
            blob.delete()
        blobs.delete(key)


def collect_all_garbage():
    """Every unreferenced blob; for the gc_blobs command. Returns how many were removed."""
    orphans = Blob.objects.filter(files__isnull=True).exclude(
        sha256__in=PackageFile.objects.exclude(metadata_blob=None).values("metadata_blob_id")
    ).exclude(sha256__in=PublicationFile.objects.values("blob_id")).exclude(
        sha256__in=UpstreamBlob.objects.values("blob_id")).values_list("sha256", flat=True)
    orphans = list(orphans)
    collect_blobs(orphans)
    return len(orphans)
