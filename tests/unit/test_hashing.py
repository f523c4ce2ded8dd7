"""Hashing while spooling: one pass gives the size and every digest the formats serve, and the
size limit stops a stream as soon as it is passed."""

import hashlib
import io
import os

import pytest

from storage.hashing import MultiHasher, UploadTooLarge, spool, spool_bytes


class CountingStream(io.BytesIO):
    """A stream that records how many bytes were read from it."""

    def __init__(self, data):
        super().__init__(data)
        self.consumed = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


@pytest.fixture(autouse=True)
def _spool_dir(settings, tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool_dir)
    return spool_dir


def _expected(data):
    return {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256", "sha512")}


def test_digests_match_hashlib_across_chunk_boundaries():
    data = os.urandom(3 * 1024 * 1024 + 17)
    hasher = MultiHasher()
    for offset in range(0, len(data), 65537):
        hasher.update(data[offset:offset + 65537])
    digests = hasher.digests()
    assert digests.size == len(data)
    assert {name: getattr(digests, name) for name in ("md5", "sha1", "sha256", "sha512")} == _expected(data)


def test_empty_input():
    digests = MultiHasher().digests()
    assert digests.size == 0
    assert digests.sha256 == hashlib.sha256(b"").hexdigest()


def test_limit_is_inclusive():
    hasher = MultiHasher(limit=10)
    hasher.update(b"x" * 10)
    with pytest.raises(UploadTooLarge) as raised:
        hasher.update(b"x")
    assert raised.value.limit == 10
    assert "10 bytes" in str(raised.value)


def test_spool_copies_and_hashes(_spool_dir):
    data = os.urandom(2 * 1024 * 1024 + 3)
    spooled = spool(io.BytesIO(data), chunk_size=1000003)
    try:
        with spooled.open() as handle:
            assert handle.read() == data
        assert spooled.digests.sha256 == hashlib.sha256(data).hexdigest()
        assert spooled.digests.size == len(data)
        assert os.path.dirname(spooled.path) == str(_spool_dir)
    finally:
        spooled.delete()
    assert not os.path.exists(spooled.path)
    spooled.delete()  # twice is harmless


def test_spool_over_the_limit_stops_early_and_leaves_nothing(_spool_dir):
    stream = CountingStream(b"z" * (10 * 1024 * 1024))
    with pytest.raises(UploadTooLarge):
        spool(stream, limit=1024 * 1024, chunk_size=256 * 1024)
    assert stream.consumed <= 1024 * 1024 + 256 * 1024
    assert os.listdir(_spool_dir) == []


def test_spool_bytes():
    spooled = spool_bytes(b"Metadata-Version: 2.1\n")
    try:
        assert spooled.digests.md5 == hashlib.md5(b"Metadata-Version: 2.1\n").hexdigest()
        assert spooled.owned
    finally:
        spooled.delete()


def test_spool_writer_hashes_what_is_written(_spool_dir):
    from storage.hashing import SpoolWriter

    writer = SpoolWriter(limit=100)
    writer.write(b"hello ")
    writer.write(b"world")
    spooled = writer.finish()
    try:
        assert spooled.digests.sha512 == hashlib.sha512(b"hello world").hexdigest()
        assert spooled.digests.size == 11
        with spooled.open() as handle:
            assert handle.read() == b"hello world"
    finally:
        spooled.delete()

    over = SpoolWriter(limit=4)
    with pytest.raises(UploadTooLarge):
        over.write(b"12345")
    over.discard()
    assert os.listdir(_spool_dir) == []
