"""The bounded archive readers (formats/archives.py) on real packages and on bombs: every limit
refused with the parser's message, in bounded time and memory; real packages of every
compression still read."""

import hashlib
import io
import os
import struct
import tarfile
import time
import tracemalloc
import zipfile

import pytest

from formats import archives
from formats.archives import Limits
from formats.deb import parser as deb_parser
from formats.npm import parser as npm_parser
from formats.pypi import parser as pypi_parser
from formats.rpm import parser as rpm_parser
from registry.errors import InvalidPackage
from tests.fixtures import bombs
from tests.fixtures.debs import build_ar, build_deb
from tests.fixtures.dists import build_sdist, build_wheel, core_metadata
from tests.fixtures.npm_packages import make_tarball
from tests.fixtures.rpms import build_rpm

MiB = 1024 * 1024
MANIFEST = b'{"name": "bomb", "version": "1.0.0"}'
CONTROL = b"Package: bomb\nVersion: 1.0\nArchitecture: all\nDescription: x\n"


class Cost:
    """CPU seconds and the peak of Python's allocations while the block runs."""

    def __enter__(self):
        tracemalloc.start()
        self.started = time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.cpu = time.process_time() - self.started
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return False


def deb_with_control(path, control_tar, name="control.tar.gz"):
    return build_ar(path, {"debian-binary": b"2.0\n", name: control_tar,
                           "data.tar.gz": bombs.compress(bombs.END_OF_TAR, "gz")})


# --- real packages still read ---------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "xz", "zstd", "none"])
def test_real_debs_of_every_compression_are_read(tmp_path, compression):
    deb = build_deb(tmp_path, "hello", "1.0", compression=compression)
    assert deb_parser.read(deb).package == "hello"


def test_a_real_package_with_compressible_data_passes(tmp_path):
    """A 24 MiB file of zeros (ratio far above 100, below the grace) is a real package's."""
    sdist = tmp_path / "alpha-1.0.tar.gz"
    sdist.write_bytes(bombs.tar_bomb("gz", first={"alpha-1.0/PKG-INFO": core_metadata("alpha", "1.0")},
                                     size=24 * MiB, name="alpha-1.0/data/disk.img"))
    assert pypi_parser.parse(sdist, sdist.name).name == "alpha"


def test_the_settings_defaults_are_the_limits_defaults(settings):
    assert Limits.from_settings(settings) == Limits()


# --- tar streams -----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gz", "xz", "zst"])
def test_a_gib_of_zeros_is_refused_by_its_ratio_at_once(tmp_path, compression):
    path = tmp_path / "bomb.tgz"
    path.write_bytes(bombs.tar_bomb(compression, first={"package/package.json": MANIFEST}))
    assert path.stat().st_size < 1.2 * MiB
    with Cost() as cost, pytest.raises(InvalidPackage, match="expands more than 100 times"):
        with archives.open_tar(path, compression, Limits(), "Invalid bomb") as archive:
            for _member in archive:
                pass
    assert cost.cpu < 1.0
    assert cost.peak < 20 * MiB


def test_the_total_expanded_size_is_limited(tmp_path):
    data = os.urandom(3 * MiB)  # incompressible: the ratio says nothing
    path = make_tarball(tmp_path / "big.tgz", {"package.json": MANIFEST, "blob": data})
    with pytest.raises(InvalidPackage, match="expands to more than 2097152 bytes"):
        npm_parser.read_tarball(path, Limits(max_total_size=2 * MiB))
    assert npm_parser.read_tarball(path, Limits(max_total_size=4 * MiB)).manifest["name"] == "bomb"


def test_a_member_larger_than_the_limit_is_refused_by_its_header(tmp_path):
    path = make_tarball(tmp_path / "big.tgz", {"package.json": MANIFEST, "big.bin": bytes(5000)})
    with pytest.raises(InvalidPackage, match="the member 'package/big.bin' expands to more than 4096"):
        npm_parser.read_tarball(path, Limits(max_member_size=4096))


