"""The Debian parser on packages built by dpkg-deb, control-file injection, and the renderers
checked byte for byte."""

import datetime
import io
import tarfile

import pytest
from debian.debian_support import Version

from formats.deb import parser, render
from registry.errors import InvalidPackage
from tests.fixtures.debs import build_ar, build_deb


def test_reads_a_real_deb(tmp_path):
    deb = build_deb(tmp_path, "hello-tool", "1:2.10-3", "amd64", depends="libc6 (>= 2.36)",
                    extra=["Source: hello (2.10-3)", "Homepage: https://example.com"])
    package = parser.read(deb)
    assert (package.package, package.version, package.architecture) == ("hello-tool", "1:2.10-3", "amd64")
    assert package.source == "hello"
    assert package.field("Depends") == "libc6 (>= 2.36)"
    assert package.field("Description") == "hello-tool for the tests\n a test package"
    assert parser.canonical_filename(package) == "hello-tool_2.10-3_amd64.deb"


def test_repository_fields_in_a_control_file_are_dropped(tmp_path):
    deb = build_deb(tmp_path, "sneaky", "1.0", extra=["Filename: pool/evil.deb", "SHA256: 00"])
    assert [name for name, _ in parser.read(deb).fields if name in ("Filename", "SHA256")] == []


@pytest.mark.parametrize("control, message", [
    ("Package: a1\nVersion: 1.0\nArchitecture: all\n\nPackage: evil\nVersion: 6.6\nArchitecture: all\n",
     "2 stanzas"),
    ("Package: a1\nVersion: 1.0\nArchitecture: all\nDescription: x\nPackage: evil\n", "appears twice"),
    ("Package: a1\nVersion: 1.0\nArchitecture: all\nBad Field: x\n", "bad field line"),
    ("Version: 1.0\nArchitecture: all\n", "no Package"),
    ("Package: a1\nArchitecture: all\n", "no Version"),
    ("Package: a1\nVersion: 1.0\n", "no Architecture"),
    ("Package: Upper\nVersion: 1.0\nArchitecture: all\n", "Invalid package name"),
    ("Package: a1\nVersion: 1.0 beta\nArchitecture: all\n", "Invalid version"),
    ("Package: a1\nVersion: 1.0\nArchitecture: any\n", "Invalid architecture"),
    ("Package: a1\nVersion: 1.0\nArchitecture: amd64/../x\n", "Invalid architecture"),
    ("Package: a1\nVersion: 1.0\r\nArchitecture: all\n", "carriage returns"),
    (" continuation\nPackage: a1\n", "continuation line"),
])
def test_bad_control_files(control, message):
    with pytest.raises(InvalidPackage, match=message):
        parser.parse_control(control.encode())


def test_not_a_deb(tmp_path):
    path = tmp_path / "x.deb"
    path.write_bytes(b"just text")
    with pytest.raises(InvalidPackage, match="not a .deb"):
        parser.read(path)


def test_ar_without_control(tmp_path):
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz"):
        pass
    path = build_ar(tmp_path / "x.deb", {"debian-binary": b"2.0\n", "data.tar.gz": data.getvalue()})
    with pytest.raises(InvalidPackage, match="not a .deb|no control"):
        parser.read(path)


def test_truncated_deb(tmp_path):
    deb = build_deb(tmp_path, "cut", "1.0")
    path = tmp_path / "cut.deb"
    path.write_bytes(deb.read_bytes()[:300])
    with pytest.raises(InvalidPackage):
        parser.read(path)


@pytest.mark.parametrize("name", ["stable", "bookworm-backports", "main", "non-free-firmware"])
def test_good_suite_and_component_names(name):
    assert parser.check_name("distribution", name) == name


@pytest.mark.parametrize("name", ["a/b", "../x", "with space", "new\nline", "", ".hidden", "x" * 101])
def test_bad_suite_and_component_names(name):
    with pytest.raises(InvalidPackage, match="Invalid distribution"):
        parser.check_name("distribution", name)


