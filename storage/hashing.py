"""Hash once, while the bytes stream in: size plus md5, sha1, sha256 and sha512 in one pass."""

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

CHUNK_SIZE = 1024 * 1024


class UploadTooLarge(Exception):
    """The body went past MAX_UPLOAD_SIZE; raised as the bytes arrive, not after."""

    def __init__(self, limit):
        self.limit = limit
        super().__init__(f"Upload exceeds the limit of {limit} bytes")


@dataclass(frozen=True)
class Digests:
    size: int
    md5: str
    sha1: str
    sha256: str
    sha512: str


class MultiHasher:
    def __init__(self, limit=None):
        self.limit = limit
        self.size = 0
        self._hashers = {name: hashlib.new(name) for name in ("md5", "sha1", "sha256", "sha512")}

    def update(self, chunk):
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise UploadTooLarge(self.limit)
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def digests(self):
        return Digests(
            size=self.size, **{name: h.hexdigest() for name, h in self._hashers.items()}
        )


class SpooledFile:
    """Bytes spooled to a temporary file, with their digests; delete() when done."""

    def __init__(self, path, digests, owned=True):
        self.path = path
        self.digests = digests
        # False when another party (Django's upload machinery) removes the file.
        self.owned = owned

    def open(self):
        return open(self.path, "rb")

    def delete(self):
        if not self.owned:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def spool(stream, limit=None, chunk_size=CHUNK_SIZE):
    """Copy a readable stream to a temporary file, hashing as it goes."""
    hasher = MultiHasher(limit)
    fd, path = tempfile.mkstemp(prefix="spool-", dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(chunk_size):
                hasher.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return SpooledFile(path, hasher.digests())


class SpoolWriter:
    """A file-like sink that spools and hashes what is written to it, for bytes a format
    produces itself (npm's base64-decoded tarball). `finish()` gives the SpooledFile."""

    def __init__(self, limit=None):
        self._hasher = MultiHasher(limit)
        fd, self.path = tempfile.mkstemp(prefix="spool-", dir=settings.FILE_UPLOAD_TEMP_DIR)
        self._out = os.fdopen(fd, "wb")

    def write(self, chunk):
        self._hasher.update(chunk)
        self._out.write(chunk)
        return len(chunk)

    def finish(self):
        self._out.close()
        return SpooledFile(self.path, self._hasher.digests())

    def discard(self):
        self._out.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def spool_bytes(data):
    """Spool bytes already in memory (small derived files such as PEP 658 metadata)."""
    return spool(io.BytesIO(data))


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Django's multipart uploads, spooled to disk and hashed chunk by chunk.

    The size limit is checked as each chunk arrives, so an oversized upload stops early and
    never fills the disk.
    """

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hasher = MultiHasher(settings.MAX_UPLOAD_SIZE)

    def receive_data_chunk(self, raw_data, start):
        self.hasher.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        upload = super().file_complete(file_size)
        upload.digests = self.hasher.digests()
        return upload


def spooled_from_upload(upload):
    """A SpooledFile for a Django UploadedFile that HashingUploadHandler received."""
    digests = getattr(upload, "digests", None)
    if digests is None or not hasattr(upload, "temporary_file_path"):
        upload.seek(0)
        return spool(upload, settings.MAX_UPLOAD_SIZE)
    upload.file.flush()
    return SpooledFile(upload.temporary_file_path(), digests, owned=False)
