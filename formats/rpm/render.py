"""repodata/ of a yum/dnf repository from stored package records (plain Python).

Each package's <package> records were dumped by createrepo_c at upload; here they are joined
into primary, filelists and other documents, compressed, named by their checksum, and listed
in repomd.xml (written by createrepo_c's Repomd, as createrepo_c writes it).
"""

import gzip
import hashlib
from dataclasses import dataclass

import createrepo_c as cr

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# The root element of each document, as createrepo_c opens them.
ROOTS = {
    "primary": ('<metadata xmlns="http://linux.duke.edu/metadata/common" '
                'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{count}">', "</metadata>"),
    "filelists": ('<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="{count}">',
                  "</filelists>"),
    "other": ('<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="{count}">',
              "</otherdata>"),
}
KINDS = tuple(ROOTS)


@dataclass
class MetadataFile:
    kind: str  # primary, filelists or other
    href: str  # repodata/<sha256>-<kind>.xml.gz
    data: bytes  # compressed
    sha256: str
    open_sha256: str
    open_size: int


def document(kind, records):
    """One uncompressed metadata document holding `records` (the stored <package> texts)."""
    opening, closing = ROOTS[kind]
    parts = [XML_DECLARATION, opening.format(count=len(records)), "\n"]
    parts += records
    parts += [closing, "\n"]
    return "".join(parts).encode("utf-8")


def metadata_file(kind, records):
    """The compressed document, named by its checksum so that old and new metadata never share
    a name (a client holding an older repomd.xml still finds what it lists)."""
    plain = document(kind, records)
    data = gzip.compress(plain, compresslevel=6, mtime=0)
    digest = hashlib.sha256(data).hexdigest()
    return MetadataFile(kind=kind, href=f"repodata/{digest}-{kind}.xml.gz", data=data, sha256=digest,
                        open_sha256=hashlib.sha256(plain).hexdigest(), open_size=len(plain))


def repomd(files, *, revision, timestamp):
    """repomd.xml listing `files` (MetadataFile) with their checksums, sizes and timestamp."""
    index = cr.Repomd()
    index.set_revision(str(revision))
    for entry in files:
        record = cr.RepomdRecord(entry.kind)
        record.location_href = entry.href
        record.checksum_type = "sha256"
        record.checksum = entry.sha256
        record.checksum_open_type = "sha256"
        record.checksum_open = entry.open_sha256
        record.size = len(entry.data)
        record.size_open = entry.open_size
        record.timestamp = int(timestamp)
        index.set_record(record)
    index.sort_records()
    return index.xml_dump().encode("utf-8")


def repo_file(*, repository, base_url, description, gpgcheck, credentials=None,
              repo_gpgcheck=True, gpgkey=True):
    """A dnf/yum .repo file for the repository at `base_url`. `credentials` (username,
    password) are written in for a private repository; dnf sends them after a 401. A proxy
    without its upstream's key has no key.asc to point at (`gpgkey` False)."""
    lines = [
        f"[{repository}]",
        f"name={description or repository}",
        f"baseurl={base_url}",
        "enabled=1",
        f"gpgcheck={1 if gpgcheck else 0}",
        f"repo_gpgcheck={1 if repo_gpgcheck else 0}",
    ]
    if gpgkey:
        lines.append(f"gpgkey={base_url}key.asc")
    if credentials is not None:
        username, password = credentials
        lines += [f"username={username}", f"password={password}"]
    return "\n".join(lines) + "\n"
