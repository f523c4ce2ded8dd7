"""Paths of a Maven 2 layout repository, in plain Python: the path is the truth.

    g/r/o/u/p/artifactId/version/artifactId-version[-classifier].extension
    g/r/o/u/p/artifactId/1.0-SNAPSHOT/artifactId-1.0-20261125.040932-3[-classifier].extension
    g/r/o/u/p/artifactId/maven-metadata.xml               (versions of the artifact)
    g/r/o/u/p/artifactId/1.0-SNAPSHOT/maven-metadata.xml  (builds of a SNAPSHOT)

and each of them with `.md5`, `.sha1`, `.sha256` or `.sha512` appended for its checksum.
"""

import re
from dataclasses import dataclass

from registry.errors import InvalidPackage

from . import version as maven_version

CHECKSUMS = ("md5", "sha1", "sha256", "sha512")
METADATA = "maven-metadata.xml"
# What Maven coordinates and file names are made of; anything else (spaces, `\`, `%`, control
# characters, `:`…) is refused before it reaches storage.
SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+~-]*$")
TIMESTAMP_RE = re.compile(r"^(\d{8}\.\d{6})-(\d+)")
MAX_PATH = 1024


@dataclass(frozen=True)
class MavenPath:
    kind: str  # "file" | "metadata"
    group_id: str
    artifact_id: str
    version: str  # the base version ("1.0-SNAPSHOT"), or "" for artifact-level metadata
    filename: str  # the stored file's name (for a checksum: of the file it is the checksum of)
    path: str  # the stored file's path, without a checksum suffix
    checksum: str = ""  # "sha1"… when the request is for a checksum
    classifier: str = ""
    extension: str = ""
    timestamp: str = ""  # "20261125.040932" for a timestamped SNAPSHOT build
    build_number: int = 0

    @property
    def package_name(self):
        return f"{self.group_id}:{self.artifact_id}"

    @property
    def is_snapshot(self):
        return maven_version.is_snapshot(self.version)

    @property
    def file_version(self):
        """The version as it appears in the file name (timestamped for SNAPSHOT builds)."""
        if self.timestamp:
            return f"{self.version.removesuffix('SNAPSHOT')}{self.timestamp}-{self.build_number}"
        return self.version


def split_segments(path):
    """The segments of a relative path, each checked; raises InvalidPackage."""
    if len(path) > MAX_PATH:
        raise InvalidPackage(f"Invalid path: longer than {MAX_PATH} characters.")
    segments = path.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidPackage(f"Invalid path {path!r}: empty, '.' or '..' segments are not allowed.")
        if not SEGMENT_RE.match(segment):
            raise InvalidPackage(
                f"Invalid path {path!r}: {segment!r} has characters Maven coordinates do not use."
            )
    return segments


def parse(path):
    """A MavenPath for a file, metadata or checksum path; raises InvalidPackage."""
    checksum = ""
    for algorithm in CHECKSUMS:
        if path.endswith("." + algorithm):
            checksum, path = algorithm, path[: -len(algorithm) - 1]
            break
    segments = split_segments(path)
    name = segments[-1]
    if name == METADATA:
        return _metadata_path(path, segments, checksum)
    if len(segments) < 4:
        raise InvalidPackage(
            f"Invalid path {path!r}: expected groupId/artifactId/version/file "
            "(e.g. com/acme/lib/1.0/lib-1.0.jar)."
        )
    *group, artifact_id, version, filename = segments
    return _file_path(path, ".".join(group), artifact_id, version, filename, checksum)


def _metadata_path(path, segments, checksum):
    if len(segments) < 3:
        raise InvalidPackage(f"Invalid path {path!r}: metadata lives under groupId/artifactId/.")
    *parents, _ = segments
    if maven_version.is_snapshot(parents[-1]) and len(parents) >= 3:
        *group, artifact_id, version = parents
    else:
        *group, artifact_id = parents
        version = ""
    return MavenPath(kind="metadata", group_id=".".join(group), artifact_id=artifact_id,
                     version=version, filename=METADATA, path=path, checksum=checksum)


def _file_path(path, group_id, artifact_id, version, filename, checksum):
    prefix = artifact_id + "-"
    if not filename.startswith(prefix):
        raise InvalidPackage(
            f"Invalid file name {filename!r}: files in {artifact_id}/{version}/ are named "
            f"{artifact_id}-{version}[-classifier].extension."
        )
    rest = filename[len(prefix):]
    timestamp, build_number = "", 0
    if maven_version.is_snapshot(version) and not rest.startswith(version):
        base = version.removesuffix("SNAPSHOT")
        match = TIMESTAMP_RE.match(rest[len(base):]) if rest.startswith(base) else None
        if match is None:
            raise _wrong_version(filename, version)
        timestamp, build_number = match.group(1), int(match.group(2))
        rest = rest[len(base) + match.end():]
    elif rest.startswith(version):
        rest = rest[len(version):]
    else:
        raise _wrong_version(filename, version)
    if rest.startswith("-"):
        classifier, dot, extension = rest[1:].partition(".")
        if not classifier or not dot:
            raise InvalidPackage(f"Invalid file name {filename!r}: a classifier needs an extension.")
    elif rest.startswith("."):
        classifier, extension = "", rest[1:]
    else:
        raise _wrong_version(filename, version)
    if not extension or extension.endswith("."):
        raise InvalidPackage(f"Invalid file name {filename!r}: no extension.")
    return MavenPath(kind="file", group_id=group_id, artifact_id=artifact_id, version=version,
                     filename=filename, path=path, checksum=checksum, classifier=classifier,
                     extension=extension, timestamp=timestamp, build_number=build_number)


def _wrong_version(filename, version):
    return InvalidPackage(
        f"Invalid file name {filename!r}: it is not of version {version} (the folder it is in)."
    )


def directory(path):
    """The checked segments of a directory path for a listing ('' is the root)."""
    path = path.strip("/")
    return split_segments(path) if path else []
