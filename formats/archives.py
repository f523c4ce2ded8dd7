"""Bounded readers of the archives package files are made of: how far a package may expand.

A 1 MB .tar.gz may hold 1 GiB of zeros, a zip's directory may promise terabytes or a million
entries, a .deb's control member may inflate without end. Every archive a format opens is read
through this module, which counts while it streams and stops at the first limit passed:

- the expanded bytes of one member and of the whole archive,
- the number of members,
- the compression ratio (expanded bytes over compressed bytes read so far), judged once the
  archive has expanded past `ratio_grace` (small archives of padding are harmless; a bomb is
  caught as soon as it has expanded that far, in milliseconds).

A zip declares its sizes in its central directory, so a zip is judged by what it declares before
anything is decompressed; the one member a parser reads is still read in chunks with its own cap
(a declared size can lie). A tar stream declares nothing in advance: it is decompressed chunk by
chunk and judged as it goes, then drained to its end, so nothing hides behind the tar's end
marker. No member is ever read whole before its size is checked.

Every refusal is an InvalidPackage whose message starts with the parser's label, so the client
prints it. Plain Python: the standard library and zstandard (Debian's zstd-compressed members);
the limits arrive as a plain argument (formats build them from settings with Limits.from_settings).
"""

import gzip
import lzma
import tarfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import zstandard

from registry.errors import InvalidPackage

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

CHUNK = 256 * KiB
# A pax extended header or a GNU long name/link is read whole into memory by tarfile. Real ones
# hold a path and a few attributes; bigger than this is an attack on the reader's memory.
MAX_TAR_HEADER_BYTES = 1 * MiB
# zstd frames may ask for a window up to 2 GiB; dpkg and zstd's defaults use 8 MiB at most.
ZSTD_MAX_WINDOW = 128 * MiB
ZIP_CENTRAL_DIRECTORY_SIGNATURE = b"PK\x01\x02"


@dataclass(frozen=True)
class Limits:
    """How far one uploaded archive may expand. The defaults are far above any real package
    (see docs/configuration.md for why each value) and match the ARCHIVE_* settings."""

    max_members: int = 100_000
    max_member_size: int = 2 * GiB
    max_total_size: int = 4 * GiB
    max_ratio: int = 100
    ratio_grace: int = 32 * MiB

    @classmethod
    def from_settings(cls, settings):
        """The limits configured in `settings` (any object with the ARCHIVE_* attributes)."""
        return cls(
            max_members=settings.ARCHIVE_MAX_MEMBERS,
            max_member_size=settings.ARCHIVE_MAX_MEMBER_SIZE,
            max_total_size=settings.ARCHIVE_MAX_SIZE,
            max_ratio=settings.ARCHIVE_MAX_RATIO,
            ratio_grace=settings.ARCHIVE_RATIO_GRACE,
        )

    def check_members(self, count, label):
        if count > self.max_members:
            raise InvalidPackage(f"{label}: the archive holds more than {self.max_members} members.")

    def check_member(self, name, size, label):
        if size > self.max_member_size:
            raise InvalidPackage(
                f"{label}: the member {_shown(name)} expands to more than {self.max_member_size} bytes."
            )

    def check_expansion(self, expanded, compressed, label):
        """`expanded` bytes came (or are declared to come) from `compressed` bytes."""
        if expanded > self.max_total_size:
            raise InvalidPackage(f"{label}: the archive expands to more than {self.max_total_size} bytes.")
        if expanded > self.ratio_grace and expanded > self.max_ratio * max(compressed, 1):
            raise InvalidPackage(
                f"{label}: the archive expands more than {self.max_ratio} times its compressed "
                "size (a decompression bomb?)."
            )


DEFAULT_LIMITS = Limits()


def _shown(name):
    return repr(name[:100])


# --- tar streams (sdists, npm tarballs, a .deb's control.tar) ------------------------------------


class _Counting:
    """The compressed side: counts the bytes the decompressor takes."""

    def __init__(self, source):
        self.source = source
        self.count = 0

    def read(self, size=-1):
        data = self.source.read(size if size is not None and size > 0 else CHUNK)
        self.count += len(data)
        return data

    def readable(self):
        return True