def test_the_member_count_is_limited(tmp_path):
    path = tmp_path / "many.tgz"
    path.write_bytes(bombs.many_members_tar(101, "gz"))
    with pytest.raises(InvalidPackage, match="more than 100 members"):
        npm_parser.read_tarball(path, Limits(max_members=100))


def test_many_members_keep_memory_flat(tmp_path):
    """tarfile keeps every member it reads (about 440 bytes each) unless told otherwise."""
    path = tmp_path / "many.tgz"
    path.write_bytes(bombs.many_members_tar(10_000, "gz"))
    with Cost() as cost, pytest.raises(InvalidPackage, match="no package/package.json"):
        npm_parser.read_tarball(path)
    assert cost.peak < 2 * MiB


def test_a_pax_header_larger_than_any_real_one_is_refused(tmp_path):
    info = tarfile.TarInfo("package/package.json")
    info.size = len(MANIFEST)
    info.pax_headers = {"comment": "x" * (2 * MiB)}
    raw = info.tobuf(format=tarfile.PAX_FORMAT) + MANIFEST + bytes(-len(MANIFEST) % 512)
    path = tmp_path / "pax.tgz"
    path.write_bytes(bombs.compress(raw + bombs.END_OF_TAR, "gz"))
    with pytest.raises(InvalidPackage, match=r"a tar header of \d+ bytes is larger than 1048576"):
        npm_parser.read_tarball(path)


def test_a_gnu_long_name_larger_than_any_real_one_is_refused(tmp_path):
    info = tarfile.TarInfo("package/" + "n" * (2 * MiB))
    raw = info.tobuf(format=tarfile.GNU_FORMAT)
    path = tmp_path / "long.tgz"
    path.write_bytes(bombs.compress(bombs.small_tar({"package/package.json": MANIFEST}) + raw
                                    + bombs.END_OF_TAR, "gz"))
    with pytest.raises(InvalidPackage, match="a tar header of"):
        npm_parser.read_tarball(path)


def test_sparse_members_are_refused(tmp_path):
    info = tarfile.TarInfo("package/sparse")
    info.type = tarfile.GNUTYPE_SPARSE
    path = tmp_path / "sparse.tgz"
    path.write_bytes(bombs.compress(bombs.small_tar({"package/package.json": MANIFEST})
                                    + info.tobuf(format=tarfile.GNU_FORMAT) + bombs.END_OF_TAR, "gz"))
    with pytest.raises(InvalidPackage, match="sparse files are not accepted"):
        npm_parser.read_tarball(path)


def test_a_bomb_after_the_end_of_the_tar_is_refused(tmp_path):
    """A tar reader stops at the end marker; gunzip does not. The stream is drained."""
    head = bombs.small_tar({"package/package.json": MANIFEST}) + bombs.END_OF_TAR
    path = tmp_path / "tail.tgz"
    path.write_bytes(bombs.compress(head, "gz") + bombs.zeros(256 * MiB, "gz"))
    with pytest.raises(InvalidPackage, match="expands more than 100 times"):
        npm_parser.read_tarball(path)


@pytest.mark.parametrize("compression", ["gz", "xz", "zst"])
def test_undecodable_bytes_after_the_archive_are_ignored_as_before(tmp_path, compression):
    """Garbage behind the compressed stream unpacks to nothing anywhere; tarfile never read it."""
    head = bombs.small_tar({"package/package.json": MANIFEST}) + bombs.END_OF_TAR
    path = tmp_path / "tail.tgz"
    path.write_bytes(bombs.compress(head, compression) + b"\x00garbage" * 100)
    with archives.open_tar(path, compression, Limits(), "x") as archive:
        assert [member.name for member in archive] == ["package/package.json"]


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_a_stream_that_breaks_before_the_end_of_the_tar_is_refused(tmp_path, compression):
    """Cut at a header's boundary, tarfile alone would end the archive there without a word.
    (Python's xz reader takes garbage after a stream for its end, as tarfile always did.)"""
    head = bombs.small_tar({"package/package.json": MANIFEST})
    path = tmp_path / "cut.tgz"
    path.write_bytes(bombs.compress(head, compression) + b"\x00garbage" * 100)
    with pytest.raises(InvalidPackage, match=f"x: not a readable .tar.{compression}"):
        with archives.open_tar(path, compression, Limits(), "x") as archive:
            for _member in archive:
                pass


