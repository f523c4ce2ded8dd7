"""The PyPI protocol story: upload → index → download → duplicate → yank → delete, with the
HTTP answers and the rows checked at each step; then every bad input and every persona."""

import hashlib
import os
import re

import pytest

from registry.models import AuditEvent, Blob, FileTombstone, PackageFile, PackageVersion
from tests.fixtures.dists import build_sdist, build_wheel, core_metadata

from .pypi_helpers import JSON, sha256, simple_json, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def wheel(tmp_path):
    return build_wheel(tmp_path, "Alpha_Lib", "1.0", requires_dist=["beta>=1.0"],
                       requires_python=">=3.8")


def test_upload_index_download_story(client, personas, repositories, wheel, tmp_path):
    writer = personas["writer"]

    response = upload(client, "private-py", wheel, writer)
    assert response.status_code == 200, response.content
    stored = PackageFile.objects.get(repository=repositories["private"])
    assert stored.path == "packages/alpha-lib/alpha_lib-1.0-py3-none-any.whl"
    assert stored.blob_id == sha256(wheel)
    assert stored.version.package.name == "Alpha_Lib"
    assert stored.version.uploader == writer.user
    event = AuditEvent.objects.get(action="file.upload")
    assert (event.username, event.repository_name, event.package_name, event.version) == (
        "writer", "private-py", "Alpha_Lib", "1.0")
    assert event.token_prefix == writer.token[:12]

    # The index, in JSON (PEP 691 + 700 + 658/714).
    index = simple_json(client, "private-py", "alpha-lib", personas["reader"])
    assert index["meta"]["api-version"] == "1.1"
    assert index["name"] == "Alpha_Lib"
    assert index["versions"] == ["1.0"]
    [entry] = index["files"]
    assert entry["filename"] == wheel.name
    assert entry["hashes"] == {"sha256": sha256(wheel)}
    assert entry["requires-python"] == ">=3.8"
    assert entry["yanked"] is False
    assert entry["size"] == wheel.stat().st_size
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry["upload-time"])
    assert entry["core-metadata"] == {"sha256": entry["core-metadata"]["sha256"]}
    # PEP 714: the old name is forbidden in JSON (pip 22.3 to 23.1 crash on it).
    assert "dist-info-metadata" not in entry
    assert entry["url"] == "http://testserver/repository/private-py/" + stored.path

    # The same page in HTML (PEP 503), with the escaped requires-python.
    response = client.get("/repository/private-py/simple/alpha-lib/", HTTP_ACCEPT="text/html",
                          **personas["reader"].auth)
    html = response.content.decode()
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta name="pypi:repository-version" content="1.1">' in html
    assert f'#sha256={sha256(wheel)}"' in html
    assert 'data-requires-python="&gt;=3.8"' in html
    assert f'data-core-metadata="sha256={entry["core-metadata"]["sha256"]}"' in html
    # PEP 714 allows the PEP 658 spelling in HTML, and pip before 23.2 reads only that one.
    assert f'data-dist-info-metadata="sha256={entry["core-metadata"]["sha256"]}"' in html

    # Download: the bytes, byte for byte; the .metadata file matches its advertised hash.
    response = client.get(f"/repository/private-py/{stored.path}", **personas["reader"].auth)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == wheel.read_bytes()
    response = client.get(f"/repository/private-py/{stored.path}.metadata", **personas["reader"].auth)
    metadata = b"".join(response.streaming_content)
    assert hashlib.sha256(metadata).hexdigest() == entry["core-metadata"]["sha256"]
    assert metadata.startswith(b"Metadata-Version: 2.1\nName: Alpha_Lib\n")

    # The project list.
    response = client.get("/repository/private-py/simple/", HTTP_ACCEPT=JSON, **personas["reader"].auth)
    assert response.json()["projects"] == [{"name": "Alpha_Lib"}]


