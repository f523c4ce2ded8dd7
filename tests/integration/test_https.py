"""Behind a TLS-terminating proxy: every URL the formats generate says https when the request
came in over https (X-Forwarded-Proto, trusted by setting), HSTS is sent, plain HTTP is
redirected — except the operations endpoints."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Repository, RepositoryRole, Role
from registry.services import signing_keys
from registry.services.access import Actor
from tests.fixtures.dists import build_wheel

pytestmark = pytest.mark.django_db

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "registry.example.com"}


@pytest.fixture
def behind_the_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["registry.example.com", "testserver"]


def test_generated_urls_use_https(client, personas, tmp_path, behind_the_proxy):
    owner, writer = personas["owner"], personas["writer"]
    for name, fmt in [("tls-deb", "deb"), ("tls-rpm", "rpm"), ("tls-npm", "npm")]:
        repository = Repository.objects.create(name=name, format=fmt, visibility="public")
        RepositoryRole.objects.create(repository=repository, user=writer.user, role=Role.WRITE)
        if fmt in ("deb", "rpm"):
            signing_keys.ensure_key(Actor(user=owner.user), repository)

    base = "https://registry.example.com/repository"
    assert f"deb [signed-by=/etc/apt/keyrings/tls-deb.asc] {base}/tls-deb/ stable main" in \
        client.get("/repository/tls-deb/tls-deb.list", **HTTPS).content.decode()
    repo = client.get("/repository/tls-rpm/tls-rpm.repo", **HTTPS).content.decode()
    assert f"baseurl={base}/tls-rpm/\n" in repo and f"gpgkey={base}/tls-rpm/key.asc\n" in repo

    wheel = build_wheel(tmp_path, "secure-pkg", "1.0")
    uploaded = client.post("/api/v1/repositories/public-py/upload/",
                           {"file": SimpleUploadedFile(wheel.name, wheel.read_bytes())}, **writer.auth, **HTTPS)
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["download_url"].startswith(f"{base}/public-py/packages/secure-pkg/")
    listed = client.get("/api/v1/repositories/public-py/", **HTTPS).json()
    assert listed["url"] == f"{base}/public-py/"

    from tests.fixtures.npm_packages import npm_pack, publish_document

    document = publish_document(npm_pack(tmp_path, "secure-widget", "1.0.0"))
    response = client.put("/repository/tls-npm/secure-widget", json.dumps(document),
                          content_type="application/json", **writer.auth, **HTTPS)
    assert response.status_code in (200, 201), response.content
    packument = client.get("/repository/tls-npm/secure-widget", **HTTPS).json()
    assert packument["versions"]["1.0.0"]["dist"]["tarball"].startswith(f"{base}/tls-npm/")
    # The same documents over plain http say http: the cached copy is not shared between them.
    plain = client.get("/repository/tls-npm/secure-widget").json()
    assert plain["versions"]["1.0.0"]["dist"]["tarball"].startswith("http://testserver/")


def test_hsts_and_the_redirect_to_https(client, settings, behind_the_proxy):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = True
    secure = client.get("/", **HTTPS)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/ui/search/?q=x", HTTP_HOST="registry.example.com")
    assert plain.status_code == 301 and plain["Location"] == "https://registry.example.com/ui/search/?q=x"
    # The load balancer's probes over plain HTTP are answered, not redirected.
    assert client.get("/-/health").status_code == 200
    assert "Strict-Transport-Security" not in client.get("/-/health")
