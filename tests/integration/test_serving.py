"""Downloads as clients and caches ask for them: GET/HEAD, validators and 304, byte ranges,
If-Range, the X-Accel-Redirect hand-off to nginx, and PEP 658 metadata files."""

import hashlib

import pytest

from registry.models import PackageFile
from tests.fixtures.dists import build_wheel

from .pypi_helpers import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(client, personas, tmp_path):
    """A wheel in the public repository: (download URL, its bytes, its row)."""
    # A module body of some size, so ranges fall inside real bytes.
    wheel = build_wheel(tmp_path, "served", "1.0", module_source="DATA = %r\n" % ("x" * 5000))
    response = upload(client, "public-py", wheel, personas["writer"])
    assert response.status_code == 200, response.content
    row = PackageFile.objects.get(repository__name="public-py")
    return f"/repository/public-py/{row.path}", wheel.read_bytes(), row


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_get_sends_the_bytes_with_validators(client, stored):
    url, data, row = stored
    response = client.get(url)
    assert response.status_code == 200
    assert body(response) == data
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{row.filename}"'
    assert "Last-Modified" in response
    assert "max-age" in response["Cache-Control"]


def test_head_has_the_headers_and_no_body(client, stored):
    url, data, _row = stored
    response = client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'


def test_conditional_requests_answer_304(client, stored):
    url, data, _row = stored
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    response = client.get(url, HTTP_IF_NONE_MATCH='"other"', HTTP_IF_MODIFIED_SINCE=modified)
    assert response.status_code == 200
    not_modified = client.head(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    # Caches merge a 304's headers into what they keep: the file's type, not text/html.
    assert not_modified["Content-Type"] == first["Content-Type"] != "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "header, span",
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, None)),
        ("bytes=-64", (-64, None)),
        ("bytes=10-10", (10, 10)),
        ("bytes=50-999999999", (50, None)),
    ],
)
def test_single_ranges_answer_206(client, stored, header, span):
    url, data, _row = stored
    size = len(data)
    start, end = span
    start = size + start if start < 0 else start
    end = size - 1 if end is None else end
    response = client.get(url, HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == data[start:end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)


def test_unsatisfiable_range_answers_416(client, stored):
    url, data, _row = stored
    for header in (f"bytes={len(data)}-", "bytes=-0", "bytes=20-10"):
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == f"bytes */{len(data)}"


def test_ranges_we_do_not_split_get_the_whole_file(client, stored):
    url, data, _row = stored
    for header in ("bytes=0-1,5-6", "lines=1-2", "bytes=x-y"):
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert body(response) == data


def test_if_range_with_another_version_sends_everything(client, stored):
    url, data, _row = stored
    etag = client.head(url)["ETag"]
    partial = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert partial.status_code == 206 and body(partial) == data[:10]
    whole = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"an-older-version"')
    assert whole.status_code == 200 and body(whole) == data


def test_head_of_a_range(client, stored):
    url, data, _row = stored
    response = client.head(url, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response["Content-Range"] == f"bytes 0-9/{len(data)}"


def test_metadata_file_is_the_wheel_metadata(client, stored):
    url, _data, row = stored
    response = client.get(url + ".metadata")
    assert response.status_code == 200
    metadata = body(response)
    assert metadata.startswith(b"Metadata-Version: 2.1\nName: served\nVersion: 1.0\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["ETag"] == f'"{hashlib.sha256(metadata).hexdigest()}"'
    assert row.metadata_blob_id == hashlib.sha256(metadata).hexdigest()


def test_missing_files_are_404(client, stored):
    url, _data, _row = stored
    assert client.get(url.replace("served-1.0", "served-2.0")).status_code == 404
    assert client.head("/repository/public-py/packages/served/nothing.whl").status_code == 404


def test_writes_to_a_download_url_are_refused(client, stored, personas):
    url, _data, _row = stored
    response = client.delete(url, **personas["owner"].auth)
    assert response.status_code == 405


def test_x_accel_hands_the_file_to_nginx(client, stored, settings):
    url, data, row = stored
    settings.SERVE_MODE = "x-accel"
    settings.X_ACCEL_PREFIX = "/_blobs/"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/_blobs/{row.blob.storage_key}"
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{row.filename}"'
    # Conditional requests are still answered here, without bothering nginx.
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_private_files_are_not_for_shared_caches(client, personas, tmp_path):
    wheel = build_wheel(tmp_path, "secret", "1.0")
    assert upload(client, "private-py", wheel, personas["writer"]).status_code == 200
    row = PackageFile.objects.get(repository__name="private-py")
    url = f"/repository/private-py/{row.path}"
    assert client.get(url).status_code == 401
    response = client.get(url, **personas["reader"].auth)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