def test_pool_paths():
    assert parser.pool_path("main", "hello", "hello_1.0_all.deb") == "pool/main/h/hello/hello_1.0_all.deb"
    assert parser.pool_path("main", "libfoo", "libfoo1_1_amd64.deb") == "pool/main/libf/libfoo/libfoo1_1_amd64.deb"


def test_version_sort_key_follows_dpkg():
    versions = ["1.0~rc1", "1.0", "1.0-0.1", "1.0-1", "1.0-1ubuntu1", "1.0+dfsg-1", "1.0.0",
                "1.0a", "1.2.9-1", "1.2.10-1", "1:0.9", "2:0.1~~", "2:0.1~", "2:0.1"]
    assert sorted(versions, key=parser.sort_key) == sorted(versions, key=Version)
    assert parser.sort_key("1.0") == parser.sort_key("1.0-0")  # dpkg: equal


def test_stanza_byte_for_byte():
    fields = [("Package", "hello"), ("Description", "greets\n the world"), ("Version", "1.0-1"),
              ("Architecture", "amd64"), ("Depends", "libc6")]
    text = render.stanza(fields, filename="pool/main/h/hello/hello_1.0-1_amd64.deb", size=1234,
                         md5="a" * 32, sha1="b" * 40, sha256="c" * 64)
    assert text == (
        "Package: hello\nVersion: 1.0-1\nArchitecture: amd64\nDescription: greets\n the world\n"
        "Depends: libc6\nFilename: pool/main/h/hello/hello_1.0-1_amd64.deb\nSize: 1234\n"
        f"MD5sum: {'a' * 32}\nSHA1: {'b' * 40}\nSHA256: {'c' * 64}\n"
    )
    assert render.packages([text, text]) == (text + "\n" + text).encode()


def test_release_byte_for_byte():
    files = [render.IndexedFile("main/binary-amd64/Packages", 1234, "1" * 32, "2" * 40, "3" * 64),
             render.IndexedFile("main/binary-amd64/Packages.gz", 56, "4" * 32, "5" * 40, "6" * 64)]
    date = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.timezone.utc)
    text = render.release(origin="Registry", label="team-deb", suite="stable", codename="stable",
                          date=date, architectures=["amd64", "arm64"], components=["main"],
                          files=files, valid_until=date + datetime.timedelta(days=7))
    assert text.decode() == (
        "Origin: Registry\nLabel: team-deb\nSuite: stable\nCodename: stable\n"
        "Date: Wed, 25 Nov 2026 12:00:00 GMT\nValid-Until: Wed, 02 Dec 2026 12:00:00 GMT\n"
        "Architectures: amd64 arm64\nComponents: main\nAcquire-By-Hash: yes\n"
        f"MD5Sum:\n {'1' * 32} 1234 main/binary-amd64/Packages\n {'4' * 32}   56 main/binary-amd64/Packages.gz\n"
        f"SHA1:\n {'2' * 40} 1234 main/binary-amd64/Packages\n {'5' * 40}   56 main/binary-amd64/Packages.gz\n"
        f"SHA256:\n {'3' * 64} 1234 main/binary-amd64/Packages\n {'6' * 64}   56 main/binary-amd64/Packages.gz\n"
    )


def test_release_reads_back_with_python_debian():
    from debian.deb822 import Release

    files = [render.IndexedFile("main/binary-all/Packages", 10, "1" * 32, "2" * 40, "3" * 64)]
    raw = render.release(origin="o", label="l", suite="s", codename="s",
                         date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
                         architectures=["all"], components=["main"], files=files)
    parsed = Release(raw)
    assert parsed["SHA256"][0] == {"sha256": "3" * 64, "size": "10", "name": "main/binary-all/Packages"}
    assert parsed["Acquire-By-Hash"] == "yes"
