"""Debian binary packages, read with python-debian: the control stanza of a .deb, checked so
that nothing in it can break out of its own stanza in a Packages index. Plain Python."""

import re
from dataclasses import dataclass

from debian import arfile
from debian.debian_support import Version

from formats.archives import DEFAULT_LIMITS, open_tar
from registry.errors import InvalidPackage

# Debian policy 5.6.1 (package names), 5.6.8 (architectures); suite and component names are
# single path segments of dists/.
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
ARCHITECTURE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,99}$")
FIELD_NAME_RE = re.compile(r"^[!-9;-~][!-9;-~]*$")  # printable, no colon, no space (Policy 5.1)
# Fields the repository writes itself into a Packages stanza.
REPOSITORY_FIELDS = {"filename", "size", "md5sum", "sha1", "sha256", "sha512", "description-md5"}
MAX_CONTROL_BYTES = 1024 * 1024
# deb(5): debian-binary, control.tar, data.tar, and members whose names start with "_"
# (signatures); python-debian's ArFile keeps an object per member, so a .deb of a million empty
# members is refused while it is indexed.
MAX_AR_MEMBERS = 64
# deb(5): what dpkg-deb accepts for control.tar.
CONTROL_MEMBERS = {"control.tar": "", "control.tar.gz": "gz", "control.tar.xz": "xz",
                   "control.tar.zst": "zst"}
DATA_MEMBERS = {"data.tar", "data.tar.gz", "data.tar.xz", "data.tar.zst", "data.tar.bz2",
                "data.tar.lzma"}


@dataclass
class DebPackage:
    fields: list  # [(name, value)] in the control file's order, repository fields removed
    package: str
    version: str
    architecture: str
    source: str  # the source package name (Source: without its version, or Package)

    def field(self, name):
        for key, value in self.fields:
            if key.lower() == name.lower():
                return value
        return ""


def check_name(kind, value):
    """A distribution or component name: one safe path segment."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise InvalidPackage(
            f"Invalid {kind} {value!r}: use letters, digits, '.', '_', '+', '~' or '-' "
            "(no '/', spaces or newlines)."
        )
    return value


def read(path, filename="", limits=DEFAULT_LIMITS):
    """The DebPackage of the .deb at `path`; raises InvalidPackage. The control member is
    decompressed in chunks within the archive `limits`; the data member is never opened."""
    label = f"Invalid Debian package {filename or 'the file'}"
    with open(path, "rb") as handle:
        members = _ar_members(handle, label)
        version = members.get("debian-binary")
        if version is None:
            raise InvalidPackage(f"{label}: no debian-binary member (not a .deb).")
        if not version.read(16).startswith(b"2."):
            raise InvalidPackage(f"{label}: debian-binary is not format 2.x.")
        control = [name for name in members if name.startswith("control.tar")]
        if not control:
            raise InvalidPackage(f"{label}: no control.tar member (not a .deb).")
        if len(control) != 1 or control[0] not in CONTROL_MEMBERS:
            raise InvalidPackage(f"{label}: expected one control.tar member, uncompressed or "
                                 f"compressed with gzip, xz or zstd; found {', '.join(control)}.")
        data = [name for name in members if name.startswith("data.tar")]
        if len(data) != 1 or data[0] not in DATA_MEMBERS:
            raise InvalidPackage(f"{label}: expected one data.tar member; found "
                                 f"{', '.join(data) or 'none'}.")
        raw = None
        with open_tar(members[control[0]], CONTROL_MEMBERS[control[0]], limits,
                      f"{label}: {control[0]}") as archive:
            for member in archive:
                if raw is None and member.name in ("./control", "control") and member.isfile():
                    raw = archive.read(member, MAX_CONTROL_BYTES, "the control file")
    if raw is None:
        raise InvalidPackage(f"{label}: no control file.")
    return parse_control(raw, filename or "the file")


def _ar_members(handle, label):
    """{name: ArMember} of the ar archive open in `handle`, at most MAX_AR_MEMBERS of them."""
    budget = _IndexBudget(handle, MAX_AR_MEMBERS, label)
    try:
        archive = arfile.ArFile(fileobj=budget)
    except (arfile.ArError, OSError, ValueError) as exc:
        raise InvalidPackage(
            f"{label}: not a .deb (an ar archive with control and data members) — {exc}"
        ) from None
    budget.indexed = True
    names = archive.getnames()
    if len(set(names)) != len(names):
        raise InvalidPackage(f"{label}: a member name appears twice.")
    return {member.name: member for member in archive.getmembers()}


class _IndexBudget:
    """The file ArFile indexes: ArFile reads one header per member, so counting its reads
    while it indexes bounds the members it keeps."""

    def __init__(self, handle, max_members, label):
        self.handle = handle
        self.reads_left = max_members + 2  # the global header and the end of the archive
        self.label = label
        self.indexed = False

    def read(self, size=-1):
        if not self.indexed:
            self.reads_left -= 1
            if self.reads_left < 0:
                raise InvalidPackage(f"{self.label}: more than {MAX_AR_MEMBERS} ar members.")
        return self.handle.read(size)

    def seek(self, offset, whence=0):
        return self.handle.seek(offset, whence)

    def tell(self):
        return self.handle.tell()


def parse_control(raw, label="the package"):
    """The control stanza: exactly one, every field well-formed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPackage(f"Invalid control file in {label}: not UTF-8.") from None
    if "\r" in text:
        raise InvalidPackage(f"Invalid control file in {label}: carriage returns are not allowed.")
    stanzas = [block for block in re.split(r"\n\s*\n", text.strip("\n")) if block.strip()]
    if len(stanzas) != 1:
        raise InvalidPackage(
            f"Invalid control file in {label}: {len(stanzas)} stanzas; a package has exactly one."
        )
    fields = []
    for line in stanzas[0].split("\n"):
        if line.startswith((" ", "\t")):
            if not fields:
                raise InvalidPackage(f"Invalid control file in {label}: starts with a continuation line.")
            name, value = fields[-1]
            fields[-1] = (name, value + "\n" + line)
            continue
        name, colon, value = line.partition(":")
        if not colon or not FIELD_NAME_RE.match(name):
            raise InvalidPackage(f"Invalid control file in {label}: bad field line {line[:60]!r}.")
        if any(existing.lower() == name.lower() for existing, _ in fields):
            raise InvalidPackage(f"Invalid control file in {label}: field {name} appears twice.")
        fields.append((name, value.strip(" \t")))
    fields = [(name, value) for name, value in fields if name.lower() not in REPOSITORY_FIELDS]
    found = {name.lower(): value for name, value in fields}
    for required in ("package", "version", "architecture"):
        if not found.get(required, "").strip():
            raise InvalidPackage(f"Invalid control file in {label}: no {required.capitalize()} field.")
    package, version, architecture = found["package"], found["version"], found["architecture"]
    if not PACKAGE_RE.match(package):
        raise InvalidPackage(f"Invalid package name {package!r} (Debian Policy 5.6.1).")
    try:
        Version(version)
    except ValueError:
        raise InvalidPackage(f"Invalid version {version!r} (Debian Policy 5.6.12).") from None
    if not re.fullmatch(r"[A-Za-z0-9.+~:-]+", version):
        raise InvalidPackage(f"Invalid version {version!r} (Debian Policy 5.6.12).")
    if not ARCHITECTURE_RE.match(architecture) or architecture == "any":
        raise InvalidPackage(f"Invalid architecture {architecture!r}: a binary package has one "
                             "architecture, or 'all'.")
    source = found.get("source", "").split(" ")[0].strip() or package
    if not PACKAGE_RE.match(source):
        raise InvalidPackage(f"Invalid source package name {source!r}.")
    return DebPackage(fields=fields, package=package, version=version,
                      architecture=architecture, source=source)


