"""RPM packages in the terms of the core: a .rpm stored under Packages/ with its repodata
records (so a rebuild joins rows, never reads package files), optionally signed on the way in;
publications of repodata/ built from those rows and signed."""

import os
import shutil
import tempfile

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from formats.archives import Limits
from registry.errors import Conflict, InvalidPackage, RegistryError
from registry.models import PackageFile, Role
from registry.services import access, ingest, publications, signing_keys
from signing import rpmsign
from signing.gpg import SigningError
from storage.hashing import spool

from . import parser, render
from .models import RpmRecord

SETTINGS = ("sign_packages",)


class SigningUnavailable(RegistryError):
    """The server cannot sign packages as the repository asks (a set-up problem, not the
    client's): nothing is stored."""

    status = 503


def clean_settings(settings):
    """`sign_packages`: sign each uploaded package with the repository key (rpmsign), so
    clients can keep `gpgcheck=1` as well as `repo_gpgcheck=1`."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown RPM settings: {', '.join(sorted(unknown))}")
    sign = settings.get("sign_packages", False)
    if not isinstance(sign, bool):
        raise ValueError("sign_packages must be true or false")
    if sign and not rpmsign.available():
        raise ValueError("sign_packages needs rpmsign on the server (Debian/Ubuntu: apt-get install rpm)")
    return {"sign_packages": sign}


def signs_packages(repository):
    return bool((repository.settings or {}).get("sign_packages"))


def upload(repository, actor, filename, spooled):
    """Store an .rpm under Packages/. Returns (PackageFile, created)."""
    access.require(actor, repository, Role.WRITE)
    if not filename.endswith(".rpm") or "/" in filename:
        raise InvalidPackage(f"{filename!r} is not an .rpm file name.")
    uploaded_at = timezone.now().timestamp()
    # Read before signing: a bad file is refused as it was sent.
    limits = Limits.from_settings(django_settings)
    package = parser.read(spooled.path, filename, sha256=spooled.digests.sha256, time_file=uploaded_at,
                          limits=limits)
    path = parser.package_path(filename)
    existing = _same_upload(repository, path, spooled)
    if existing is not None:
        return existing, False

    stored_bytes = spooled
    if signs_packages(repository):
        stored_bytes = _signed_copy(actor, repository, spooled, filename)
    try:
        if stored_bytes is not spooled:
            # The signature header grew: the checksum and header range are the signed file's.
            package = parser.read(stored_bytes.path, filename, sha256=stored_bytes.digests.sha256,
                                  time_file=uploaded_at, limits=limits)
        with transaction.atomic():
            stored, created = ingest.store(repository, actor, ingest.NewFile(
                package_name=package.name,
                version=package.evr,
                path=path,
                filename=filename,
                spooled=stored_bytes,
                version_metadata=_version_metadata(package),
                file_metadata=_file_metadata(package, spooled, signed=stored_bytes is not spooled),
                then=lambda _package, _version, package_file: RpmRecord.objects.create(
                    package_file=package_file, primary=package.primary,
                    filelists=package.filelists, other=package.other),
                conflict=(f"Conflict: {filename} is already in this repository with other content; "
                          "a released package cannot change, build a new release"),
            ))
            if created:
                publications.request_publish(repository)
    except Conflict:
        # A concurrent upload of the same file that was signed first has other bytes (the
        # signature's time) but is the same upload.
        existing = _same_upload(repository, path, spooled)
        if existing is None:
            raise
        return existing, False
    finally:
        if stored_bytes is not spooled:
            stored_bytes.delete()
    return stored, created


def cache_file(repository, actor, path, spooled, source_url):
    """An .rpm a proxy fetched from its upstream and verified against the upstream's primary:
    stored at the upstream's own location (`path`) as the upstream signed it, audited as
    file.cache, for whoever asked for it. Returns (PackageFile, created)."""
    filename = path.rsplit("/", 1)[-1]
    package = parser.read(spooled.path, filename, sha256=spooled.digests.sha256,
                          location_href=path, limits=Limits.from_settings(django_settings))
    return ingest.store(repository, actor, ingest.NewFile(
        package_name=package.name,
        version=package.evr,
        path=path,
        filename=filename,
        spooled=spooled,
        version_metadata=_version_metadata(package),
        file_metadata=_file_metadata(package, spooled, signed=False),
        # A cached file an admin deleted is fetched again; the upstream's primary vouches for it.
        replace=True,
        action="file.cache",
        detail={"cached_from": source_url},
    ))


def _same_upload(repository, path, spooled):
    """The stored file made from these very bytes, if any (its stored copy may differ: signed
    on the way in)."""
    existing = PackageFile.objects.filter(repository=repository, path=path).first()
    if existing is not None and existing.metadata.get("uploaded_sha256") == spooled.digests.sha256:
        return existing
    return None


def _signed_copy(actor, repository, spooled, filename):
    """A spooled copy of the upload signed with the repository's primary key."""
    private = signing_keys.primary_private(actor, repository)
    fd, path = tempfile.mkstemp(prefix="rpmsign-", suffix=".rpm", dir=django_settings.FILE_UPLOAD_TEMP_DIR)
    os.close(fd)
    try:
        shutil.copyfile(spooled.path, path)
        rpmsign.sign_in_place(path, private)
        with open(path, "rb") as signed:
            return spool(signed)
    except SigningError as exc:
        raise SigningUnavailable(f"Cannot sign {filename}: {exc}") from None
    finally:
        os.unlink(path)


def _version_metadata(package):
    return {
        "summary": package.summary,
        "description": package.description,
        "license": package.license,
        "url": package.url,
        "vendor": package.vendor,
        "group": package.group,
    }


def _file_metadata(package, uploaded, *, signed):
    return {
        "arch": package.arch,
        "epoch": package.epoch,
        "version": package.version,
        "release": package.release,
        "buildhost": package.buildhost,
        "sourcerpm": package.sourcerpm,
        "header_range": list(package.header_range),
        "dependencies": package.dependencies,
        "files": package.files[:1000],
        "file_count": len(package.files),
        "signed": signed,
        "uploaded_sha256": uploaded.digests.sha256,
    }


# --- publications --------------------------------------------------------------------------------


def build_publication(repository):
    """repodata/: primary, filelists and other (gzip) joined from the stored records,
    repomd.xml listing them, and its detached signature by every active key."""
    records = (RpmRecord.objects.filter(package_file__repository=repository)
               .order_by("package_file__version__package__normalized_name",
                         "package_file__version__sort_key", "package_file__metadata__arch",
                         "package_file__path")
               .values_list("primary", "filelists", "other"))
    columns = {kind: [] for kind in render.KINDS}
    for primary, filelists, other in records.iterator(chunk_size=500):
        columns["primary"].append(primary)
        columns["filelists"].append(filelists)
        columns["other"].append(other)
    metadata = [render.metadata_file(kind, columns[kind]) for kind in render.KINDS]
    repomd = render.repomd(metadata, revision=repository.revision, timestamp=timezone.now().timestamp())
    files = {entry.href: entry.data for entry in metadata}
    files["repodata/repomd.xml"] = repomd
    with signing_keys.signer(repository) as sign:
        files["repodata/repomd.xml.asc"] = sign.detached_signature(repomd)
    return files
