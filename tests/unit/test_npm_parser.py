"""The npm parser on tarballs made by the real `npm pack`, names, semver ordering, and taking a
publish body apart without holding the tarball in memory."""

import base64
import hashlib
import io
import json

import pytest
import semver

from formats.npm import parser, publish_body
from registry.errors import InvalidPackage
from tests.fixtures.npm_packages import make_tarball, npm_pack, publish_document


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packed")
    return npm_pack(folder, "@acme/widget", "1.2.3-beta.1", dependencies={"left-pad": "^1.3.0"},
                    readme="# Widget\n\nDoes things.\n")


def test_npm_pack_tarball_is_read(packed):
    contents = parser.read_tarball(packed)
    assert contents.manifest["name"] == "@acme/widget"
    assert contents.manifest["version"] == "1.2.3-beta.1"
    assert contents.manifest["dependencies"] == {"left-pad": "^1.3.0"}
    assert contents.readme == "# Widget\n\nDoes things.\n"
    assert contents.readme_filename == "README.md"


@pytest.mark.parametrize("members, top, message", [
    ({"index.js": b"x"}, "package", "no package/package.json"),
    ({"package.json": b"{not json"}, "package", "package.json in the tarball is not valid JSON"),
    ({"package.json": b"[1, 2]"}, "package", "package.json in the tarball must be a JSON object"),
    ({"package.json": b'{"name": "x", "version": "1.0.0"}'}, "", "no package/package.json"),
])
def test_broken_tarballs(tmp_path, members, top, message):
    path = make_tarball(tmp_path / "broken.tgz", members, top=top)
    with pytest.raises(InvalidPackage, match=message):
        parser.read_tarball(path)


def test_another_top_folder_name_is_accepted(tmp_path):
    path = make_tarball(tmp_path / "t.tgz", {"package.json": b'{"name": "a", "version": "1.0.0"}'},
                        top="a-1.0.0")
    assert parser.read_tarball(path).manifest["name"] == "a"


@pytest.mark.parametrize("data, message", [
    (b"plain text, not gzip", "not a gzipped tar"),
    (b"", "not a gzipped tar"),
])
def test_not_gzip(tmp_path, data, message):
    path = tmp_path / "x.tgz"
    path.write_bytes(data)
    with pytest.raises(InvalidPackage, match=message):
        parser.read_tarball(path)


def test_gzip_but_not_tar(tmp_path):
    import gzip

    path = tmp_path / "x.tgz"
    path.write_bytes(gzip.compress(b"just some text that is not a tar archive" * 20))
    with pytest.raises(InvalidPackage, match="not a gzipped tar"):
        parser.read_tarball(path)


def test_truncated_tarball(tmp_path, packed):
    path = tmp_path / "cut.tgz"
    path.write_bytes(packed.read_bytes()[:200])
    with pytest.raises(InvalidPackage, match="not a gzipped tar"):
        parser.read_tarball(path)


@pytest.mark.parametrize("name", [
    "a", "left-pad", "@acme/util", "@a/b.c", "a.b_c-d", "x" * 214, "lodash.get",
])
def test_valid_names(name):
    parser.check_name(name)


@pytest.mark.parametrize("name, problem", [
    ("", "empty"),
    ("Upper", "uppercase"),
    ("@Acme/util", "uppercase"),
    ("..", "period"),
    ("@acme/..", "URL-safe|period"),
    ("../../etc", "period|URL-safe"),
    (".hidden", "period"),
    ("_under", "underscore"),
    ("a b", "URL-safe"),
    ("a/b", "URL-safe"),
    ("@acme", "scoped"),
    ("@acme/a/b", "scoped"),
    ("x" * 215, "longer than 214"),
    ("node_modules", "not allowed"),
    ("a!", "~'!"),
    (" a", "spaces"),
    ("a%2fb", "URL-safe"),
])
def test_invalid_names(name, problem):
    with pytest.raises(InvalidPackage, match=problem):
        parser.check_name(name)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "latest", "", "1.0.0.0"])
