"""From an uploaded file to rows: parse, check against the upload form, hand to the core."""

import re

from django.conf import settings
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from formats.archives import Limits
from registry.errors import InvalidPackage
from registry.services import ingest
from storage.hashing import spool_bytes

from . import parser


def normalize(name):
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_path(project, filename):
    return f"packages/{normalize(project)}/{filename}"


def ingest_distribution(repository, actor, filename, spooled, form=None, *, path=None,
                        action="file.upload", detail=None, replace=False):
    """Returns (PackageFile, created). A proxy gives the `path` clients asked for, its own
    audit `action` and `detail`, and `replace` (see NewFile.replace)."""
    if spooled.digests.size == 0:
        raise InvalidPackage(f"Invalid distribution {filename!r}: the file is empty.")
    dist = parser.parse(spooled.path, filename, Limits.from_settings(settings))
    _check_form(form or {}, dist)
    sidecar = spool_bytes(dist.core_metadata) if dist.core_metadata is not None else None
    try:
        return ingest.store(
            repository,
            actor,
            ingest.NewFile(
                package_name=dist.name,
                version=dist.version,
                path=path or file_path(dist.name, filename),
                filename=filename,
                spooled=spooled,
                version_metadata=dist.metadata,
                file_metadata={
                    "filetype": dist.filetype,
                    "python_version": dist.python_version,
                    "requires_python": dist.requires_python or "",
                    "metadata_version": dist.metadata_version,
                },
                sidecar=sidecar,
                action=action,
                detail=detail or {},
                replace=replace,
            ),
        )
    finally:
        if sidecar is not None:
            sidecar.delete()


def _check_form(form, dist):
    """What twine sends must agree with the archive (the archive is what counts)."""
    name = form.get("name")
    if name and canonicalize_name(name) != canonicalize_name(dist.name):
        raise InvalidPackage(
            f"The form's name {name!r} does not match the metadata's {dist.name!r}.", field="name"
        )
    version = form.get("version")
    if version:
        try:
            same = Version(version) == Version(dist.version)
        except InvalidVersion:
            raise InvalidPackage(
                f"Invalid version {version!r}: not a PEP 440 version.", field="version"
            ) from None
        if not same:
            raise InvalidPackage(
                f"The form's version {version!r} does not match the metadata's {dist.version!r}.",
                field="version",
            )
    filetype = form.get("filetype")
    if filetype and filetype != dist.filetype:
        raise InvalidPackage(
            f"The form's filetype {filetype!r} does not match the file ({dist.filetype}).",
            field="filetype",
        )