def test_identical_reupload_succeeds_and_other_bytes_are_refused(client, personas, wheel, tmp_path):
    writer = personas["writer"]
    assert upload(client, "private-py", wheel, writer).status_code == 200
    assert upload(client, "private-py", wheel, writer).status_code == 200
    assert PackageFile.objects.count() == 1
    assert AuditEvent.objects.filter(action="file.upload").count() == 1

    (tmp_path / "other").mkdir()
    other = build_wheel(tmp_path / "other", "Alpha_Lib", "1.0", module_source="CHANGED = True\n")
    response = upload(client, "private-py", other, writer)
    assert response.status_code == 400
    assert response.reason_phrase.startswith("File already exists")
    assert b"File already exists" in response.content
    assert PackageFile.objects.get().blob_id == sha256(wheel)


def test_legacy_upload_url_and_sdist(client, personas, tmp_path):
    sdist = build_sdist(tmp_path, "beta", "1.0")
    response = upload(client, "private-py", sdist, personas["writer"], url_suffix="legacy/")
    assert response.status_code == 200
    assert PackageFile.objects.get().metadata["filetype"] == "sdist"
    [entry] = simple_json(client, "private-py", "beta", personas["reader"])["files"]
    assert entry["core-metadata"] is False


def test_versions_sort_by_pep440(client, personas, tmp_path):
    for version in ["1.10", "1.9", "1.0rc1", "1.0"]:
        upload(client, "private-py", build_sdist(tmp_path, "beta", version), personas["writer"])
    index = simple_json(client, "private-py", "beta", personas["reader"])
    assert index["versions"] == ["1.0rc1", "1.0", "1.9", "1.10"]
    assert [f["filename"] for f in index["files"]] == [
        "beta-1.0rc1.tar.gz", "beta-1.0.tar.gz", "beta-1.9.tar.gz", "beta-1.10.tar.gz"]


def test_name_normalisation_redirects(client, personas, wheel):
    upload(client, "public-py", wheel, personas["writer"])
    response = client.get("/repository/public-py/simple/Alpha.Lib/?format=json")
    assert response.status_code == 301
    assert response["Location"] == "/repository/public-py/simple/alpha-lib/?format=json"
    response = client.get("/repository/public-py/simple/alpha-lib")
    assert response.status_code == 301
    assert response["Location"] == "/repository/public-py/simple/alpha-lib/"
    assert client.get("/repository/public-py/simple/nothing-here/").status_code == 404


def test_content_negotiation(client, personas, wheel):
    upload(client, "public-py", wheel, personas["writer"])
    url = "/repository/public-py/simple/alpha-lib/"
    pip_accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
    response = client.get(url, HTTP_ACCEPT=pip_accept)
    assert response["Content-Type"] == JSON
    assert "Accept" in response["Vary"]
    response = client.get(url, HTTP_ACCEPT="application/vnd.pypi.simple.v1+html")
    assert response["Content-Type"] == "application/vnd.pypi.simple.v1+html; charset=utf-8"
    assert client.get(url, HTTP_ACCEPT="application/xml").status_code == 406
    assert client.get(url + "?format=application/vnd.pypi.simple.v1+json",
                      HTTP_ACCEPT="text/html")["Content-Type"] == JSON


