"""npm package names, semver versions and package tarballs, in plain Python.

Names follow validate-npm-package-name (the rules the npm registry applies to new packages);
versions are parsed with `semver` (SemVer 2.0.0, what node-semver accepts strictly); a tarball
is a gzipped tar whose single top folder (`package/` when made by `npm pack`) holds
`package.json`.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

import semver

from formats.archives import DEFAULT_LIMITS, open_tar
from registry.bounded_json import load_object
from registry.errors import InvalidPackage

MAX_NAME_LENGTH = 214
# package.json and README are read into memory: bound them.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_README_BYTES = 512 * 1024
BLACKLISTED_NAMES = {"node_modules", "favicon.ico"}
SPECIAL_CHARACTERS = re.compile(r"[~'!()*]")
README_RE = re.compile(r"^readme(\.(md|markdown|txt|rst))?$", re.IGNORECASE)


def check_name(name):
    """Raise InvalidPackage unless `name` may be published (a new name: lowercase only)."""
    if not isinstance(name, str) or not name:
        raise InvalidPackage("Invalid package name: the name is empty.")
    problem = _name_problem(name)
    if problem:
        raise InvalidPackage(f"Invalid package name {name!r}: {problem}.")


def _name_problem(name):
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is longer than {MAX_NAME_LENGTH} characters"
    if name != name.strip():
        return "the name has leading or trailing spaces"
    if name.lower() != name:
        return "the name has uppercase letters"
    if name.startswith((".", "_")):
        return "the name starts with a period or an underscore"
    if name in BLACKLISTED_NAMES:
        return "the name is not allowed"
    if SPECIAL_CHARACTERS.search(name.split("/")[-1]):
        return "the name contains one of ~'!()*"
    if name.startswith("@"):
        scope, slash, bare = name[1:].partition("/")
        if not slash or not scope or not bare or "/" in bare:
            return "a scoped name is @scope/name"
        parts = [scope, bare]
    else:
        parts = [name]
    for part in parts:
        if part in (".", "..") or quote(part, safe="-_.!~*'()") != part:
            return "the name must be URL-safe (no /, spaces, % or other special characters)"
    if parts[-1].startswith((".", "_")):
        return "the name starts with a period or an underscore"
    return None


def split_name(name):
    """('@scope' or '', bare name)."""
    if name.startswith("@"):
        scope, _, bare = name.partition("/")
        return scope, bare
    return "", name


def tarball_filename(name, version):
    """The file name npm gives a tarball: the bare name (without scope) and the version."""
    return f"{split_name(name)[1]}-{version}.tgz"


def check_version(version):
    """The version as published (SemVer 2.0.0, no leading `v` or `=`)."""
    if not isinstance(version, str):
        raise InvalidPackage("Invalid version: the version is missing.")
    try:
        semver.Version.parse(version)
    except (ValueError, TypeError):
        raise InvalidPackage(
            f"Invalid version {version!r}: not a semantic version (e.g. 1.2.3 or 1.2.3-beta.1)."
        ) from None
    if len(version) > 256:
        raise InvalidPackage("Invalid version: longer than 256 characters.")
    return version


def sort_key(version):
    """A string that sorts versions in semver precedence when compared as text.

    Release before its prereleases' successors: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0.
    Numeric prerelease identifiers compare as numbers and below alphanumeric ones; build
    metadata does not count.
    """
    parsed = semver.Version.parse(version)
    core = ".".join(_number(part) for part in (parsed.major, parsed.minor, parsed.patch))
    if not parsed.prerelease:
        return core + "~"
    # "!" sorts below every character an identifier may hold, so a shorter prerelease wins.
    identifiers = "!".join(
        "0" + _number(int(ident)) if ident.isdigit() else "1" + ident
        for ident in parsed.prerelease.split(".")
    )
    return core + "!" + identifiers


def _number(value):
    digits = str(value)
    return f"{len(digits):02d}{digits}"


def is_prerelease(version):
    return semver.Version.parse(version).prerelease is not None


@dataclass
class Tarball:
    manifest: dict  # package.json
    readme: str
    readme_filename: str


def read_tarball(path, limits=DEFAULT_LIMITS):
    """package.json (and the README) of an npm package tarball, the whole tarball read within
    the archive `limits`."""
    label = "Invalid package tarball"
    manifest_bytes = None
    readme_bytes, readme_name = None, ""
    with open_tar(path, "gz", limits, label, kind="gzipped tar archive") as archive:
        for member in archive:
            parts = member.name.lstrip("./").split("/")
            if len(parts) != 2 or not member.isfile():
                continue
            if parts[1] == "package.json" and manifest_bytes is None:
                manifest_bytes = archive.read(member, MAX_MANIFEST_BYTES, "package.json")
            elif README_RE.match(parts[1]) and readme_bytes is None:
                if member.size <= MAX_README_BYTES:
                    readme_bytes = archive.read(member, MAX_README_BYTES, parts[1])
                    readme_name = parts[1]
    if manifest_bytes is None:
        raise InvalidPackage(f"{label}: no package/package.json in it.")
    manifest = json_object(manifest_bytes, "The package.json in the tarball")
    readme = readme_bytes.decode("utf-8", "replace") if readme_bytes is not None else ""
    return Tarball(manifest=manifest, readme=readme, readme_filename=readme_name)


def json_object(raw, what):
    """Parse JSON that must be an object (within the limits every request body has); `what`
    names it in the error."""
    return load_object(raw, what, error=InvalidPackage)

