"""RPM packages, read with createrepo_c (the header, as createrepo writes it into repodata, and
its location in the file) and the payload digest the header records: what a repository records
of a package at upload. Plain Python.

The primary, filelists and other records are dumped here, once, with the package's final
location and checksum, so a publication only joins stored records.
"""

import hashlib
import re
import struct
from dataclasses import dataclass

import createrepo_c as cr

from formats.archives import DEFAULT_LIMITS
from registry.errors import InvalidPackage

# The lead every RPM file starts with (rpm's lib/rpmlead.c).
LEAD_MAGIC = b"\xed\xab\xee\xdb"
# Characters rpm itself accepts in a name, version and release, narrowed to what is safe as one
# path segment; '~' and '^' order pre- and post-releases (rpmvercmp).
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9._+~^]{1,64}$")
ARCH_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
# OpenPGP hash algorithm ids (RFC 4880 9.4) that rpm writes as PAYLOADDIGESTALGO.
PAYLOAD_DIGESTS = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}
# rpm's lib/header.c: a header starts with this magic, a version byte and 4 reserved bytes, then
# the number of index entries and the size of the data store (both big-endian).
HEADER_MAGIC = b"\x8e\xad\xe8"
PAYLOADDIGEST_TAG = 5092  # RPM_STRING_ARRAY_TYPE
PAYLOADDIGESTALGO_TAG = 5093  # RPM_INT32_TYPE
STRING_ARRAY_TYPE = 8
INT32_TYPE = 4
CHANGELOG_LIMIT = 10
DEPENDENCY_KINDS = ("provides", "requires", "conflicts", "obsoletes", "recommends", "suggests",
                    "supplements", "enhances")


@dataclass
class RpmPackage:
    name: str
    epoch: int
    version: str
    release: str
    arch: str  # "src" for a source package
    summary: str
    description: str
    license: str
    url: str
    vendor: str
    group: str
    buildhost: str
    sourcerpm: str
    header_range: tuple
    dependencies: dict  # kind -> [{"name", "flags", "epoch", "version", "release", "pre"}]
    files: list  # paths the package installs
    primary: str  # the <package> records of primary.xml, filelists.xml and other.xml
    filelists: str
    other: str

    @property
    def evr(self):
        """epoch:version-release as rpm prints it, the epoch only when there is one."""
        return f"{self.epoch}:{self.version}-{self.release}" if self.epoch else f"{self.version}-{self.release}"

    @property
    def is_source(self):
        return self.arch == "src"

    @property
    def nevra(self):
        return f"{self.name}-{self.evr}.{self.arch}"


def canonical_filename(name, version, release, arch):
    """name-version-release.arch.rpm, as rpmbuild names its output (no epoch)."""
    return f"{name}-{version}-{release}.{arch}.rpm"


def package_path(filename):
    """A stable path under Packages/, by first letter as Fedora lays out its trees."""
    return f"Packages/{filename[0].lower()}/{filename}"


def read(path, filename, *, sha256, location_href=None, time_file=0, limits=DEFAULT_LIMITS):
    """The RpmPackage of the .rpm at `path`, whose sha256 is `sha256`, to be served at
    `location_href` (default: package_path of its canonical name). Raises InvalidPackage for
    anything but a whole, well-formed RPM whose name agrees with `filename`, and for one whose
    header declares a payload beyond the archive `limits` (the payload itself is never
    decompressed here: its digest is taken over the compressed bytes)."""
    label = filename or "the file"
    with open(path, "rb") as handle:
        if handle.read(4) != LEAD_MAGIC:
            raise InvalidPackage(f"Invalid RPM {label}: not an RPM package (no RPM lead).")
    try:
        pkg = cr.package_from_rpm(str(path), cr.SHA256, location_href or "", None, CHANGELOG_LIMIT)
    except (OSError, cr.CreaterepoCError) as exc:
        raise InvalidPackage(
            f"Invalid RPM {label}: the header cannot be read (truncated or damaged): {exc}"
        ) from None
    _check_identity(pkg, label)
    limits.check_expansion(int(pkg.size_archive or 0), int(pkg.size_package or 0),
                           f"Invalid RPM {label}")
    expected = canonical_filename(pkg.name, pkg.version, pkg.release, pkg.arch)
    if filename != expected:
        raise InvalidPackage(
            f"The file name {filename!r} does not match the package's header "
            f"({pkg.name}-{pkg.version}-{pkg.release}.{pkg.arch}): name it {expected!r}."
        )
    _check_payload(path, pkg.rpm_header_start, pkg.rpm_header_end, label)
    if pkg.pkgId != sha256:
        raise InvalidPackage(f"Invalid RPM {label}: the file changed while it was read.")
    pkg.location_href = location_href or package_path(expected)
    pkg.time_file = int(time_file)
    try:
        primary, filelists, other = cr.xml_dump(pkg)
    except (cr.CreaterepoCError, ValueError, TypeError) as exc:
        raise InvalidPackage(f"Invalid RPM {label}: its header cannot be written as repodata: {exc}") from None
    return RpmPackage(
        name=pkg.name,
        epoch=int(pkg.epoch or 0),
        version=pkg.version,
        release=pkg.release,
        arch=pkg.arch,
        summary=pkg.summary or "",
        description=pkg.description or "",
        license=pkg.rpm_license or "",
        url=pkg.url or "",
        vendor=pkg.rpm_vendor or "",
        group=pkg.rpm_group or "",
        buildhost=pkg.rpm_buildhost or "",
        sourcerpm=pkg.rpm_sourcerpm or "",
        header_range=(pkg.rpm_header_start, pkg.rpm_header_end),
        dependencies={kind: [_dependency(entry) for entry in getattr(pkg, kind)]
                      for kind in DEPENDENCY_KINDS if getattr(pkg, kind)},
        files=[f"{directory}{name}" for _type, directory, name, *_rest in pkg.files],
        primary=primary,
        filelists=filelists,
        other=other,
    )


