"""The RPM parser on packages built by the real rpmbuild, damaged and misnamed files, and the
version order checked against rpm's own rpmvercmp."""

import hashlib
import shutil
import subprocess

import pytest

from formats.rpm import parser
from registry.errors import InvalidPackage
from tests.fixtures.rpms import build_rpm


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read(path, filename=None, **kwargs):
    return parser.read(path, filename or path.name, sha256=sha256_of(path), **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One noarch, one x86_64 with an epoch and every kind of dependency, and a source package."""
    directory = tmp_path_factory.mktemp("rpms")
    return {
        "noarch": build_rpm(directory, "hello-data", "1.2.3", "4", summary="Greeting texts",
                            description="Texts that greet.", license="Apache-2.0",
                            url="https://example.com/hello",
                            files={"/usr/share/hello/a.txt": "a\n", "/usr/share/hello/b.txt": "b\n"}),
        "x86_64": build_rpm(directory, "hello-tool", "2.0~rc1", "1.fc40", "x86_64", epoch=3,
                            requires=["hello-data >= 1.2", "bash"], requires_pre=["shadow-utils"],
                            provides=["hello = 2.0"], conflicts=["old-hello < 1"],
                            obsoletes=["hello-legacy <= 0.9"]),
        "src": build_rpm(directory, "hello-tool", "2.0~rc1", "1.fc40", source=True),
    }


def test_reads_the_identity_and_descriptive_fields(built):
    package = read(built["noarch"])
    assert (package.name, package.epoch, package.version, package.release, package.arch) == \
        ("hello-data", 0, "1.2.3", "4", "noarch")
    assert package.evr == "1.2.3-4"
    assert package.nevra == "hello-data-1.2.3-4.noarch"
    assert package.summary == "Greeting texts"
    assert package.description == "Texts that greet."
    assert package.license == "Apache-2.0"
    assert package.url == "https://example.com/hello"
    assert package.sourcerpm == "hello-data-1.2.3-4.src.rpm"
    assert package.buildhost
    assert sorted(package.files) == ["/usr/share/hello/a.txt", "/usr/share/hello/b.txt"]
    start, end = package.header_range
    assert 0 < start < end < built["noarch"].stat().st_size


def test_reads_epoch_and_dependencies_with_flags_and_pre(built):
    package = read(built["x86_64"])
    assert (package.epoch, package.version, package.release, package.arch) == (3, "2.0~rc1", "1.fc40", "x86_64")
    assert package.evr == "3:2.0~rc1-1.fc40"
    requires = {entry["name"]: entry for entry in package.dependencies["requires"]}
    assert requires["hello-data"] == {"name": "hello-data", "flags": "GE", "epoch": "0",
                                      "version": "1.2", "release": "", "pre": False}
    assert requires["bash"]["flags"] == "" and requires["bash"]["pre"] is False
    assert requires["shadow-utils"]["pre"] is True
    provides = {entry["name"]: entry for entry in package.dependencies["provides"]}
    assert provides["hello"]["flags"] == "EQ" and provides["hello"]["version"] == "2.0"
    # rpmbuild adds the package's own name-version-release as a provide.
    assert provides["hello-tool"]["flags"] == "EQ" and provides["hello-tool"]["epoch"] == "3"
    assert package.dependencies["conflicts"] == [
        {"name": "old-hello", "flags": "LT", "epoch": "0", "version": "1", "release": "", "pre": False}]
    assert package.dependencies["obsoletes"][0]["flags"] == "LE"


def test_a_source_package_has_arch_src(built):
    package = read(built["src"])
    assert package.arch == "src" and package.is_source
    assert package.sourcerpm == ""
    assert package.nevra == "hello-tool-2.0~rc1-1.fc40.src"
    assert "<arch>src</arch>" in package.primary
    assert "<rpm:sourcerpm></rpm:sourcerpm>" in package.primary


def test_the_records_carry_location_checksum_and_upload_time(built):
    package = read(built["noarch"], time_file=1_790_000_000)
    digest = sha256_of(built["noarch"])
    assert '<location href="Packages/h/hello-data-1.2.3-4.noarch.rpm"/>' in package.primary
    assert f'<checksum type="sha256" pkgid="YES">{digest}</checksum>' in package.primary
    assert 'file="1790000000"' in package.primary
    assert f'pkgid="{digest}"' in package.filelists and f'pkgid="{digest}"' in package.other
    assert "<file>/usr/share/hello/a.txt</file>" in package.filelists
    assert "Built for the tests" in package.other  # the changelog
    explicit = read(built["noarch"], location_href="elsewhere/x.rpm")
    assert '<location href="elsewhere/x.rpm"/>' in explicit.primary


def test_paths_are_stable_and_by_first_letter():
    assert parser.canonical_filename("Zed", "1.0", "2", "x86_64") == "Zed-1.0-2.x86_64.rpm"
    assert parser.package_path("Zed-1.0-2.x86_64.rpm") == "Packages/z/Zed-1.0-2.x86_64.rpm"


# --- bad input ----------------------------------------------------------------------------------


def test_not_an_rpm(tmp_path):
    path = tmp_path / "a-1-1.noarch.rpm"
    path.write_bytes(b"#!/bin/sh\necho not a package\n")
    with pytest.raises(InvalidPackage, match="not an RPM package"):
        read(path)


def test_empty_file(tmp_path):
    path = tmp_path / "a-1-1.noarch.rpm"
    path.write_bytes(b"")
    with pytest.raises(InvalidPackage, match="not an RPM package"):
        read(path)


@pytest.mark.parametrize("keep", [96, 200, 1000])
def test_a_truncated_header_is_refused(built, tmp_path, keep):
    original = built["noarch"]
    path = tmp_path / original.name
    path.write_bytes(original.read_bytes()[:keep])
    with pytest.raises(InvalidPackage, match="truncated or damaged"):
        read(path)


def test_a_truncated_payload_is_refused(built, tmp_path):
    original = built["noarch"]
    path = tmp_path / original.name
    path.write_bytes(original.read_bytes()[:-40])
    with pytest.raises(InvalidPackage, match="truncated or damaged"):
        read(path)


def test_a_damaged_payload_is_refused(built, tmp_path):
    original = built["noarch"]
    data = bytearray(original.read_bytes())
    data[-10] ^= 0xFF
    path = tmp_path / original.name
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidPackage, match="payload does not match"):
        read(path)


@pytest.mark.parametrize("filename", [
    "hello-data-1.2.3-5.noarch.rpm",       # another release
    "hello-data-1.2.4-4.noarch.rpm",       # another version
    "hello-data-1.2.3-4.x86_64.rpm",       # another arch
    "hello-tools-1.2.3-4.noarch.rpm",      # another name
    "hello-data-1.2.3-4.noarch.rpm.rpm",
    "x.rpm",
])
def test_a_file_name_other_than_the_header_nevra_is_refused(built, filename):
    with pytest.raises(InvalidPackage, match="name it 'hello-data-1.2.3-4.noarch.rpm'"):
        read(built["noarch"], filename)


def test_the_sha256_must_be_the_files(built):
    with pytest.raises(InvalidPackage, match="changed while it was read"):
        parser.read(built["noarch"], built["noarch"].name, sha256="0" * 64)


# --- version order ------------------------------------------------------------------------------

# rpm's own test table (tests/rpmvercmp.at): (a, b, rpmvercmp(a, b)).
VERCMP_TABLE = [
    ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0", "1.0", 1), ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1), ("2.0.1a", "2.0.1", 1), ("5.5p1", "5.5p2", -1), ("5.5p10", "5.5p2", 1),
    ("10xyz", "10.1xyz", -1), ("xyz10", "xyz10.1", -1), ("xyz.4", "8", -1), ("8", "xyz.4", 1),
    ("1.0aa", "1.0a", 1), ("2a", "2.0", -1), ("1.0", "1.0~rc1", 1), ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1", -1), ("1.0^", "1.0", 1), ("1.0^git1", "1.0^git2", -1),
    ("1.0^git1", "1.01", -1), ("1.0^20160101", "1.0.1", -1), ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1", -1), ("1.0^git1", "1.0~rc1", 1), ("a+", "a_", 0), ("+_", "_+", 0),
    ("1.01", "1.1", 0), ("1.0.", "1.0", 0), ("FC5", "fc4", -1), ("20101121", "20101122", -1),
    ("1.0", "1.0^", -1), ("b", "a", 1), ("1.a", "1.1", -1),
]


def compare(a, b):
    ka, kb = parser.vercmp_key(a), parser.vercmp_key(b)
    return (ka > kb) - (ka < kb)


@pytest.mark.parametrize("a, b, expected", VERCMP_TABLE)
def test_vercmp_key_orders_as_rpm_does(a, b, expected):
    assert compare(a, b) == expected


def test_vercmp_key_agrees_with_the_installed_rpm():
    rpm = shutil.which("rpm")
    if rpm is None:
        pytest.skip("rpm is not installed")
    versions = ["0", "1", "1.0", "1.0.0", "1.00", "1.0a", "1.0~rc1", "1.0~rc1^1", "1.0^", "1.0^a",
                "1a", "1.a", "a", "A", "Z1", "2.0b3", "2.0.b3", "10", "9.99", "1_0", "1+0", "~", "^",
                "1.0~~", "1.0~", "3.14.15926", "3.14.159260", "007", "7", "1.2.3.4.5.6.7.8.9.10"]
    pairs = [(a, b) for a in versions for b in versions]
    script = " ".join(f'print(rpm.vercmp("{a}", "{b}")) print(",")' for a, b in pairs)
    output = subprocess.run([rpm, "--eval", f"%{{lua: {script}}}"], capture_output=True, text=True,
                            check=True).stdout
    rpm_says = [int(value) for value in output.strip().strip(",").split(",")]
    assert len(rpm_says) == len(pairs)
    disagreements = [(a, b, said) for (a, b), said in zip(pairs, rpm_says) if compare(a, b) != said]
    assert disagreements == []


def test_sort_key_orders_epoch_then_version_then_release():
    ordered = [(0, "1.0", "1"), (0, "1.0", "2"), (0, "1.0", "10"), (0, "1.1~rc1", "1"),
               (0, "1.1", "1"), (0, "1.1^post1", "1"), (0, "2", "0"), (1, "0.1", "1")]
    keys = [parser.sort_key(*evr) for evr in ordered]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
