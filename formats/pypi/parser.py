"""Read a Python distribution (wheel or sdist) and return what the index needs.

Trust the archive, not the file name or the upload form: the core metadata is read from the
wheel's `*.dist-info/METADATA` or the sdist's `PKG-INFO`, validated with `packaging`, and the
file name is checked against it (https://packaging.python.org/en/latest/specifications/).
Plain Python: no Django.
"""

import re
from dataclasses import dataclass, field

from packaging.metadata import InvalidMetadata, Metadata, parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from formats.archives import DEFAULT_LIMITS, open_tar, open_zip, read_zip_member
from registry.errors import InvalidPackage

# Core metadata larger than this is not a real package's.
MAX_METADATA_BYTES = 16 * 1024 * 1024
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

WHEEL = "bdist_wheel"
SDIST = "sdist"


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    filename: str
    filetype: str
    # The wheel's python tag ("py3", "cp311.cp312") or "source" for an sdist; what twine sends
    # as `pyversion`.
    python_version: str
    requires_python: str | None
    summary: str
    metadata_version: str
    # The wheel's METADATA byte for byte, served as the PEP 658 `.metadata` file; None for sdists.
    core_metadata: bytes | None
    # The core metadata as JSON-friendly values, for the API and the web page.
    metadata: dict = field(default_factory=dict)


def check_filename(filename):
    """Refuse names that could escape a directory or corrupt an index or a header."""
    if not filename:
        raise InvalidPackage("The upload has no file name.", field="content")
    if "/" in filename or "\\" in filename:
        raise InvalidPackage(f"Invalid file name {filename!r}: path separators are not allowed.")
    if _CONTROL_CHARACTERS.search(filename):
        raise InvalidPackage("Invalid file name: control characters are not allowed.")
    if filename.startswith(".") or len(filename) > 255:
        raise InvalidPackage(f"Invalid file name {filename!r}.")


def filetype_of(filename):
    if filename.endswith(".whl"):
        return WHEEL
    if filename.endswith((".tar.gz", ".zip")):
        return SDIST
    raise InvalidPackage(
        f"Invalid file extension in {filename!r}: use a wheel (.whl) or an sdist (.tar.gz, .zip)."
    )


def parse(path, filename, limits=DEFAULT_LIMITS):
    """Read the distribution at `path`, uploaded as `filename`, within the archive `limits`."""
    check_filename(filename)
    filetype = filetype_of(filename)
    if filetype == WHEEL:
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            raise InvalidPackage(f"Invalid wheel filename {filename!r}: {exc}") from None
        raw = _wheel_metadata(path, filename, limits)
        python_version = ".".join(sorted({tag.interpreter for tag in tags}))
    else:
        try:
            name, version = parse_sdist_filename(filename)
        except (InvalidSdistFilename, InvalidVersion) as exc:
            raise InvalidPackage(f"Invalid sdist filename {filename!r}: {exc}") from None
        raw = _sdist_metadata(path, filename, limits)
        python_version = "source"

    metadata = parse_core_metadata(raw, filename)
    if canonicalize_name(metadata.name) != canonicalize_name(str(name)):
        raise InvalidPackage(
            f"The file name {filename!r} does not match the project name {metadata.name!r} "
            "in its metadata."
        )
    if metadata.version != version:
        raise InvalidPackage(
            f"The file name {filename!r} does not match the version {metadata.version} "
            "in its metadata."
        )
    return Distribution(
        name=metadata.name,
        version=str(metadata.version),
        filename=filename,
        filetype=filetype,
        python_version=python_version,
        requires_python=str(metadata.requires_python) if metadata.requires_python else None,
        summary=metadata.summary or "",
        metadata_version=metadata.metadata_version,
        core_metadata=raw if filetype == WHEEL else None,
        metadata=_json_metadata(metadata),
    )