def _check_identity(pkg, label):
    for field, value, pattern in (("name", pkg.name, NAME_RE), ("version", pkg.version, VERSION_RE),
                                  ("release", pkg.release, VERSION_RE), ("arch", pkg.arch, ARCH_RE)):
        if not value or not pattern.match(value):
            raise InvalidPackage(f"Invalid RPM {label}: the header's {field} {value!r} is not "
                                 "one a repository can serve.")
    if pkg.epoch and not str(pkg.epoch).isdigit():
        raise InvalidPackage(f"Invalid RPM {label}: the epoch {pkg.epoch!r} is not a number.")


def _check_payload(path, header_start, header_end, label):
    """The payload after the header is whole: its digest is the one the header records
    (rpm >= 4.14 writes one; older packages are checked by their header only)."""
    with open(path, "rb") as handle:
        expected, algorithm_id = _payload_digest_tags(handle, header_start, header_end, label)
        algorithm = PAYLOAD_DIGESTS.get(algorithm_id if algorithm_id is not None else 8)
        if not expected or algorithm is None:
            return
        digest = hashlib.new(algorithm)
        handle.seek(header_end)
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    if digest.hexdigest() != expected.decode("ascii", "replace"):
        raise InvalidPackage(
            f"Invalid RPM {label}: the payload does not match the header's digest "
            "(the file is truncated or damaged)."
        )


def _payload_digest_tags(handle, header_start, header_end, label):
    """(PAYLOADDIGEST's first string or None, PAYLOADDIGESTALGO or None) of the main header,
    which createrepo_c (librpm) has already read and checked. Only these two entries are
    looked at: a general header reader (rpmfile's) copies the rest of the data store for every
    string entry it extracts, which a header of thousands of entries turns into minutes."""
    handle.seek(header_start)
    intro = handle.read(16)
    if len(intro) != 16 or intro[:3] != HEADER_MAGIC:
        raise InvalidPackage(f"Invalid RPM {label}: the header cannot be read (no header magic).")
    entries, store_size = struct.unpack(">II", intro[8:])
    if 16 + 16 * entries + store_size != header_end - header_start:
        raise InvalidPackage(f"Invalid RPM {label}: the header's size does not match its index.")
    index = handle.read(16 * entries)
    store = handle.read(store_size)
    if len(index) != 16 * entries or len(store) != store_size:
        raise InvalidPackage(f"Invalid RPM {label}: the header is truncated.")
    digest = algorithm = None
    for tag, kind, offset, count in struct.iter_unpack(">iIII", index):
        if tag == PAYLOADDIGEST_TAG and kind == STRING_ARRAY_TYPE and count >= 1 and offset < store_size:
            end = store.find(b"\0", offset)
            digest = store[offset:end] if end != -1 else None
        elif tag == PAYLOADDIGESTALGO_TAG and kind == INT32_TYPE and count >= 1 \
                and offset + 4 <= store_size:
            (algorithm,) = struct.unpack_from(">i", store, offset)
    return digest, algorithm


def _dependency(entry):
    name, flags, epoch, version, release, pre = entry
    return {"name": name, "flags": flags or "", "epoch": epoch or "", "version": version or "",
            "release": release or "", "pre": bool(pre)}


# --- version order ------------------------------------------------------------------------------


def sort_key(epoch, version, release):
    """A text key that sorts as rpm orders epoch:version-release (rpmvercmp on each part)."""
    return f"{int(epoch or 0):010d}!{vercmp_key(version)}!{vercmp_key(release)}"


def vercmp_key(text):
    """rpmvercmp as a text key. rpm compares alternating alphabetic and numeric segments,
    skipping other characters; '~' sorts before the end, '^' after the end but before any
    segment, a numeric segment after an alphabetic one, numbers by value, letters by strcmp.
    Tokens: '0' tilde, '1' end, '2' caret, '3'+letters+'!' alpha, '4'+length+digits numeric."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "~":
            out.append("0")
            i += 1
        elif c == "^":
            out.append("2")
            i += 1
        elif c.isascii() and c.isdigit():
            j = i
            while j < len(text) and text[j].isascii() and text[j].isdigit():
                j += 1
            number = text[i:j].lstrip("0")
            out.append(f"4{len(number):03d}{number}")
            i = j
        elif c.isascii() and c.isalpha():
            j = i
            while j < len(text) and text[j].isascii() and text[j].isalpha():
                j += 1
            out.append(f"3{text[i:j]}!")
            i = j
        else:
            i += 1  # a separator: rpm skips it
    out.append("1")
    return "".join(out)
