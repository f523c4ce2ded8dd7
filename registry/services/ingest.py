"""The one ingest path every format calls: blob, package, version, file and audit event,
all in one transaction; bytes written for a transaction that fails are removed again."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from registry import metrics, plugins
from registry.errors import Conflict
from registry.models import Blob, FileTombstone, Package, PackageFile, PackageVersion
from registry.services import audit, versions
from storage import blobs


@dataclass
class NewFile:
    """What a format's parser found, in the terms of the core model."""

    package_name: str
    version: str
    path: str
    filename: str
    spooled: object
    version_metadata: dict = field(default_factory=dict)
    file_metadata: dict = field(default_factory=dict)
    # A derived file served beside this one (spooled), e.g. PEP 658 core metadata.
    sidecar: object = None
    # Called as then(package, version, package_file) inside the transaction, for the format's
    # own writes that must stand or fall with the file (npm's dist-tags).
    then: object = None
    # Other bytes at the same path replace the file instead of conflicting (Maven SNAPSHOTs
    # deployed without timestamps, the documented exception to immutability).
    replace: bool = False
    # The message of the Conflict raised for other bytes at an existing path.
    conflict: str = ""
    # The audit event's action and extra detail ("file.cache" for a proxy's first fetch).
    action: str = "file.upload"
    detail: dict = field(default_factory=dict)


def conflict_message(path):
    # twine and poetry's --skip-existing match "File already exists" (Warehouse's wording).
    return f"File already exists: {path!r} is in this repository with other content."


def summary_line(text):
    """A summary as lists show it: one line, bounded."""
    return " ".join((text or "").split())[:512]


def store(repository, actor, new):
    """Record `new` in `repository`; returns (PackageFile, created).

    Identical bytes at an existing path are a success with created=False; other bytes, or a
    path once deleted, raise Conflict.
    """
    plugin = plugins.get(repository.format)
    existing = PackageFile.objects.filter(repository=repository, path=new.path).select_related(
        "blob"
    ).first()
    if existing is not None:
        if existing.blob_id == new.spooled.digests.sha256:
            return existing, False
        if not new.replace:
            raise Conflict(new.conflict or conflict_message(new.filename))
    elif not new.replace and FileTombstone.objects.filter(repository=repository, path=new.path).exists():
        raise Conflict(
            f"File already exists: {new.filename!r} was deleted from this repository "
            "and its name cannot be used again."
        )

    written = []
    try:
        with transaction.atomic():
            if existing is not None:
                _replace(actor, repository, existing)
            blob = blob_for(new.spooled, written)
            sidecar_blob = blob_for(new.sidecar, written) if new.sidecar else None
            package, _ = Package.objects.get_or_create(
                repository=repository,
                normalized_name=plugin.normalize_name(new.package_name),
                defaults={"name": new.package_name},
            )
            version, created_version = PackageVersion.objects.get_or_create(
                package=package,
                version=new.version,
                defaults={
                    "sort_key": plugin.version_sort_key(new.version),
                    "metadata": new.version_metadata,
                    "uploader": actor.user if actor.is_authenticated else None,
                },
            )
            package_file = PackageFile.objects.create(
                version=version,
                repository=repository,
                path=new.path,
                filename=new.filename,
                blob=blob,
                metadata_blob=sidecar_blob,
                metadata=new.file_metadata,
                uploader=actor.user if actor.is_authenticated else None,
            )
            if new.then is not None:
                new.then(package, version, package_file)
            # A version's summary, from its first file or from the first that describes it (a
            # Maven POM after its jar); files that describe nothing cost no query here.
            if created_version or (new.version_metadata and not version.summary):
                if not created_version:
                    version.refresh_from_db(fields=["metadata"])  # `then` may have written it
                summary = summary_line(plugin.version_details(version).summary)
                if summary != version.summary:
                    version.summary = summary
                    version.save(update_fields=["summary"])
            package.bump_revision()
            repository.bump_revision()
            audit.record(
                actor,
                new.action,
                repository=repository,
                package_name=package.name,
                version=version.version,
                path=new.path,
                sha256=blob.sha256,
                size=blob.size,
                new_version=created_version,
                **new.detail,
            )
            size = blob.size
            transaction.on_commit(lambda: metrics.uploaded(repository.format, size))
    except IntegrityError:
        discard(written)
        # A concurrent upload of the same path committed first: answer as if we came second.
        existing = PackageFile.objects.filter(repository=repository, path=new.path).first()
        if existing is not None:
            if existing.blob_id == new.spooled.digests.sha256:
                return existing, False
            raise Conflict(conflict_message(new.filename)) from None
        raise
    except BaseException:
        discard(written)
        raise
    return package_file, True


def _replace(actor, repository, existing):
    blobs_before = {existing.blob_id} | ({existing.metadata_blob_id} if existing.metadata_blob_id else set())
    audit.record(actor, "file.replace", repository=repository, path=existing.path,
                 sha256=existing.blob_id)
    existing.delete()
    transaction.on_commit(lambda: versions.collect_blobs(blobs_before))


def blob_for(spooled, written):
    """The Blob row for spooled bytes, stored if new; keys this call wrote go into `written`
    (for discard() when the surrounding transaction fails)."""
    digests = spooled.digests
    blob, created = Blob.objects.get_or_create(
        sha256=digests.sha256,
        defaults={
            "size": digests.size,
            "md5": digests.md5,
            "sha1": digests.sha1,
            "sha512": digests.sha512,
        },
    )
    blobs.put(blob.storage_key, spooled)
    if created:
        # Bytes whose row this transaction introduced go again if the transaction fails.
        written.append(blob.storage_key)
    return blob


def discard(keys):
    for key in keys:
        if not Blob.objects.filter(sha256=key.rsplit("/", 1)[-1]).exists():
            blobs.delete(key)