def parse_core_metadata(raw, filename):
    """Validate core metadata with `packaging`; every problem becomes one clear message."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPackage(f"The metadata in {filename!r} is not UTF-8.") from None
    fields, unparsed = parse_email(text)
    try:
        return Metadata.from_raw(fields, validate=True)
    except ExceptionGroup as group:
        problems = "; ".join(str(exc) for exc in _leaves(group))
        if not fields.get("version") and "version" in unparsed:
            problems = "invalid version field; " + problems
        raise InvalidPackage(f"Invalid metadata in {filename!r}: {problems}") from None
    except InvalidMetadata as exc:
        raise InvalidPackage(f"Invalid metadata in {filename!r}: {exc}") from None


def _leaves(group):
    for exc in group.exceptions:
        if isinstance(exc, ExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def _wheel_metadata(path, filename, limits):
    label = f"Invalid wheel {filename!r}"
    with open_zip(path, limits, label) as archive:
        names = archive.namelist()
        dist_infos = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
        if len(dist_infos) != 1:
            raise InvalidPackage(
                f"{label}: expected exactly one .dist-info directory, found {len(dist_infos)}."
            )
        dist_info = dist_infos.pop()
        for required in ("METADATA", "WHEEL"):
            if f"{dist_info}/{required}" not in names:
                raise InvalidPackage(f"{label}: {dist_info}/{required} is missing.")
        return read_zip_member(archive, f"{dist_info}/METADATA", MAX_METADATA_BYTES, label)


def _sdist_metadata(path, filename, limits):
    """PKG-INFO in the sdist's top-level directory. The whole archive is read, so that a bomb
    anywhere in it is refused before it is stored."""
    label = f"Invalid sdist {filename!r}"
    if filename.endswith(".zip"):
        return _zip_sdist_metadata(path, label, limits)
    found = None
    with open_tar(path, "gz", limits, label) as archive:
        for member in archive:
            parts = member.name.split("/")
            if found is None and len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                found = archive.read(member, MAX_METADATA_BYTES, "PKG-INFO")
    if found is None:
        raise InvalidPackage(f"{label}: no PKG-INFO in its top-level directory.")
    return found


def _zip_sdist_metadata(path, label, limits):
    with open_zip(path, limits, label) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[1] == "PKG-INFO":
                return read_zip_member(archive, name, MAX_METADATA_BYTES, label)
    raise InvalidPackage(f"{label}: no PKG-INFO in its top-level directory.")


def _json_metadata(metadata):
    def strings(values):
        return [str(v) for v in values or []]

    return {
        "name": metadata.name,
        "version": str(metadata.version),
        "summary": metadata.summary or "",
        # The long description (the project's README): the web page shows it.
        "description": metadata.description or "",
        "description_content_type": metadata.description_content_type or "",
        "author": metadata.author or "",
        "author_email": metadata.author_email or "",
        "license": metadata.license or "",
        "license_expression": metadata.license_expression or "",
        "keywords": strings(metadata.keywords),
        "classifiers": strings(metadata.classifiers),
        "project_urls": dict(metadata.project_urls or {}),
        "requires_dist": strings(metadata.requires_dist),
        "requires_python": str(metadata.requires_python) if metadata.requires_python else "",
        "provides_extra": strings(metadata.provides_extra),
    }


def sort_key(version):
    """A text key that sorts like packaging.version.Version (PEP 440), for database ordering."""
    v = Version(version)
    release = list(v.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()  # 1.0 == 1.0.0
    parts = [f"{v.epoch:06d}", ".".join(f"{n:012d}" for n in release)]
    # Mirrors packaging's _cmpkey: a dev release without pre or post sorts before any pre-release.
    if v.pre is None and v.post is None and v.dev is not None:
        parts.append("0")
    elif v.pre is None:
        parts.append("4")
    else:
        parts.append({"a": "1", "b": "2", "rc": "3"}[v.pre[0]] + f"{v.pre[1]:012d}")
    parts.append("0" if v.post is None else f"1{v.post:012d}")
    parts.append("1" if v.dev is None else f"0{v.dev:012d}")
    if v.local is None:
        parts.append("0")
    else:
        segments = [
            f"b{int(s):012d}" if s.isdigit() else f"a{s}" for s in v.local.split(".")
        ]
        parts.append("1" + ".".join(segments))
    # " " sorts below "." and digits, so a shorter release sorts first (1.2 < 1.2.1).
    return " ".join(parts)