class _Expanding:
    """The expanded side: every byte tarfile reads passes here and is judged against the limits.

    A decompressor's error is kept, not raised, and reads as the end of the stream: tarfile
    reads ahead, so bytes after the tar's end that no decompressor reads (trailing garbage, a
    cut-off trailer) reach the decompressor while the last headers are read. They unpack to
    nothing on any client; TarReader decides, knowing where the tar ended, whether the error
    broke the archive."""

    def __init__(self, stream, compressed, limits, label):
        self.stream = stream
        self.compressed = compressed
        self.limits = limits
        self.label = label
        self.count = 0
        self.failure = None

    def read(self, size=-1):
        if self.failure is not None:
            return b""
        # read1: one step of the decompressor, so that an error after good data does not take
        # that data with it.
        read = getattr(self.stream, "read1", self.stream.read)
        try:
            data = read(size if size is not None and 0 < size <= CHUNK else CHUNK)
        except _UNDECODABLE as exc:
            self.failure = exc
            return b""
        self.count += len(data)
        self.limits.check_expansion(self.count, self.compressed.count, self.label)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


def _decompressed(source, compression):
    if compression == "":
        return source
    if compression == "gz":
        return gzip.GzipFile(fileobj=source, mode="rb")
    if compression == "xz":
        return lzma.LZMAFile(source, format=lzma.FORMAT_XZ)
    if compression == "zst":
        decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        return decompressor.stream_reader(source, read_size=CHUNK, read_across_frames=True,
                                          closefd=False)
    raise ValueError(f"unknown compression {compression!r}")


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses, from the header block alone, the members tarfile would read whole into memory
    (pax headers, GNU long names) when they are larger than any real one, and old GNU sparse
    files, whose extension blocks tarfile reads without bound (no package tool writes them)."""

    @classmethod
    def frombuf(cls, buf, encoding, errors):
        info = super().frombuf(buf, encoding, errors)
        if info.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                         tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK) \
                and info.size > MAX_TAR_HEADER_BYTES:
            raise _HeaderTooLarge(info.size)
        if info.type == tarfile.GNUTYPE_SPARSE:
            raise _SparseMember()
        return info


class _HeaderTooLarge(Exception):
    pass


class _SparseMember(Exception):
    pass


_UNDECODABLE = (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)
_READ_ERRORS = (tarfile.TarError, ValueError, *_UNDECODABLE)


class TarReader:
    """The members of a (compressed) tar stream, in order. Iterate to the end: the limits hold
    for everything iterated, and the end drains the stream so that nothing after the tar's end
    marker escapes them."""

    def __init__(self, archive, expanding, limits, label, kind):
        self._archive = archive
        self._expanding = expanding
        self._limits = limits
        self._label = label
        self._kind = kind

    def __iter__(self):
        count = 0
        while True:
            with self._translated():
                member = self._archive.next()
                # tarfile remembers every member it has read; a streaming scan needs none of
                # them, and a million-member archive must not grow memory.
                self._archive.members.clear()
            if member is None:
                break
            count += 1
            self._limits.check_members(count, self._label)
            self._limits.check_member(member.name, member.size, self._label)
            yield member
        self._expanding.drain()
        # tarfile ends an archive at its first zero block (its end marker) and also, quietly,
        # where the data stops: a decompressor's error before the marker was whole broke the
        # archive.
        failure = self._expanding.failure
        if failure is not None and self._expanding.count < self._archive.offset + tarfile.BLOCKSIZE:
            raise InvalidPackage(f"{self._label}: not a {self._kind} ({_reason(failure)}).")

    def _translated(self):
        return _translated_tar_errors(self._label, self._kind, self._expanding)

    def read(self, member, max_bytes, what):
        """The bytes of the regular-file `member` (the one just yielded), refused past
        `max_bytes`, read in chunks."""
        if member.size > max_bytes:
            raise InvalidPackage(f"{self._label}: {what} is larger than {max_bytes} bytes.")
        with self._translated():
            handle = self._archive.extractfile(member)
            if handle is None:
                raise InvalidPackage(f"{self._label}: {what} is not a regular file.")
            return _read_capped(handle, max_bytes, f"{self._label}: {what} is larger than "
                                                   f"{max_bytes} bytes.")


@contextmanager
def _translated_tar_errors(label, kind, expanding=None):
    """Whatever tarfile and the decompressors raise on a damaged archive, as InvalidPackage
    (with the decompressor's reason when the data stopped because of it)."""
    try:
        yield
    except _HeaderTooLarge as exc:
        raise InvalidPackage(f"{label}: a tar header of {exc.args[0]} bytes is larger than "
                             f"{MAX_TAR_HEADER_BYTES} bytes.") from None
    except _SparseMember:
        raise InvalidPackage(f"{label}: sparse files are not accepted in a package.") from None
    except _READ_ERRORS as exc:
        cause = expanding.failure if expanding is not None and expanding.failure else exc
        raise InvalidPackage(f"{label}: not a {kind} ({_reason(cause)}).") from None


@contextmanager
def open_tar(source, compression, limits, label, kind=None):
    """A TarReader over `source` (a path, or a binary file object read from its current
    position), compressed with `compression` ("", "gz", "xz" or "zst"). An unreadable archive is
    refused as "<label>: not a <kind> (<reason>)"."""
    kind = kind or (f"readable .tar.{compression}" if compression else "readable .tar")
    owned = None
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        source = owned = open(source, "rb")
    try:
        compressed = _Counting(source)
        expanding = _Expanding(_decompressed(compressed, compression), compressed, limits, label)
        with _translated_tar_errors(label, kind, expanding):
            archive = tarfile.open(fileobj=expanding, mode="r|", tarinfo=_BoundedTarInfo,
                                   bufsize=CHUNK)
        with archive:
            yield TarReader(archive, expanding, limits, label, kind)
    finally:
        if owned is not None:
            owned.close()


# --- zip archives (wheels, zip sdists) ----------------------------------------------------------


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
               OSError, EOFError, zlib.error, lzma.LZMAError, ValueError, KeyError, OverflowError)


