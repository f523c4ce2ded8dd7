"""The REST API under /api/v1/, with the fixed personas."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from registry import plugins
from registry.errors import InvalidPackage
from registry.models import AuditEvent, PackageFile, Repository, RepositoryRole
from tests.fixtures.dists import build_sdist, build_wheel

from .pypi_helpers import sha256, upload

pytestmark = pytest.mark.django_db
JSON = "application/json"


def names(response):
    return sorted(r["name"] for r in response.json()["results"])


def test_repository_list_shows_only_what_you_may_read(client, personas):
    assert names(client.get("/api/v1/repositories/")) == ["public-py"]
    assert names(client.get("/api/v1/repositories/", **personas["outsider"].auth)) == ["public-py"]
    assert names(client.get("/api/v1/repositories/", **personas["reader"].auth)) == [
        "private-py", "public-py"]


@pytest.mark.parametrize("persona, status", [
    ("owner", 200), ("reader", 200), ("outsider", 404), (None, 401)])
def test_repository_detail(client, personas, persona, status):
    headers = personas[persona].auth if persona else {}
    response = client.get("/api/v1/repositories/private-py/", **headers)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["format"] == "pypi"
        assert body["url"] == "http://testserver/repository/private-py/"


def test_create_repository_needs_the_permission_and_an_admin_token(client, personas):
    body = {"name": "team-py", "format": "pypi", "kind": "hosted", "visibility": "private"}
    assert client.post("/api/v1/repositories/", body, content_type=JSON).status_code == 401
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **personas["outsider"].auth)
    assert response.status_code == 403

    outsider = personas["outsider"].user
    outsider.user_permissions.add(Permission.objects.get(codename="add_repository"))
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **personas["outsider"].auth)
    assert response.status_code == 201, response.content
    repository = Repository.objects.get(name="team-py")
    # The creator administers what they created.
    assert RepositoryRole.objects.get(repository=repository).user == outsider
    assert AuditEvent.objects.filter(action="repository.create", repository_name="team-py").exists()
    duplicate = client.post("/api/v1/repositories/", body, content_type=JSON, **personas["outsider"].auth)
    assert duplicate.status_code == 400


@pytest.mark.parametrize("body, field", [
    ({"name": "bad/name", "format": "pypi"}, "name"),
    ({"name": "../up", "format": "pypi"}, "name"),
    ({"name": "ok", "format": "cobol"}, "format"),
    ({"name": "ok", "format": "pypi", "visibility": "secret"}, "visibility"),
    ({"name": "ok", "format": "pypi", "kind": "group"}, "kind"),
    # A proxy needs its upstream, given as a plain URL (and a readable key when one is given).
    ({"name": "ok", "format": "pypi", "kind": "proxy"}, "upstream"),
    ({"name": "ok", "format": "pypi", "kind": "proxy", "upstream": {"url": "ftp://x/"}}, "upstream"),
    ({"name": "ok", "format": "pypi", "kind": "proxy",
      "upstream": {"url": "https://user:pw@pypi.example/simple/"}}, "upstream"),
    ({"name": "ok", "format": "pypi", "kind": "hosted", "upstream": {"url": "https://pypi.example/"}},
     "upstream"),
    ({"name": "ok", "format": "rpm", "kind": "proxy",
      "upstream": {"url": "https://rpm.example/", "public_key": "not a key"}}, "upstream"),
])
def test_create_repository_validation(client, personas, body, field):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **personas["owner"].auth)
    assert response.status_code == 400
    assert field in response.json()


def test_update_and_delete_need_admin(client, personas, repositories, tmp_path,
                                      django_capture_on_commit_callbacks):
    url = "/api/v1/repositories/private-py/"
    patch = {"description": "Team packages", "visibility": "public"}
    assert client.patch(url, patch, content_type=JSON, **personas["writer"].auth).status_code == 403
    assert client.patch(url, patch, content_type=JSON, **personas["outsider"].auth).status_code == 404
    response = client.patch(url, patch, content_type=JSON, **personas["owner"].auth)
    assert response.status_code == 200
    assert response.json()["description"] == "Team packages"
    # Name and format are fixed once clients point at the repository.
    response = client.patch(url, {"name": "renamed", "format": "npm"}, content_type=JSON,
                            **personas["owner"].auth)
    assert response.json()["name"] == "private-py" and response.json()["format"] == "pypi"

    upload(client, "private-py", build_sdist(tmp_path, "beta", "1.0"), personas["writer"])
    assert client.delete(url, **personas["writer"].auth).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(url, **personas["owner"].auth).status_code == 204
    assert not Repository.objects.filter(name="private-py").exists()
    assert not PackageFile.objects.exists()
    event = AuditEvent.objects.get(action="repository.delete")
    assert event.repository_name == "private-py" and event.username == "owner"


def test_rest_upload_goes_through_the_format_ingest(client, personas, tmp_path):
    wheel = build_wheel(tmp_path, "gamma", "0.1")
    url = "/api/v1/repositories/private-py/upload/"

    def post(persona, path=wheel, name=None):
        data = {"file": SimpleUploadedFile(name or path.name, path.read_bytes())}
        return client.post(url, data, **(persona.auth if persona else {}))

    assert post(None).status_code == 401
    assert post(personas["reader"]).status_code == 403
    assert post(personas["outsider"]).status_code == 404
    response = post(personas["writer"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["package"] == "gamma" and body["version"] == "0.1"
    assert body["hashes"]["sha256"] == sha256(wheel)
    assert body["download_url"].endswith("/repository/private-py/packages/gamma/gamma-0.1-py3-none-any.whl")
    assert post(personas["writer"]).status_code == 200  # identical: already there

    broken = tmp_path / "gamma-0.2-py3-none-any.whl"
    broken.write_bytes(b"nope")
    response = post(personas["writer"], broken)
    assert response.status_code == 400
    assert "not a valid zip archive" in response.json()["detail"]
    assert client.post(url, {}, **personas["writer"].auth).status_code == 400


class LinesFormat(plugins.FormatPlugin):
    """A second format for these tests: it takes only text files."""

    name = "lines-test"
    label = "Lines"

    def ingest(self, repository, actor, upload):
        raise InvalidPackage(f"{upload.filename!r} is not a text file of a lines-test repository.")


@pytest.fixture
def lines_repository(personas):
    plugins.register(LinesFormat())
    repository = Repository.objects.create(name="lines", format="lines-test", visibility="private")
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role="write")
    yield repository
    plugins._plugins.pop("lines-test")


def test_upload_into_a_repository_of_another_format(client, personas, lines_repository, tmp_path):
    wheel = build_wheel(tmp_path, "gamma", "0.1")
    response = upload(client, "lines", wheel, personas["writer"])  # twine's way
    assert response.status_code == 404
    assert "not a Lines endpoint" in response.reason_phrase
    response = client.post("/api/v1/repositories/lines/upload/",
                           {"file": SimpleUploadedFile(wheel.name, wheel.read_bytes())},
                           **personas["writer"].auth)
    assert response.status_code == 400
    assert "not a text file" in response.json()["detail"]
    assert not PackageFile.objects.exists()


@pytest.fixture
def catalogue(client, personas, tmp_path):
    for name, versions in {"alpha": ["1.0", "2.0"], "beta-tools": ["0.1"], "gamma": ["3.0"]}.items():
        for version in versions:
            upload(client, "private-py", build_sdist(tmp_path, name, version), personas["writer"])
    upload(client, "public-py", build_sdist(tmp_path, "alpha", "9.0"), personas["writer"])


def test_packages_filter_search_paginate(client, personas, catalogue):
    reader = personas["reader"].auth
    response = client.get("/api/v1/packages/?repository=private-py", **reader)
    assert names(response) == ["alpha", "beta-tools", "gamma"]
    alpha = next(p for p in response.json()["results"] if p["name"] == "alpha")
    assert alpha["latest_version"] == "2.0"
    assert names(client.get("/api/v1/packages/?search=BETA", **reader)) == ["beta-tools"]
    page = client.get("/api/v1/packages/?limit=2&offset=0", **reader).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    # Outsiders see only the public repository's package.
    outsider = client.get("/api/v1/packages/", **personas["outsider"].auth).json()
    assert [(p["repository"], p["name"]) for p in outsider["results"]] == [("public-py", "alpha")]


def test_versions_and_files(client, personas, catalogue):
    reader = personas["reader"].auth
    versions = client.get("/api/v1/versions/?repository=private-py&package=alpha", **reader).json()
    assert [v["version"] for v in versions["results"]] == ["1.0", "2.0"]
    assert versions["results"][0]["uploader"] == "writer"
    files = client.get("/api/v1/files/?repository=private-py&package=alpha&version=2.0", **reader).json()
    [only] = files["results"]
    assert only["filename"] == "alpha-2.0.tar.gz"
    by_hash = client.get(f"/api/v1/files/?sha256={only['hashes']['sha256']}", **reader).json()
    assert [f["id"] for f in by_hash["results"]] == [only["id"]]
    assert client.get(f"/api/v1/files/{only['id']}/", **personas["outsider"].auth).status_code == 404


def test_roles_api(client, personas, repositories):
    url = "/api/v1/repositories/private-py/roles/"
    assert client.get(url, **personas["writer"].auth).status_code == 403
    response = client.post(url, {"user": "outsider", "role": "read"}, content_type=JSON,
                           **personas["owner"].auth)
    assert response.status_code == 201, response.content
    assert client.get("/repository/private-py/simple/", **personas["outsider"].auth).status_code == 200
    assert client.post(url, {"role": "read"}, content_type=JSON, **personas["owner"].auth).status_code == 400
    role_id = response.json()["id"]
    assert client.delete(f"{url}{role_id}/", **personas["owner"].auth).status_code == 204
    assert client.get("/repository/private-py/simple/", **personas["outsider"].auth).status_code == 404
    assert list(AuditEvent.objects.filter(action__startswith="role.").values_list("action", flat=True)
                .order_by("id")) == ["role.grant", "role.revoke"]


def test_audit_events_visible_to_repository_admins(client, personas, catalogue):
    events = client.get("/api/v1/audit-events/?repository=private-py", **personas["owner"].auth).json()
    assert events["count"] == 4
    assert {e["action"] for e in events["results"]} == {"file.upload"}
    reader_view = client.get("/api/v1/audit-events/?repository=private-py", **personas["reader"].auth)
    assert reader_view.json()["count"] == 0


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/repositories/", "/api/v1/tokens/", "/api/v1/versions/{id}/yank/",
                 "/api/v1/repositories/{name}/upload/"):
        assert path in text
    assert client.get("/api/docs/").status_code == 200


def test_superusers_see_every_repository(client, personas):
    personas["outsider"].user.is_superuser = True
    personas["outsider"].user.save()
    response = client.get("/api/v1/repositories/", **personas["outsider"].auth)
    assert names(response) == ["private-py", "public-py"]
