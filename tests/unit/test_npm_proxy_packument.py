"""What an npm proxy takes from an upstream's packument, and how it names what it asks for:
parse_packument, the digests a tarball is checked against, where a tarball is fetched."""

import base64
import hashlib
import json

import pytest

from formats.npm import proxy
from registry.errors import InvalidInput, UpstreamFailed
from registry.proxy.documents import Unreadable

FULL_TYPE = "application/json"
DATA = b"the bytes of a tarball"


def sri(algorithm, data=DATA):
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def full_packument(name="left-pad"):
    return {
        "_id": name, "_rev": "3-abc", "name": name, "dist-tags": {"latest": "1.1.0"},
        "time": {"created": "2020-01-01T00:00:00.000Z", "modified": "2021-05-06T07:08:09.000Z",
                 "1.0.0": "2020-01-01T00:00:00.000Z", "1.1.0": "2021-05-06T07:08:09.000Z"},
        "readme": "# left-pad", "_attachments": {"x.tgz": {"data": "AAAA"}},
        "versions": {v: {"name": name, "version": v, "description": "pads", "scripts": {"test": "x"},
                         "dependencies": {"a": "^1"}, "engines": {"node": ">=8"},
                         "dist": {"tarball": f"https://elsewhere.example/{name}-{v}.tgz",
                                  "shasum": hashlib.sha1(DATA).hexdigest(),
                                  "integrity": sri("sha512")}}
                     for v in ("1.0.0", "1.1.0")},
    }


def parse(document, content_type=FULL_TYPE, name="left-pad", abbreviated=False):
    return proxy.parse_packument(json.dumps(document).encode(), content_type, name, abbreviated)


def test_a_full_packument_is_kept_as_the_upstream_gave_it_less_attachments():
    kept = parse(full_packument())
    expected = full_packument()
    del expected["_attachments"]
    assert kept == expected


def test_a_full_answer_to_the_abbreviated_request_is_cut_to_the_abbreviated_shape():
    corgi = parse(full_packument(), abbreviated=True)
    assert set(corgi) == {"name", "modified", "dist-tags", "versions"}
    # The upstream's own modification time, not the moment the proxy read it.
    assert corgi["modified"] == "2021-05-06T07:08:09.000Z"
    assert corgi["versions"]["1.1.0"] == {
        "name": "left-pad", "version": "1.1.0", "dependencies": {"a": "^1"},
        "engines": {"node": ">=8"}, "dist": full_packument()["versions"]["1.1.0"]["dist"]}


def test_an_abbreviated_answer_is_kept_as_it_is():
    corgi = {"name": "left-pad", "modified": "2021-05-06T07:08:09.000Z", "dist-tags": {},
             "versions": {}, "time": {"1.0.0": "2020-01-01T00:00:00.000Z"}}
    assert parse(corgi, proxy.ABBREVIATED_TYPE + "; charset=utf-8", abbreviated=True) == corgi


@pytest.mark.parametrize("raw, problem", [
    (b"not json", "not valid JSON"),
    (b"[]", "a JSON object"),
    (json.dumps({"name": "other", "versions": {}}).encode(), "not 'left-pad'"),
    (json.dumps({"name": "left-pad", "versions": []}).encode(), "'versions'"),
    (json.dumps({"name": "left-pad", "versions": {"1.0.0": "x"}}).encode(), "'versions'"),
    (json.dumps({"name": "left-pad", "versions": {}, "dist-tags": []}).encode(), "'dist-tags'"),
    (b'{"name": "left-pad", "versions": {}, "readme": "a\\u0000b"}', "NUL"),
    (b'{"name": "left-pad", "versions": {}, "readme": "\\ud800"}', "not valid JSON"),
])
def test_unreadable_packuments(raw, problem):
    with pytest.raises(Unreadable, match=problem):
        proxy.parse_packument(raw, FULL_TYPE, "left-pad", False)


def test_versions_that_are_not_semantic_versions_are_left_out():
    document = full_packument()
    document["versions"]["../../../-/x"] = document["versions"]["1.0.0"]
    document["versions"]["1.0"] = document["versions"]["1.0.0"]
    assert sorted(parse(document)["versions"]) == ["1.0.0", "1.1.0"]
    assert sorted(parse(document, abbreviated=True)["versions"]) == ["1.0.0", "1.1.0"]


def test_a_readme_that_writes_the_nul_escape_as_text_is_fine():
    document = {"name": "left-pad", "versions": {}, "readme": "write \\u0000 for NUL"}
    assert parse(document)["readme"] == document["readme"]


def test_digests_from_integrity_and_shasum():
    dist = {"integrity": f"{sri('sha512')} {sri('sha256')}", "shasum": hashlib.sha1(DATA).hexdigest()}
    assert proxy.digests_of(dist) == {"sha512": hashlib.sha512(DATA).hexdigest(),
                                      "sha256": hashlib.sha256(DATA).hexdigest(),
                                      "sha1": hashlib.sha1(DATA).hexdigest()}
    # Old packages: a sha1 SRI, or only a shasum; nothing usable → nothing (the core refuses).
    assert proxy.digests_of({"integrity": sri("sha1")}) == {"sha1": hashlib.sha1(DATA).hexdigest()}
    assert proxy.digests_of({"integrity": "md5-AAAA sha512-!!notbase64", "shasum": "short"}) == {}
    with pytest.raises(UpstreamFailed, match="two different sha1"):
        proxy.digests_of({"integrity": sri("sha1"), "shasum": "0" * 40})


def test_tarballs_are_fetched_from_the_upstream_origin_only():
    upstream = "http://10.0.0.5:4873/npm/"
    same = "http://10.0.0.5:4873/npm/@s/n/-/n-1.0.0.tgz?x=1"
    assert proxy.upstream_tarball_url(upstream, "@s/n", "1.0.0", same) == same
    for elsewhere in ("https://10.0.0.5:4873/npm/@s/n/-/n-1.0.0.tgz", "http://10.0.0.5/x.tgz",
                      "http://attacker.example/n-1.0.0.tgz", None, 42):
        assert (proxy.upstream_tarball_url(upstream, "@s/n", "1.0.0", elsewhere)
                == "http://10.0.0.5:4873/npm/@s/n/-/n-1.0.0.tgz")


def test_names_as_asked_for_upstream_and_refused():
    assert proxy.escaped("@scope/name") == "@scope%2fname"
    assert proxy.escaped("JSONStream") == "JSONStream"
    assert proxy.check_name("JSONStream") == "JSONStream"  # legacy capitals are still read
    for bad in ("@scope/..", "a b", "@/x", "@s/", "x" * 215, "a%2e", "@s/n?x"):
        with pytest.raises(InvalidInput):
            proxy.check_name(bad)
    assert proxy.document_keys("@s/n") == ["npm/abbreviated/@s/n", "npm/full/@s/n"]