@contextmanager
def open_zip(path, limits, label):
    """A zipfile.ZipFile of `path` whose central directory keeps within `limits`: checked
    before it is parsed (entries) and on what it declares (sizes, ratio)."""
    size = _count_central_directory_entries(path, limits, label)
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise InvalidPackage(f"{label}: not a valid zip archive ({_reason(exc)}).") from None
    with archive:
        infos = archive.infolist()
        limits.check_members(len(infos), label)
        total = 0
        for info in infos:
            limits.check_member(info.filename, info.file_size, label)
            total += info.file_size
        limits.check_expansion(total, size, label)
        yield archive


def read_zip_member(archive, name, max_bytes, label):
    """The bytes of member `name`, refused past `max_bytes` whatever its entry declares."""
    too_large = f"{label}: {name} is larger than {max_bytes} bytes."
    try:
        if archive.getinfo(name).file_size > max_bytes:
            raise InvalidPackage(too_large)
        with archive.open(name) as handle:
            return _read_capped(handle, max_bytes, too_large)
    except _ZIP_ERRORS as exc:
        raise InvalidPackage(f"{label}: {name} is damaged ({_reason(exc)}).") from None


def _count_central_directory_entries(path, limits, label):
    """zipfile builds an object for every entry of the central directory, and the directory's
    own count need not agree with what it holds; every entry starts with the central directory
    signature, so the file holds no more entries than signatures. Returns the file's size."""
    found = 0
    size = 0
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * MiB):
            size += len(chunk)
            window = tail + chunk
            found += window.count(ZIP_CENTRAL_DIRECTORY_SIGNATURE)
            # Keep the last 3 bytes: a signature split across two chunks is counted once, in
            # the window that holds all of it.
            tail = window[-3:]
            if found > limits.max_members:
                limits.check_members(found, label)
    return size


# --- shared -------------------------------------------------------------------------------------


def _read_capped(handle, max_bytes, message):
    parts = []
    size = 0
    while chunk := handle.read(min(CHUNK, max_bytes + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InvalidPackage(message)
    return b"".join(parts)


def _reason(exc):
    text = str(exc) or exc.__class__.__name__
    return text[:200]
