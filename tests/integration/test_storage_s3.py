"""Blobs on S3: the same uploads and downloads with the blob store on a real S3-speaking
server (moto's standalone server, a separate process, over HTTP) through boto3 and
django-storages — no patching of the client."""

import hashlib
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from registry.models import Blob, PackageFile
from tests.fixtures.dists import build_wheel
from tests.fixtures.s3_server import CREDENTIALS, REGION, moto_server

from .pypi_helpers import upload

pytestmark = pytest.mark.django_db

@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket per test, configured as the blob store the way settings.py does it."""
    name = f"blobs-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                          config=Config(s3={"addressing_style": "path"}), **CREDENTIALS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "location": "registry",
                "file_overwrite": True,
                "default_acl": None,
                "querystring_expire": 300,
                "addressing_style": "path",
                "signature_version": "s3v4",
            },
        },
    }
    return client, name


def _keys(bucket):
    client, name = bucket
    listing = client.list_objects_v2(Bucket=name)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_upload_stores_the_blob_in_the_bucket(client, personas, bucket, tmp_path):
    wheel = build_wheel(tmp_path, "cloudy", "1.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    response = upload(client, "public-py", wheel, personas["writer"])
    assert response.status_code == 200, response.content

    row = PackageFile.objects.get()
    assert row.blob_id == digest
    keys = _keys(bucket)
    assert f"registry/{row.blob.storage_key}" in keys
    assert f"registry/{row.metadata_blob.storage_key}" in keys
    client_s3, name = bucket
    stored = client_s3.get_object(Bucket=name, Key=f"registry/{row.blob.storage_key}")["Body"].read()
    assert stored == wheel.read_bytes()


def test_download_streams_from_the_bucket(client, personas, bucket, tmp_path):
    wheel = build_wheel(tmp_path, "cloudy", "1.0", module_source="X = %r\n" % ("y" * 3000))
    data = wheel.read_bytes()
    assert upload(client, "public-py", wheel, personas["writer"]).status_code == 200
    url = "/repository/public-py/" + PackageFile.objects.get().path

    response = client.get(url)
    assert response.status_code == 200
    assert _body(response) == data
    assert response["Content-Length"] == str(len(data))

    partial = client.get(url, HTTP_RANGE="bytes=100-199")
    assert partial.status_code == 206
    assert _body(partial) == data[100:200]


def test_same_bytes_in_two_repositories_are_one_object(client, personas, bucket, tmp_path):
    wheel = build_wheel(tmp_path, "shared", "1.0")
    assert upload(client, "public-py", wheel, personas["writer"]).status_code == 200
    before = _keys(bucket)
    assert upload(client, "private-py", wheel, personas["writer"]).status_code == 200
    assert PackageFile.objects.count() == 2
    assert Blob.objects.count() == 2  # the wheel and its METADATA, each once
    assert _keys(bucket) == before


def test_redirect_mode_sends_a_presigned_url(client, personas, bucket, tmp_path, settings):
    settings.SERVE_MODE = "redirect"
    wheel = build_wheel(tmp_path, "cloudy", "2.0")
    data = wheel.read_bytes()
    assert upload(client, "private-py", wheel, personas["writer"]).status_code == 200
    row = PackageFile.objects.get()
    url = f"/repository/private-py/{row.path}"

    # Access is decided before the redirect: no presigned URL for the anonymous.
    assert client.get(url).status_code == 401

    response = client.get(url, **personas["reader"].auth)
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == data
        assert fetched.headers["Content-Disposition"] == f'attachment; filename="{row.filename}"'

    # HEAD and conditional requests are answered by the registry, not redirected.
    assert client.head(url, **personas["reader"].auth).status_code == 200
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **personas["reader"].auth).status_code == 304


def test_x_accel_mode_hands_nginx_a_presigned_path(client, personas, bucket, tmp_path, settings, s3_endpoint):
    """With S3, X-Accel-Redirect names the internal location plus a presigned path and query;
    nginx proxies it to the S3 endpoint. Fetching that from the endpoint is what nginx does."""
    settings.SERVE_MODE = "x-accel"
    _client, name = bucket
    wheel = build_wheel(tmp_path, "accel", "1.0")
    assert upload(client, "public-py", wheel, personas["writer"]).status_code == 200
    row = PackageFile.objects.get()
    response = client.get(f"/repository/public-py/{row.path}")
    assert response.status_code == 200 and response.content == b""
    target = response["X-Accel-Redirect"]
    assert target.startswith(f"/_blobs/{name}/registry/") and "X-Amz-Signature=" in target
    with urllib.request.urlopen(s3_endpoint + target.removeprefix("/_blobs"), timeout=10) as fetched:
        assert fetched.read() == wheel.read_bytes()
        assert fetched.headers["Content-Disposition"] == f'attachment; filename="{row.filename}"'


def test_deleting_the_last_reference_removes_the_object(client, personas, bucket, tmp_path,
                                                        django_capture_on_commit_callbacks):
    wheel = build_wheel(tmp_path, "doomed", "1.0")
    assert upload(client, "public-py", wheel, personas["writer"]).status_code == 200
    assert upload(client, "private-py", wheel, personas["writer"]).status_code == 200
    row = PackageFile.objects.filter(repository__name="public-py").get()
    key = f"registry/{row.blob.storage_key}"

    public_version = row.version_id
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/versions/{public_version}/", **personas["owner"].auth)
    assert response.status_code == 204
    assert key in _keys(bucket), "the private repository still holds the same bytes"

    private_version = PackageFile.objects.get().version_id
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/versions/{private_version}/", **personas["owner"].auth)
    assert response.status_code == 204
    assert _keys(bucket) == []
    assert Blob.objects.count() == 0


def test_environment_configures_the_s3_store(s3_endpoint, bucket, tmp_path):
    """The variables of docs/configuration.md, read by settings.py in a fresh process, reach
    the bucket: a blob put there is the object boto3 reads back."""
    client_s3, name = bucket
    env = {
        **os.environ,
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": name,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": REGION,
        "S3_PREFIX": "from-env",
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "registry.settings",
    }
    script = (
        "import django; django.setup()\n"
        "from storage import blobs\n"
        "from storage.hashing import spool_bytes\n"
        "spooled = spool_bytes(b'hello from the environment')\n"
        "print(blobs.put('sha256/' + spooled.digests.sha256, spooled))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=root,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    digest = hashlib.sha256(b"hello from the environment").hexdigest()
    stored = client_s3.get_object(Bucket=name, Key=f"from-env/sha256/{digest}")["Body"].read()
    assert stored == b"hello from the environment"
