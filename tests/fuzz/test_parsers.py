"""Every format's parser fed mutated real package files (Hypothesis): the only outcomes allowed
are a parse or the parser's own InvalidPackage. Anything else (an IndexError, a UnicodeError, a
RecursionError, a crash in a C library) is a bug in the parser.

The seeds are real files the tests build with the real tools (a wheel and sdists, `npm pack`,
dpkg-deb, rpmbuild) plus a POM and a maven-metadata.xml. Mutations work at two levels:

- bytes: flips, truncation, insertion, deletion, overwrites with boundary values, repeats;
- members: the bytes inside the container (the uncompressed tar of a .tar.gz, the METADATA in a
  wheel, the control file in a .deb) are mutated and the container rebuilt, so the mutation
  reaches the parser behind the checksums and the compression.

`make test` runs a fixed number of examples per parser, derandomized (the same inputs every run);
`make fuzz` sets FUZZ_EXAMPLES higher and lets Hypothesis roam.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.deb import parser as deb_parser
from formats.maven import paths as maven_paths
from formats.maven import pom
from formats.npm import parser as npm_parser
from formats.npm import publish_body
from formats.pypi import parser as pypi_parser
from formats.rpm import parser as rpm_parser
from registry.errors import InvalidPackage
from tests.fixtures.debs import build_ar, build_deb
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.npm_packages import npm_pack, publish_document
from tests.fixtures.rpms import build_rpm

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 0)


def fuzz(examples):
    """`examples` per run in `make test` (derandomized), FUZZ_EXAMPLES in `make fuzz`."""
    return settings(max_examples=EXAMPLES or examples, derandomize=not EXAMPLES, deadline=None,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- mutations --------------------------------------------------------------------------------

# Values that sit on the boundaries parsers get wrong: sizes, counts, signs, digits, separators.
BOUNDARIES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
              b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\xff\xff", b"99999999999",
              b"-1", b"0", b"\n", b"\r\n", b"\n\n", b" ", b":", b"/", b"..", b"\\", b'"', b"<", b"&",
              b"${", b"\xc3\x28", b"\xed\xa0\x80", b"%", b"\t"]


def _mutation(size):
    position = st.integers(0, max(size, 1))
    return st.one_of(
        st.tuples(st.just("flip"), position, st.integers(1, 255)),
        st.tuples(st.just("truncate"), position),
        st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=32)),
        st.tuples(st.just("delete"), position, st.integers(1, 64)),
        st.tuples(st.just("overwrite"), position, st.sampled_from(BOUNDARIES)),
        st.tuples(st.just("repeat"), position, st.integers(1, 64), st.integers(2, 64)),
    )


def _apply(data, mutation):
    kind, position, *rest = mutation
    position = min(position, len(data))
    if kind == "flip" and position < len(data):
        data[position] ^= rest[0]
    elif kind == "truncate":
        del data[position:]
    elif kind == "insert":
        data[position:position] = rest[0]
    elif kind == "delete":
        del data[position:position + rest[0]]
    elif kind == "overwrite":
        data[position:position + len(rest[0])] = rest[0]
    elif kind == "repeat":
        piece = bytes(data[position:position + rest[0]])
        data[position:position] = piece * rest[1]


@st.composite
def mutated(draw, seed, max_mutations=4):
    data = bytearray(seed)
    for mutation in draw(st.lists(_mutation(len(seed)), min_size=1, max_size=max_mutations)):
        _apply(data, mutation)
    return bytes(data)


def outcome(call, *args, **kwargs):
    """A parse or the parser's own error; anything else fails the test with its traceback."""
    try:
        return call(*args, **kwargs)
    except InvalidPackage:
        return None