def test_a_member_read_is_capped_whatever_it_declares(tmp_path):
    path = make_tarball(tmp_path / "big.tgz", {"package.json": b"{}" + b" " * (2 * MiB)})
    with pytest.raises(InvalidPackage, match="package.json is larger than 1048576 bytes"):
        npm_parser.read_tarball(path)


def test_an_sdist_bomb_behind_its_pkg_info_is_refused(tmp_path):
    """PKG-INFO first, then the bomb: the whole archive is read before anything is stored."""
    path = tmp_path / "alpha-1.0.tar.gz"
    path.write_bytes(bombs.tar_bomb("gz", first={"alpha-1.0/PKG-INFO": core_metadata("alpha", "1.0")}))
    with pytest.raises(InvalidPackage, match="Invalid sdist 'alpha-1.0.tar.gz': the archive expands"):
        pypi_parser.parse(path, path.name)


# --- zip archives ----------------------------------------------------------------------------


def test_a_wheel_declaring_a_bomb_is_refused_before_decompressing(tmp_path):
    wheel = build_wheel(tmp_path, "alpha", "1.0")
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    path = bombs.zip_bomb(tmp_path / wheel.name, members, zeros_name="alpha/zeros.bin", size=64 * MiB)
    with Cost() as cost, pytest.raises(InvalidPackage, match="expands more than 100 times"):
        pypi_parser.parse(path, path.name)
    assert cost.cpu < 0.5


def test_a_zip_with_too_many_entries_is_refused_before_it_is_parsed(tmp_path):
    wheel = build_wheel(tmp_path, "alpha", "1.0")
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    path = bombs.zip_of_many(tmp_path / wheel.name, members, 50_000)
    with Cost() as cost, pytest.raises(InvalidPackage, match="more than 1000 members"):
        pypi_parser.parse(path, path.name, Limits(max_members=1000))
    assert cost.peak < 10 * MiB  # zipfile would have built 50,000 ZipInfo objects


def test_central_directory_signatures_split_across_reads_are_counted_once(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MiB", 1)  # 4-byte reads: every signature straddles or fills one
    path = bombs.zip_of_many(tmp_path / "x.zip", {}, 7)
    assert archives._count_central_directory_entries(path, Limits(max_members=7), "x") == path.stat().st_size
    with pytest.raises(InvalidPackage, match="more than 6 members"):
        archives._count_central_directory_entries(path, Limits(max_members=6), "x")


def test_a_zip_member_larger_than_declared_limits_is_refused(tmp_path):
    metadata = core_metadata("alpha", "1.0") + b"x" * (17 * MiB)
    path = build_wheel(tmp_path, "alpha", "1.0", metadata=metadata)
    with pytest.raises(InvalidPackage, match="METADATA is larger than 16777216 bytes"):
        pypi_parser.parse(path, path.name)


# --- .deb -------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression, name", [("gz", "control.tar.gz"), ("xz", "control.tar.xz"),
                                               ("zst", "control.tar.zst")])
def test_a_control_member_that_expands_without_bound_is_refused(tmp_path, compression, name):
    """The review's 0.5 MB .deb: its control file was decompressed whole before its size was
    checked (91 MB → 603 MB)."""
    control = bombs.tar_bomb(compression, first={"./control": CONTROL}, name="./md5sums")
    path = deb_with_control(tmp_path / "bomb.deb", control, name)
    with Cost() as cost, pytest.raises(InvalidPackage, match=f"{name}: the archive expands more than 100"):
        deb_parser.read(path, "bomb.deb")
    assert cost.cpu < 1.0 and cost.peak < 20 * MiB