def pool_path(component, source, filename):
    """Where Debian's archive layout puts a package: pool/main/libf/libfoo/, pool/main/h/hello/."""
    prefix = source[:4] if source.startswith("lib") and len(source) > 3 else source[0]
    return f"pool/{component}/{prefix}/{source}/{filename}"


def canonical_filename(package):
    """name_version_arch.deb, the epoch dropped as dpkg-name does."""
    version = package.version.split(":", 1)[-1]
    return f"{package.package}_{version}_{package.architecture}.deb"


def sort_key(version):
    """A text key that sorts as dpkg compares versions (epoch, then upstream and revision by
    dpkg's verrevcmp: `~` before the end, the end before letters, letters before other
    characters, digit runs as numbers)."""
    parsed = Version(version)
    epoch = int(parsed.epoch or 0)
    # "!" sorts below every character of the encoding: a shorter upstream ends first.
    return f"{epoch:010d}!{_verrev_key(parsed.upstream_version)}!{_verrev_key(parsed.debian_revision or '')}"


def _verrev_key(text):
    # Alternating runs: non-digits (each character "0" for "~", "2"+c for a letter, "3"+c for
    # anything else, then "1" for the run's end) and digits (length-prefixed number).
    out = []
    while text:
        letters = re.match(r"[^0-9]*", text).group(0)
        text = text[len(letters):]
        out += ["0" if c == "~" else ("2" + c) if c.isalpha() else ("3" + c) for c in letters]
        out.append("1")
        digits = re.match(r"[0-9]*", text).group(0)
        text = text[len(digits):]
        number = digits.lstrip("0")
        out.append(f"{len(number):02d}{number}")
    # dpkg reads past the end as empty runs and zeros: a final zero is the end ("a0" is "a"),
    # and the end is written as what it compares like at that position.
    if out and out[-1] == "00":
        out.pop()
    at_digits = bool(out) and out[-1] == "1"
    out.append("001" if at_digits else "1001")
    return "".join(out)