def test_invalid_versions(version):
    with pytest.raises(InvalidPackage, match="Invalid version"):
        parser.check_version(version)


def test_semver_precedence():
    # The order of the SemVer 2.0.0 specification, section 11, plus numeric comparisons.
    ordered = ["0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
               "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0",
               "2.0.0-0", "2.0.0-a.x", "2.0.0-a-b", "2.0.0", "10.0.0"]
    keys = [parser.sort_key(v) for v in ordered]
    assert sorted(ordered, key=parser.sort_key) == ordered
    assert len(set(keys)) == len(keys)
    # The same order as the semver library's own comparison, pair by pair.
    for lower, higher in zip(ordered, ordered[1:]):
        assert semver.Version.parse(lower).compare(higher) == -1, (lower, higher)


def test_build_metadata_does_not_count():
    assert parser.sort_key("1.0.0+build.1") == parser.sort_key("1.0.0")


def test_tarball_filename():
    assert parser.tarball_filename("@acme/util", "1.0.0") == "util-1.0.0.tgz"
    assert parser.tarball_filename("left-pad", "1.3.0") == "left-pad-1.3.0.tgz"


# --- the publish body ---------------------------------------------------------------------


def _split(tmp_path, document_bytes):
    body = tmp_path / "body.json"
    body.write_bytes(document_bytes)
    out = io.BytesIO()
    document, attachment = publish_body.split(body, out)
    return document, attachment, out.getvalue()


def test_publish_body_gives_the_document_and_the_tarball(tmp_path, packed):
    document = publish_document(packed)
    parsed, attachment, data = _split(tmp_path, json.dumps(document).encode())
    assert data == packed.read_bytes()
    assert attachment == "@acme/widget-1.2.3-beta.1.tgz"
    assert parsed["versions"]["1.2.3-beta.1"]["dependencies"] == {"left-pad": "^1.3.0"}
    assert parsed["_attachments"][attachment]["data"] == ""


def test_publish_body_decodes_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(publish_body, "DECODE_CHUNK", 8)
    payload = bytes(range(256)) * 3
    document = {"name": "a", "_attachments": {"a-1.0.0.tgz": {
        "data": base64.b64encode(payload).decode(), "length": len(payload)}}}
    _parsed, _name, data = _split(tmp_path, json.dumps(document, indent=2).encode())
    assert data == payload


def test_metadata_document_without_attachments(tmp_path):
    document = {"name": "a", "versions": {"1.0.0": {"data": "abc", "deprecated": "no"}}}
    parsed, attachment, data = _split(tmp_path, json.dumps(document).encode())
    assert attachment is None and data == b""
    assert parsed == document


def test_a_data_field_elsewhere_is_not_taken_for_the_tarball(tmp_path):
    document = {"name": "a", "versions": {"1.0.0": {"data": "QUFBQUFBQUFBQUFBQUFBQUFBQUFB"}},
                "_attachments": {"a-1.0.0.tgz": {"data": "QUJD", "length": 3}}}
    with pytest.raises(InvalidPackage, match="Could not read the tarball"):
        _split(tmp_path, json.dumps(document).encode())


@pytest.mark.parametrize("raw, message", [
    (b"", "Empty request body"),
    (b"{nope", "not valid JSON"),
    (b"[1]", "must be a JSON object"),
    (b'{"_attachments": {"a.tgz": {"data": "QUJ"}}}', "not valid base64"),
    (b'{"_attachments": [], "x": {"data": "QUJD"}}', "no _attachments object"),
])
def test_broken_publish_bodies(tmp_path, raw, message):
    with pytest.raises(InvalidPackage, match=message):
        _split(tmp_path, raw)


def test_publish_body_digest_is_of_the_decoded_bytes(tmp_path, packed):
    document = publish_document(packed)
    _parsed, _name, data = _split(tmp_path, json.dumps(document).encode())
    assert hashlib.sha512(data).hexdigest() == hashlib.sha512(packed.read_bytes()).hexdigest()