def test_etag_and_invalidation_on_upload(client, personas, tmp_path):
    upload(client, "public-py", build_sdist(tmp_path, "beta", "1.0"), personas["writer"])
    url = "/repository/public-py/simple/beta/"
    first = client.get(url, HTTP_ACCEPT=JSON)
    etag = first["ETag"]
    assert first["Cache-Control"] == "max-age=0, no-cache"
    private = client.get("/repository/private-py/simple/", **personas["reader"].auth)
    assert private["Cache-Control"] == "private, max-age=0, no-cache"
    not_modified = client.get(url, HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    # A cache (Poetry's) takes the 304's Content-Type for the page it keeps.
    assert not_modified["Content-Type"] == first["Content-Type"] == JSON
    root_etag = client.get("/repository/public-py/simple/")["ETag"]

    upload(client, "public-py", build_sdist(tmp_path, "beta", "2.0"), personas["writer"])

    response = client.get(url, HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["versions"] == ["1.0", "2.0"]
    assert client.get("/repository/public-py/simple/", HTTP_IF_NONE_MATCH=root_etag).status_code == 200
    # JSON and HTML are different representations: different ETags.
    assert client.get(url, HTTP_ACCEPT="text/html")["ETag"] != response["ETag"]


def test_yank_and_unyank_show_in_the_index(client, personas, tmp_path):
    upload(client, "public-py", build_sdist(tmp_path, "beta", "1.0"), personas["writer"])
    version = PackageVersion.objects.get()
    url = f"/api/v1/versions/{version.pk}/"

    response = client.post(url + "yank/", {"reason": "broken <build>"},
                           content_type="application/json", **personas["owner"].auth)
    assert response.status_code == 200, response.content
    [entry] = simple_json(client, "public-py", "beta")["files"]
    assert entry["yanked"] == "broken <build>"
    html = client.get("/repository/public-py/simple/beta/").content.decode()
    assert 'data-yanked="broken &lt;build&gt;"' in html
    assert AuditEvent.objects.filter(action="version.yank", version="1.0").exists()

    # A writer may upload but not yank (yanking is the owners' call, as on PyPI).
    assert client.post(url + "unyank/", **personas["writer"].auth).status_code == 403
    assert client.post(url + "unyank/", **personas["owner"].auth).status_code == 200
    [entry] = simple_json(client, "public-py", "beta")["files"]
    assert entry["yanked"] is False


def test_yank_without_reason_is_true_in_json(client, personas, tmp_path):
    upload(client, "public-py", build_sdist(tmp_path, "beta", "1.0"), personas["writer"])
    version = PackageVersion.objects.get()
    client.post(f"/api/v1/versions/{version.pk}/yank/", **personas["owner"].auth)
    assert simple_json(client, "public-py", "beta")["files"][0]["yanked"] is True
    assert 'data-yanked=""' in client.get("/repository/public-py/simple/beta/").content.decode()


def test_delete_version_tombstones_the_filename(client, personas, wheel, settings,
                                                django_capture_on_commit_callbacks):
    upload(client, "public-py", wheel, personas["writer"])
    version = PackageVersion.objects.get()
    blob_path = (settings.STORAGES["blobs"]["OPTIONS"]["location"] + "/"
                 + Blob.objects.get(sha256=sha256(wheel)).storage_key)

    assert client.delete(f"/api/v1/versions/{version.pk}/", **personas["writer"].auth).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/versions/{version.pk}/", **personas["owner"].auth)
    assert response.status_code == 204

    assert not PackageVersion.objects.exists()
    assert FileTombstone.objects.filter(path__endswith=wheel.name).exists()
    assert not Blob.objects.filter(sha256=sha256(wheel)).exists()
    assert not os.path.exists(blob_path)
    assert AuditEvent.objects.filter(action="version.delete", username="owner").exists()
    assert client.get("/repository/public-py/simple/alpha-lib/").status_code == 404

    response = upload(client, "public-py", wheel, personas["writer"])
    assert response.status_code == 400
    assert "cannot be used again" in response.reason_phrase


# Bad input: a clear 4xx with the message in the reason phrase (twine prints it), nothing stored.

def _refused(response, fragment, status=400):
    assert response.status_code == status, response.content
    assert fragment in response.reason_phrase, response.reason_phrase
    assert fragment in response.content.decode()
    assert not PackageFile.objects.exists()
    assert not Blob.objects.exists()


def test_truncated_wheel(client, personas, wheel):
    wheel.write_bytes(wheel.read_bytes()[:100])
    _refused(upload(client, "private-py", wheel, personas["writer"]), "not a valid zip archive")


def test_sdist_without_pkg_info(client, personas, tmp_path):
    sdist = build_sdist(tmp_path, "beta", "1.0", include_pkg_info=False)
    _refused(upload(client, "private-py", sdist, personas["writer"]), "no PKG-INFO")


def test_filename_version_differs_from_metadata(client, personas, tmp_path):
    wheel = build_wheel(tmp_path, "beta", "1.0", metadata=core_metadata("beta", "1.1"))
    _refused(upload(client, "private-py", wheel, personas["writer"]), "does not match the version")


def test_invalid_version(client, personas, tmp_path):
    sdist = build_sdist(tmp_path, "beta", "1.0", pkg_info=core_metadata("beta", "1.0-what"))
    _refused(upload(client, "private-py", sdist, personas["writer"]), "Invalid metadata")


@pytest.mark.parametrize("filename", ["../beta-1.0.tar.gz", "sub/beta-1.0.tar.gz",
                                      "..\\beta-1.0.tar.gz", "beta\x01-1.0.tar.gz"])
def test_traversal_and_control_characters_in_filename(client, personas, tmp_path, filename):
    # Django's test client keeps only the base name, so the body is built by hand.
    sdist = build_sdist(tmp_path, "beta", "1.0")
    boundary = "----boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{filename}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + sdist.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/repository/private-py/", body,
                           content_type=f"multipart/form-data; boundary={boundary}",
                           **personas["writer"].auth)
    _refused(response, "Invalid file name")


def test_empty_file(client, personas, tmp_path):
    empty = tmp_path / "beta-1.0.tar.gz"
    empty.write_bytes(b"")
    _refused(upload(client, "private-py", empty, personas["writer"]), "the file is empty")


def test_wrong_digest(client, personas, wheel):
    _refused(upload(client, "private-py", wheel, personas["writer"], sha256_digest="0" * 64),
             "sha256_digest sent does not match")


def test_blake2_checked_when_alone(client, personas, wheel):
    _refused(upload(client, "private-py", wheel, personas["writer"], sha256_digest="",
                    md5_digest="", blake2_256_digest="ab" * 32), "blake2_256_digest")


def test_form_name_must_match_archive(client, personas, wheel):
    _refused(upload(client, "private-py", wheel, personas["writer"], name="someone-else"),
             "does not match the metadata")


def test_missing_file(client, personas):
    response = client.post("/repository/private-py/", {":action": "file_upload"}, **personas["writer"].auth)
    assert response.status_code == 400
    assert "does not have a file" in response.reason_phrase


def test_over_the_size_limit(client, personas, wheel, settings):
    settings.MAX_UPLOAD_SIZE = 100
    _refused(upload(client, "private-py", wheel, personas["writer"]), "exceeds the limit", status=413)


# Who may do what: the personas.

@pytest.mark.parametrize("persona, status", [
    ("owner", 200), ("writer", 200), ("reader", 403), ("outsider", 404), (None, 401),
])
def test_upload_rights_on_a_private_repository(client, personas, wheel, persona, status):
    response = upload(client, "private-py", wheel, personas.get(persona))
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Basic realm="registry"'
    assert PackageFile.objects.exists() == (status == 200)


def test_read_only_token_of_a_writer_is_refused(client, personas, wheel):
    from registry.services import tokens

    _token, secret = tokens.create_token(personas["writer"].user, "ro", scope="read")
    response = client.post("/repository/private-py/", {}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    assert "scope is read" in response.reason_phrase


@pytest.mark.parametrize("persona, status", [
    ("owner", 200), ("writer", 200), ("reader", 200), ("outsider", 404), (None, 401),
])
def test_read_rights_on_a_private_repository(client, personas, persona, status):
    headers = personas[persona].auth if persona else {}
    response = client.get("/repository/private-py/simple/", **headers)
    assert response.status_code == status
    # Whoever may not read gets the same answer as for a repository that does not exist.
    missing = client.get("/repository/no-such-repo/simple/", **headers)
    if status != 200:
        assert missing.status_code == status


def test_public_repository_is_readable_anonymously_but_not_writable(client, personas, wheel):
    assert client.get("/repository/public-py/simple/").status_code == 200
    response = upload(client, "public-py", wheel)
    assert response.status_code == 401
    response = upload(client, "public-py", wheel, personas["outsider"])
    assert response.status_code == 403


def test_browser_session_cannot_upload(client, personas, wheel):
    """A logged-in browser must not be a way to write without CSRF protection."""
    client.force_login(personas["owner"].user)
    assert client.get("/repository/private-py/simple/").status_code == 200
    assert upload(client, "private-py", wheel).status_code == 401
