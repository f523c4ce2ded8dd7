"""Packages and Release files of an APT repository, from stored stanzas (plain Python).

Every value written here was checked at upload (formats/deb/parser.py) or is the registry's
own: no field can open a second stanza.
"""

from dataclasses import dataclass
from email.utils import format_datetime

# The order apt-ftparchive and reprepro write, for fields a package has.
LEADING_FIELDS = ("Package", "Source", "Version", "Installed-Size", "Maintainer", "Architecture")


@dataclass
class IndexedFile:
    path: str  # relative to dists/<suite>/
    size: int
    md5: str
    sha1: str
    sha256: str


def stanza(fields, *, filename, size, md5, sha1, sha256):
    """One Packages stanza: the control fields, then where the file is and its hashes."""
    by_name = {name.lower(): (name, value) for name, value in fields}
    ordered = [by_name.pop(name.lower()) for name in LEADING_FIELDS if name.lower() in by_name]
    ordered += [(name, value) for name, value in fields if name.lower() in by_name]
    ordered += [("Filename", filename), ("Size", str(size)), ("MD5sum", md5), ("SHA1", sha1),
                ("SHA256", sha256)]
    return "".join(f"{name}: {value}\n" for name, value in ordered)


def packages(stanzas):
    """A Packages file: stanzas separated by blank lines, in the order given."""
    return "\n".join(stanzas).encode()


def release(*, origin, label, suite, codename, date, architectures, components, files,
            description="", valid_until=None):
    """A Release file listing `files` (IndexedFile) under MD5Sum, SHA1 and SHA256."""
    lines = [
        f"Origin: {origin}",
        f"Label: {label}",
        f"Suite: {suite}",
        f"Codename: {codename}",
        f"Date: {format_datetime(date, usegmt=True)}",
    ]
    if valid_until is not None:
        lines.append(f"Valid-Until: {format_datetime(valid_until, usegmt=True)}")
    lines += [
        f"Architectures: {' '.join(architectures)}",
        f"Components: {' '.join(components)}",
        "Acquire-By-Hash: yes",
    ]
    if description:
        lines.append(f"Description: {description}")
    width = max((len(str(f.size)) for f in files), default=1)
    for title, attribute in (("MD5Sum", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
        lines.append(f"{title}:")
        lines += [f" {getattr(f, attribute)} {f.size:>{width}} {f.path}" for f in files]
    return ("\n".join(lines) + "\n").encode()