# --- seeds: real files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    wheel = build_wheel(folder, "fuzzed", "1.0", requires_dist=["requests>=2"], requires_python=">=3.9")
    sdist = build_sdist(folder, "fuzzed", "1.0", requires_dist=["requests>=2"])
    zip_sdist = folder / "fuzzed-1.0.zip"
    with tarfile.open(sdist) as source, zipfile.ZipFile(zip_sdist, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.getmembers():
            target.writestr(member.name, source.extractfile(member).read())
    return {"wheel": wheel, "sdist": sdist, "zip_sdist": zip_sdist}


@pytest.fixture(scope="module")
def npm_seed(tmp_path_factory):
    return npm_pack(tmp_path_factory.mktemp("npm"), "@fuzz/pkg", "1.2.3",
                    dependencies={"left-pad": "^1.0.0"}, readme="# Fuzz\n\nA readme.\n")


@pytest.fixture(scope="module")
def deb_seeds(tmp_path_factory):
    return {compression: build_deb(tmp_path_factory.mktemp(compression), "fuzzed", "1:1.0-1", "amd64", depends="libc6 (>= 2.36)",
                                   extra=["Source: fuzz-src (1.0-1)"], compression=compression)
            for compression in ("gzip", "xz", "zstd")}


@pytest.fixture(scope="module")
def rpm_seed(tmp_path_factory):
    return build_rpm(tmp_path_factory.mktemp("rpms"), "fuzzed", "1.0", requires=["bash"],
                     provides=["fuzz-virtual = 1.0"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("scratch")


def _gunzip(path):
    return gzip.decompress(Path(path).read_bytes())


# --- PyPI -------------------------------------------------------------------------------------


@fuzz(150)
@given(data=st.data())
def test_wheel_bytes(seeds, scratch, data):
    raw = data.draw(mutated(seeds["wheel"].read_bytes()))
    path = scratch / seeds["wheel"].name
    path.write_bytes(raw)
    outcome(pypi_parser.parse, path, path.name)


@fuzz(150)
@given(data=st.data())
def test_wheel_metadata_member(seeds, scratch, data):
    with zipfile.ZipFile(seeds["wheel"]) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = next(n for n in members if n.endswith(".dist-info/METADATA"))
    members[name] = data.draw(mutated(members[name]))
    path = scratch / seeds["wheel"].name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    outcome(pypi_parser.parse, path, path.name)


@fuzz(150)
@given(data=st.data())
def test_sdist_bytes_and_tar(seeds, scratch, data):
    if data.draw(st.booleans(), label="inside the gzip"):
        raw = gzip.compress(data.draw(mutated(_gunzip(seeds["sdist"]))), mtime=0)
    else:
        raw = data.draw(mutated(seeds["sdist"].read_bytes()))
    path = scratch / seeds["sdist"].name
    path.write_bytes(raw)
    outcome(pypi_parser.parse, path, path.name)


@fuzz(80)
@given(data=st.data())
def test_zip_sdist_bytes(seeds, scratch, data):
    path = scratch / seeds["zip_sdist"].name
    path.write_bytes(data.draw(mutated(seeds["zip_sdist"].read_bytes())))
    outcome(pypi_parser.parse, path, path.name)


@fuzz(300)
@given(data=st.data())
def test_core_metadata(seeds, data):
    with zipfile.ZipFile(seeds["wheel"]) as archive:
        raw = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA")))
    outcome(pypi_parser.parse_core_metadata, data.draw(mutated(raw, max_mutations=8)), "fuzzed.whl")


# --- npm --------------------------------------------------------------------------------------


@fuzz(150)
@given(data=st.data())
def test_npm_tarball(npm_seed, scratch, data):
    if data.draw(st.booleans(), label="inside the gzip"):
        raw = gzip.compress(data.draw(mutated(_gunzip(npm_seed))), mtime=0)
    else:
        raw = data.draw(mutated(npm_seed.read_bytes()))
    path = scratch / "fuzzed.tgz"
    path.write_bytes(raw)
    outcome(npm_parser.read_tarball, path)


@fuzz(150)
@given(data=st.data())
def test_npm_package_json_member(npm_seed, scratch, data):
    with tarfile.open(npm_seed) as archive:
        members = [(info, archive.extractfile(info).read() if info.isfile() else b"")
                   for info in archive.getmembers()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, content in members:
            if info.name == "package/package.json":
                content = data.draw(mutated(content, max_mutations=6))
                info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    path = scratch / "fuzzed.tgz"
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    outcome(npm_parser.read_tarball, path)


@fuzz(150)
@given(data=st.data())
def test_npm_publish_document(npm_seed, scratch, data):
    body = json.dumps(publish_document(npm_seed)).encode()
    path = scratch / "publish.json"
    path.write_bytes(data.draw(mutated(body, max_mutations=6)))
    out = scratch / "attachment.tgz"
    with open(out, "wb") as handle:
        parsed = outcome(publish_body.split, path, handle)
    if parsed is not None and parsed[1] is not None:
        outcome(npm_parser.read_tarball, out)


@fuzz(200)
@given(name=st.text(max_size=60), version=st.text(max_size=40))
def test_npm_names_and_versions(name, version):
    outcome(npm_parser.check_name, name)
    outcome(npm_parser.check_version, version)


# --- Maven ------------------------------------------------------------------------------------


POM = b"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>2.0</version></parent>
  <artifactId>lib</artifactId>
  <packaging>jar</packaging>
  <name>Acme ${project.version}</name>
  <properties><guava.version>33.0</guava.version><a>${b}</a><b>${a}</b></properties>
  <licenses><license><name>Apache-2.0</name></license></licenses>
  <dependencies>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId>
      <version>${guava.version}</version></dependency>
  </dependencies>
</project>
"""

METADATA = b"""<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>com.acme</groupId>
  <artifactId>lib</artifactId>
  <versioning>
    <latest>1.1</latest><release>1.1</release>
    <versions><version>1.0</version><version>1.1</version></versions>
    <lastUpdated>20261125040932</lastUpdated>
  </versioning>
</metadata>
"""


@fuzz(300)
@given(data=st.data())
def test_pom(data):
    outcome(pom.parse, data.draw(mutated(POM, max_mutations=8)))


@fuzz(200)
@given(data=st.data())
def test_maven_metadata(data):
    outcome(pom.parse_xml, data.draw(mutated(METADATA, max_mutations=8)), "maven-metadata.xml", "metadata")


@fuzz(200)
@given(data=st.data())
def test_maven_paths(data):
    raw = data.draw(mutated(b"com/acme/lib/1.1-SNAPSHOT/lib-1.1-20261125.040932-3-tests.jar.sha256",
                            max_mutations=6))
    outcome(maven_paths.parse, raw.decode("utf-8", "replace"))


# --- deb --------------------------------------------------------------------------------------


def _deb_parts(deb):
    from debian.arfile import ArFile

    archive = ArFile(str(deb))
    return {member.name: member.read() for member in archive.getmembers()}


@fuzz(120)
@given(data=st.data())
def test_deb_bytes(deb_seeds, scratch, data):
    seed = deb_seeds[data.draw(st.sampled_from(sorted(deb_seeds)), label="compression")]
    path = scratch / "fuzzed.deb"
    path.write_bytes(data.draw(mutated(seed.read_bytes())))
    outcome(deb_parser.read, path, "fuzzed.deb")


@fuzz(150)
@given(data=st.data())
def test_deb_control_tar(deb_seeds, scratch, data):
    """The uncompressed control.tar mutated, then compressed again (gzip)."""
    parts = _deb_parts(deb_seeds["gzip"])
    control_tar = data.draw(mutated(_gunzip_bytes(parts["control.tar.gz"])))
    parts["control.tar.gz"] = gzip.compress(control_tar, mtime=0)
    path = build_ar(scratch / "fuzzed.deb", parts)
    outcome(deb_parser.read, path, "fuzzed.deb")


@fuzz(300)
@given(data=st.data())
def test_deb_control_file(deb_seeds, data):
    parts = _deb_parts(deb_seeds["gzip"])
    with tarfile.open(fileobj=io.BytesIO(parts["control.tar.gz"])) as archive:
        control = archive.extractfile("./control").read()
    outcome(deb_parser.parse_control, data.draw(mutated(control, max_mutations=8)))


def _gunzip_bytes(raw):
    return gzip.decompress(raw)


# --- rpm --------------------------------------------------------------------------------------


@fuzz(120)
@given(data=st.data())
def test_rpm_header(rpm_seed, scratch, data):
    """Mutations aimed at the lead and the headers (where createrepo_c and the digest check
    read), sometimes anywhere."""
    seed = rpm_seed.read_bytes()
    header_end = rpm_parser.read(rpm_seed, rpm_seed.name,
                                 sha256=hashlib.sha256(seed).hexdigest()).header_range[1]
    head = data.draw(mutated(seed[:header_end]))
    raw = head + seed[header_end:]
    if data.draw(st.booleans(), label="the payload too"):
        raw = data.draw(mutated(raw))
    path = scratch / rpm_seed.name
    path.write_bytes(raw)
    outcome(rpm_parser.read, path, rpm_seed.name, sha256=hashlib.sha256(raw).hexdigest())


def test_the_seeds_parse(seeds, npm_seed, deb_seeds, rpm_seed):
    """Unmutated, every seed is a package: the fuzzing starts from valid input."""
    assert pypi_parser.parse(seeds["wheel"], seeds["wheel"].name).name == "fuzzed"
    assert pypi_parser.parse(seeds["sdist"], seeds["sdist"].name).name == "fuzzed"
    assert pypi_parser.parse(seeds["zip_sdist"], seeds["zip_sdist"].name).name == "fuzzed"
    assert npm_parser.read_tarball(npm_seed).manifest["name"] == "@fuzz/pkg"
    assert {deb_parser.read(deb).package for deb in deb_seeds.values()} == {"fuzzed"}
    raw = rpm_seed.read_bytes()
    assert rpm_parser.read(rpm_seed, rpm_seed.name, sha256=hashlib.sha256(raw).hexdigest()).name == "fuzzed"
    assert pom.parse(POM).artifact_id == "lib"
    assert pom.parse_xml(METADATA, "maven-metadata.xml", "metadata").tag == "metadata"
    body = publish_document(npm_seed)
    assert base64.b64decode(body["_attachments"]["@fuzz/pkg-1.2.3.tgz"]["data"]) == npm_seed.read_bytes()
