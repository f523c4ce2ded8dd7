"""repodata/ rendered from stored records and read back by createrepo_c's own parsers, and the
.repo file."""

import gzip
import hashlib

import createrepo_c as cr
import pytest

from formats.rpm import parser, render
from tests.fixtures.rpms import build_rpm


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rpms")
    paths = [
        build_rpm(directory, "alpha", "1.0", "1", files={"/opt/alpha/a": "a\n", "/opt/alpha/b": "b\n"}),
        build_rpm(directory, "beta", "2.0", "3", "x86_64", epoch=1, requires=["alpha >= 1.0"]),
        build_rpm(directory, "beta", "2.0", "3", source=True),
    ]
    return [(path, parser.read(path, path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                               time_file=1_790_000_000)) for path in paths]


def write_repository(directory, packages, *, revision=7, timestamp=1_790_000_100):
    files = [render.metadata_file(kind, [getattr(package, kind) for _path, package in packages])
             for kind in render.KINDS]
    (directory / "repodata").mkdir()
    for entry in files:
        (directory / entry.href).write_bytes(entry.data)
    (directory / "repodata" / "repomd.xml").write_bytes(render.repomd(files, revision=revision,
                                                                      timestamp=timestamp))
    return files


def test_createrepo_c_reads_back_every_package(tmp_path, packages):
    files = write_repository(tmp_path, packages)
    paths = {entry.kind: str(tmp_path / entry.href) for entry in files}
    read_back = {(package.name, package.arch): package
                 for package in cr.PackageIterator(paths["primary"], paths["filelists"], paths["other"])}
    assert set(read_back) == {("alpha", "noarch"), ("beta", "x86_64"), ("beta", "src")}
    alpha = read_back[("alpha", "noarch")]
    original_path, original = packages[0]
    assert alpha.pkgId == hashlib.sha256(original_path.read_bytes()).hexdigest()
    assert alpha.location_href == "Packages/a/alpha-1.0-1.noarch.rpm"
    assert alpha.time_file == 1_790_000_000
    assert sorted(f"{d}{n}" for _t, d, n, *_ in alpha.files) == ["/opt/alpha/a", "/opt/alpha/b"]
    assert alpha.changelogs and "Built for the tests" in alpha.changelogs[0][2]
    beta = read_back[("beta", "x86_64")]
    assert (beta.epoch, beta.version, beta.release) == ("1", "2.0", "3")
    assert ("alpha", "GE", "0", "1.0", None, False) in beta.requires


def test_repomd_lists_checksums_sizes_and_timestamps(tmp_path, packages):
    files = write_repository(tmp_path, packages)
    repomd = cr.Repomd()
    cr.xml_parse_repomd(str(tmp_path / "repodata" / "repomd.xml"), repomd)
    assert repomd.revision == "7"
    records = {record.type: record for record in repomd.records}
    assert set(records) == {"primary", "filelists", "other"}
    for entry in files:
        record = records[entry.kind]
        data = (tmp_path / record.location_href).read_bytes()
        assert record.location_href == f"repodata/{hashlib.sha256(data).hexdigest()}-{entry.kind}.xml.gz"
        assert (record.checksum_type, record.checksum) == ("sha256", hashlib.sha256(data).hexdigest())
        assert record.size == len(data)
        plain = gzip.decompress(data)
        assert (record.checksum_open_type, record.checksum_open) == ("sha256", hashlib.sha256(plain).hexdigest())
        assert record.size_open == len(plain)
        assert record.timestamp == 1_790_000_100


def test_the_documents_count_their_packages(packages):
    primary = render.document("primary", [package.primary for _path, package in packages]).decode()
    assert primary.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<metadata ')
    assert 'packages="3"' in primary
    assert primary.count("<package ") == 3
    assert 'xmlns:rpm="http://linux.duke.edu/metadata/rpm"' in primary


def test_an_empty_repository_is_valid_metadata(tmp_path):
    files = write_repository(tmp_path, [])
    assert list(cr.PackageIterator(*(str(tmp_path / entry.href) for entry in files))) == []
    assert b'packages="0"' in gzip.decompress(files[0].data)


def test_metadata_names_change_with_their_content(packages):
    one = render.metadata_file("primary", [packages[0][1].primary])
    two = render.metadata_file("primary", [packages[0][1].primary, packages[1][1].primary])
    again = render.metadata_file("primary", [packages[0][1].primary])
    assert one.href != two.href
    assert one.data == again.data and one.href == again.href  # no time in the gzip header


def test_repo_file_for_a_public_repository():
    text = render.repo_file(repository="tools", base_url="https://r.example/repository/tools/",
                            description="Our tools", gpgcheck=False)
    assert text == (
        "[tools]\nname=Our tools\nbaseurl=https://r.example/repository/tools/\nenabled=1\n"
        "gpgcheck=0\nrepo_gpgcheck=1\ngpgkey=https://r.example/repository/tools/key.asc\n"
    )


def test_repo_file_for_a_private_repository_carries_credentials():
    text = render.repo_file(repository="internal", base_url="https://r.example/repository/internal/",
                            description="", gpgcheck=True, credentials=("__token__", "rgt_secret"))
    assert "name=internal\n" in text
    assert "gpgcheck=1\n" in text
    assert text.endswith("username=__token__\npassword=rgt_secret\n")
