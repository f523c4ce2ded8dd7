"""Reading an upstream's simple index (formats/pypi/upstream_index.py): the pages PEP 503/691
servers send, and what must not pass into our pages."""

import json

import pytest

from formats.pypi import upstream_index

SHA = "a" * 64
META = "b" * 64
BASE = "https://upstream.example/simple/demo/"


def test_json_page_keeps_every_field_and_resolves_urls():
    page = {
        "meta": {"api-version": "1.1"}, "name": "Demo", "versions": ["1.0", "2.0"],
        "files": [
            {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
             "hashes": {"sha256": SHA.upper(), "md5": "c" * 32}, "requires-python": ">=3.8",
             "yanked": "broken", "core-metadata": {"sha256": META}, "size": 1234,
             "upload-time": "2024-01-02T03:04:05.678901Z"},
            # PEP 658's older key, read when the PEP 714 one is missing.
            {"filename": "demo-2.0.tar.gz", "url": "https://cdn.example/demo-2.0.tar.gz#sha256=x",
             "hashes": {"sha256": SHA}, "yanked": True, "dist-info-metadata": {"sha256": META}},
        ],
    }
    parsed = upstream_index.parse_project(json.dumps(page).encode(), upstream_index.JSON_TYPE, BASE)
    assert parsed["name"] == "Demo" and parsed["versions"] == ["1.0", "2.0"]
    first, second = parsed["files"]
    assert first == {
        "filename": "demo-1.0-py3-none-any.whl", "url": "https://upstream.example/files/demo-1.0-py3-none-any.whl",
        "sha256": SHA, "requires_python": ">=3.8", "yanked": "broken", "metadata_sha256": META,
        "size": 1234, "upload_time": "2024-01-02T03:04:05.678901Z",
    }
    assert second["url"] == "https://cdn.example/demo-2.0.tar.gz"
    assert second["yanked"] == "" and second["metadata_sha256"] == META
    assert second["size"] is None and second["upload_time"] is None


def test_html_page_with_base_href_yanked_and_metadata():
    html = f"""<!DOCTYPE html><html><head><base href="https://files.example/pkgs/"></head><body>
    <a href="demo-1.0.tar.gz#sha256={SHA}" data-requires-python="&gt;=3.9" data-yanked="">demo-1.0.tar.gz</a>
    <a href="demo-1.1-py3-none-any.whl#sha256={SHA}" data-dist-info-metadata="sha256={META}">demo-1.1-py3-none-any.whl</a>
    <a href="demo-1.2.tar.gz#sha256={SHA}" data-core-metadata="true">demo-1.2.tar.gz</a>
    </body></html>""".encode()
    parsed = upstream_index.parse_project(html, "text/html; charset=utf-8", BASE)
    files = {f["filename"]: f for f in parsed["files"]}
    assert files["demo-1.0.tar.gz"]["url"] == "https://files.example/pkgs/demo-1.0.tar.gz"
    assert files["demo-1.0.tar.gz"]["requires_python"] == ">=3.9"
    assert files["demo-1.0.tar.gz"]["yanked"] == ""
    assert files["demo-1.1-py3-none-any.whl"]["yanked"] is False
    assert files["demo-1.1-py3-none-any.whl"]["metadata_sha256"] == META
    # "true" without a hash: nothing to verify the metadata file against, so none is offered.
    assert files["demo-1.2.tar.gz"]["metadata_sha256"] is None
    assert upstream_index.versions_of(parsed["files"]) == ["1.0", "1.1", "1.2"]


@pytest.mark.parametrize("filename, href", [
    ("demo-1.0.tar.gz", "demo-1.0.tar.gz"),                      # no hash to verify against
    ("demo-1.0.tar.gz", "demo-1.0.tar.gz#md5=" + "c" * 32),       # no sha256
    ("../evil.tar.gz", f"evil.tar.gz#sha256={SHA}"),                # a path, not a file name
    ("demo\n-1.0.tar.gz", f"x.tar.gz#sha256={SHA}"),              # a control character
    ("demo-1.0.tar.gz", f"file:///etc/passwd#sha256={SHA}"),       # not http(s)
    ("demo-1.0.tar.gz", f"javascript:alert(1)#sha256={SHA}"),
])
def test_files_that_cannot_be_verified_or_echoed_safely_are_left_out(filename, href):
    page = {"meta": {"api-version": "1.0"}, "name": "demo",
            "files": [{"filename": filename, "url": href,
                       "hashes": {"sha256": href.split("sha256=")[1]} if "sha256=" in href else {}}]}
    parsed = upstream_index.parse_project(json.dumps(page).encode(), upstream_index.JSON_TYPE, BASE)
    assert parsed["files"] == []


def test_project_list_from_json_and_html():
    as_json = json.dumps({"meta": {"api-version": "1.0"},
                          "projects": [{"name": "Zeta"}, {"name": "alpha"}, {"name": "bad name!"}]})
    assert upstream_index.parse_project_list(as_json.encode(), upstream_index.JSON_TYPE) == {
        "projects": ["alpha", "Zeta"]}
    as_html = b'<html><body><a href="/simple/beta/">beta</a><a href="/simple/a/">a</a></body></html>'
    assert upstream_index.parse_project_list(as_html, "text/html") == {"projects": ["a", "beta"]}


@pytest.mark.parametrize("body", [b"{not json", b'{"files": 3}', b"[]"])
def test_unreadable_json_is_refused(body):
    with pytest.raises(upstream_index.UnreadableIndex):
        upstream_index.parse_project(body, upstream_index.JSON_TYPE, BASE)
