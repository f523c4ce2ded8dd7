"""The PyPI parser on real wheels and sdists built by the tests."""

import zipfile

import pytest
from packaging.version import Version

from formats.pypi import parser
from registry.errors import InvalidPackage
from tests.fixtures.dists import build_sdist, build_wheel, core_metadata


def test_wheel_metadata_comes_from_the_archive(tmp_path):
    path = build_wheel(tmp_path, "Hello.World", "1.0.post1", requires_dist=["beta>=1"],
                       requires_python=">=3.8,<4")

    dist = parser.parse(path, path.name)

    assert dist.name == "Hello.World"
    assert dist.version == "1.0.post1"
    assert dist.filetype == "bdist_wheel"
    assert dist.python_version == "py3"
    assert dist.requires_python == "<4,>=3.8"
    assert dist.metadata["requires_dist"] == ["beta>=1"]
    with zipfile.ZipFile(path) as archive:
        assert dist.core_metadata == archive.read("hello_world-1.0.post1.dist-info/METADATA")


def test_sdist_metadata_comes_from_pkg_info(tmp_path):
    path = build_sdist(tmp_path, "beta", "2.0rc1", requires_python=">=3.9")

    dist = parser.parse(path, path.name)

    assert (dist.name, dist.version, dist.filetype) == ("beta", "2.0rc1", "sdist")
    assert dist.python_version == "source"
    assert dist.requires_python == ">=3.9"
    assert dist.core_metadata is None


def test_version_in_file_name_must_match_metadata(tmp_path):
    metadata = core_metadata("alpha", "2.0")
    path = build_wheel(tmp_path, "alpha", "1.0", metadata=metadata)
    with pytest.raises(InvalidPackage, match="does not match the version 2.0"):
        parser.parse(path, path.name)


def test_name_in_file_name_must_match_metadata(tmp_path):
    path = build_sdist(tmp_path, "alpha", "1.0", pkg_info=core_metadata("other", "1.0"))
    with pytest.raises(InvalidPackage, match="does not match the project name 'other'"):
        parser.parse(path, path.name)


def test_equivalent_version_spellings_match(tmp_path):
    path = build_wheel(tmp_path, "alpha", "1.0a1", metadata=core_metadata("alpha", "1.0.alpha1"))
    assert parser.parse(path, path.name).version == "1.0a1"


def test_invalid_pep440_version_is_refused(tmp_path):
    path = build_sdist(tmp_path, "alpha", "1.0", pkg_info=core_metadata("alpha", "not-a-version"))
    with pytest.raises(InvalidPackage, match="Invalid metadata"):
        parser.parse(path, path.name)
    with pytest.raises(InvalidPackage, match="Invalid sdist filename"):
        parser.parse(path, "alpha-not.a.version.tar.gz")


def test_truncated_wheel_is_refused(tmp_path):
    path = build_wheel(tmp_path, "alpha", "1.0")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidPackage, match="not a valid zip archive"):
        parser.parse(path, path.name)


def test_non_zip_wheel_is_refused(tmp_path):
    path = tmp_path / "alpha-1.0-py3-none-any.whl"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(InvalidPackage, match="not a valid zip archive"):
        parser.parse(path, path.name)


def test_wheel_without_metadata_is_refused(tmp_path):
    path = tmp_path / "alpha-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("alpha-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    with pytest.raises(InvalidPackage, match="METADATA is missing"):
        parser.parse(path, path.name)


def test_sdist_without_pkg_info_is_refused(tmp_path):
    path = build_sdist(tmp_path, "alpha", "1.0", include_pkg_info=False)
    with pytest.raises(InvalidPackage, match="no PKG-INFO"):
        parser.parse(path, path.name)


def test_sdist_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / "alpha-1.0.tar.gz"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(InvalidPackage, match="not a readable .tar.gz"):
        parser.parse(path, path.name)


@pytest.mark.parametrize("filename", [
    "../alpha-1.0.tar.gz", "dir/alpha-1.0.tar.gz", "dir\\alpha-1.0.tar.gz",
    "alpha-1.0\n.tar.gz", ".alpha-1.0.tar.gz", "",
])
def test_dangerous_file_names_are_refused(tmp_path, filename):
    path = build_sdist(tmp_path, "alpha", "1.0")
    with pytest.raises(InvalidPackage):
        parser.parse(path, filename)


def test_unknown_extension_is_refused(tmp_path):
    path = build_sdist(tmp_path, "alpha", "1.0")
    with pytest.raises(InvalidPackage, match="Invalid file extension"):
        parser.parse(path, "alpha-1.0.exe")


def test_metadata_that_is_not_utf8_is_refused(tmp_path):
    path = build_sdist(tmp_path, "alpha", "1.0", pkg_info=b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\nSummary: \xff\xfe\n")
    with pytest.raises(InvalidPackage, match="not UTF-8"):
        parser.parse(path, path.name)


VERSIONS_IN_ORDER = [
    "0.9", "1.0.dev0", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.0+local.1",
    "1.0+local.2", "1.0.post1.dev0", "1.0.post1", "1.0.1", "1.2", "1.10", "2!0.1",
]


def test_sort_key_orders_like_pep440():
    keys = [parser.sort_key(v) for v in VERSIONS_IN_ORDER]
    assert sorted(VERSIONS_IN_ORDER, key=Version) == VERSIONS_IN_ORDER
    assert sorted(keys) == keys
    assert parser.sort_key("1.0") == parser.sort_key("1.0.0")