def test_a_control_file_itself_of_zeros_is_refused_as_too_large(tmp_path):
    control = bombs.tar_bomb("gz", size=8 * MiB, name="./control")
    path = deb_with_control(tmp_path / "bomb.deb", control)
    with Cost() as cost, pytest.raises(InvalidPackage, match="the control file is larger than 1048576"):
        deb_parser.read(path, "bomb.deb")
    assert cost.peak < 5 * MiB


def test_a_deb_of_many_ar_members_is_refused_while_indexed(tmp_path):
    members = {"debian-binary": b"2.0\n", **{f"_m{n}": b"" for n in range(10_000)}}
    path = build_ar(tmp_path / "many.deb", members)
    with Cost() as cost, pytest.raises(InvalidPackage, match="more than 64 ar members"):
        deb_parser.read(path, "many.deb")
    assert cost.peak < 2 * MiB


@pytest.mark.parametrize("members, message", [
    ({"control.tar.gz": b"", "data.tar.gz": b""}, "no debian-binary"),
    ({"debian-binary": b"3.0\n", "control.tar.gz": b"", "data.tar.gz": b""}, "not format 2.x"),
    ({"debian-binary": b"2.0\n", "control.tar.bz2": b"", "data.tar.gz": b""}, "expected one control.tar"),
    ({"debian-binary": b"2.0\n", "control.tar.gz": b"", "control.tar.xz": b"", "data.tar.gz": b""},
     "expected one control.tar"),
    ({"debian-binary": b"2.0\n", "control.tar.gz": b""}, "expected one data.tar member; found none"),
])
def test_deb_members_follow_deb5(tmp_path, members, message):
    path = build_ar(tmp_path / "x.deb", members)
    with pytest.raises(InvalidPackage, match=message):
        deb_parser.read(path, "x.deb")


# --- .rpm -------------------------------------------------------------------------------------


def _read_rpm(path):
    return rpm_parser.read(path, path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def test_an_rpm_declaring_a_bomb_payload_is_refused(tmp_path):
    """The payload is never decompressed here; the size its header declares is judged."""
    path = build_rpm(tmp_path, "zed", "1.0", zeros={"/opt/zed/zeros": 64 * MiB})
    with pytest.raises(InvalidPackage, match="Invalid RPM zed-1.0-1.noarch.rpm: the archive expands "
                                             "more than 100 times"):
        _read_rpm(path)
    assert _read_rpm(build_rpm(tmp_path, "small", "1.0", zeros={"/opt/small/zeros": MiB})).name == "small"


def test_the_payload_digest_is_found_in_linear_time():
    """rpm allows 65,535 index entries and 16 MiB of data; a reader that copies the rest of the
    store for each entry takes an hour on that, this one a fraction of a second."""
    entries = 65_535
    store = bytearray(16 * MiB - 1)
    index = b"".join(struct.pack(">iIII", 1100 + n, 8, n * 16, 1) for n in range(entries - 2))
    digest = b"ab" * 32
    store[entries * 16: entries * 16 + 65] = digest + b"\0"
    index += struct.pack(">iIII", rpm_parser.PAYLOADDIGEST_TAG, 8, entries * 16, 1)
    index += struct.pack(">iIII", rpm_parser.PAYLOADDIGESTALGO_TAG, 4, entries * 16 + 68, 1)
    store[entries * 16 + 68: entries * 16 + 72] = struct.pack(">i", 8)
    header = rpm_parser.HEADER_MAGIC + b"\x01" + bytes(4) + struct.pack(">II", entries, len(store))
    header += index + bytes(store)
    started = time.process_time()
    found = rpm_parser._payload_digest_tags(io.BytesIO(header), 0, len(header), "x")
    assert found == (digest, 8)
    assert time.process_time() - started < 0.5
