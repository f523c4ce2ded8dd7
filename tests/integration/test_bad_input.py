"""Bad input gets a 4xx in the form its client prints, and nothing is stored: JSON nested
without end, values no database column keeps, wrong types, NUL in URLs, paging past any end.

REST answers {"detail": …} (or DRF's {field: [messages]}); npm answers {"error": …}.
"""

import json

import pytest
from django.contrib.auth.models import Permission

from registry.api.pagination import MAX_PAGE_SIZE
from registry.models import ApiToken, AuditEvent, Package, Repository, RepositoryRole, Role
from tests.fixtures.npm_packages import manifest_tarball, publish_document

pytestmark = pytest.mark.django_db
JSON = "application/json"
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


@pytest.fixture
def owner(personas):
    owner = personas["owner"]
    owner.user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    return owner


def detail(response):
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["detail"]


def rows():
    """What a refused request must not have changed."""
    return (list(Repository.objects.values_list("name", "settings", "description")),
            ApiToken.objects.count(), RepositoryRole.objects.count(), Package.objects.count())


# --- REST: JSON bodies ------------------------------------------------------------------------


REST_WRITES = [
    ("post", "/api/v1/repositories/"),
    ("patch", "/api/v1/repositories/private-py/"),
    ("put", "/api/v1/repositories/private-py/"),
    ("post", "/api/v1/repositories/private-py/roles/"),
    ("post", "/api/v1/tokens/"),
]


@pytest.mark.parametrize("method, url", REST_WRITES)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_400_on_every_rest_write(client, owner, method, url, body):
    before = rows()
    response = getattr(client, method)(url, body, content_type=JSON, **owner.auth)
    assert response.status_code == 400
    assert "nested too deeply" in detail(response)
    assert rows() == before


@pytest.mark.parametrize("body, words", [
    ('{"name": "x", "format": "pypi", "description": NaN}', "NaN"),
    ('{"name": "x\\u0000y", "format": "pypi"}', "NUL"),
    ('{"name": "\\udc00", "format": "pypi"}', "surrogate"),
    ('{"name": "x", "format": "pypi", "settings": {"n": 1e999}}', "out of range"),
    (b'{"name": "caf\xe9", "format": "pypi"}', "not valid JSON"),
])
def test_json_no_database_keeps_is_a_400(client, owner, body, words):
    before = rows()
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **owner.auth)
    assert response.status_code == 400
    assert words in detail(response)
    assert rows() == before


def test_a_json_body_past_the_limit_is_a_413_read_no_further(client, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "big", "format": "pypi", "description": "x" * 2000})
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **owner.auth)
    assert response.status_code == 413
    assert "larger than 1000 bytes" in detail(response)
    assert not Repository.objects.filter(name="big").exists()


@pytest.mark.parametrize("settings_value", [1.5, [{}], "x", 7, True, None, [["a"]]])
def test_settings_that_are_not_an_object_are_a_400(client, owner, repositories, settings_value):
    before = rows()
    body = {"name": "team-deb", "format": "deb", "kind": "hosted", "settings": settings_value}
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **owner.auth)
    assert response.status_code == 400, response.content
    assert "settings" in response.json()
    response = client.patch("/api/v1/repositories/private-py/", {"settings": settings_value},
                            content_type=JSON, **owner.auth)
    assert response.status_code == 400, response.content
    assert "settings" in response.json()
    assert rows() == before


@pytest.mark.parametrize("fmt, value", [
    ("deb", {"valid_until_days": 10**12}),  # was accepted, then a 500 building the Release
    ("deb", {"valid_until_days": "7"}),
    ("deb", {"valid_until_days": True}),
    ("deb", {"architectures": "amd64"}),
    ("deb", {"architectures": [["amd64"]]}),
    ("deb", {"distributions": "stable"}),
    ("deb", {"distributions": [{"a": 1}]}),
    ("deb", {"origin": ["a"]}),
    ("maven", {"version_policy": ["release"]}),
    ("maven", {"snapshot_keep": "3"}),
    ("rpm", {"sign_packages": 1}),
    ("pypi", {"anything": 1}),
])
def test_wrong_types_inside_format_settings_are_a_400(client, owner, fmt, value):
    before = rows()
    body = {"name": f"team-{fmt}", "format": fmt, "kind": "hosted", "settings": value}
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **owner.auth)
    assert response.status_code == 400, response.content
    assert "settings" in response.json()
    assert rows() == before


@pytest.mark.parametrize("body, field", [
    ({"name": "t", "expires_days": "x"}, "expires_days"),
    ({"name": "t", "expires_days": 10**30}, "expires_days"),
    ({"name": "t", "expires_days": 1.5}, "expires_days"),
    ({"name": "t", "scope": []}, "scope"),
    ({"name": "t", "scope": {"a": 1}}, "scope"),
    ({"name": "t", "repositories": "a"}, "repositories"),
    ({"name": "t", "repositories": [["private-py"]]}, "repositories"),
    ({"name": "t", "repositories": [None]}, "repositories"),
    ({"name": ["t"]}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 10_000}, "name"),
])
def test_wrong_types_for_a_token_are_a_400(client, owner, body, field):
    before = rows()
    response = client.post("/api/v1/tokens/", body, content_type=JSON, **owner.auth)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert rows() == before


@pytest.mark.parametrize("body, field", [
    ({"user": ["reader"], "role": "read"}, "user"),
    ({"user": "reader", "role": ["read"]}, "role"),
    ({"user": "reader", "role": 3}, "role"),
    ({"group": {"name": "g"}, "role": "read"}, "group"),
])
def test_wrong_types_for_a_role_are_a_400(client, owner, repositories, body, field):
    before = rows()
    response = client.post("/api/v1/repositories/private-py/roles/", body, content_type=JSON,
                           **owner.auth)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert rows() == before


@pytest.mark.parametrize("body", [
    {"name": "team\x00py", "format": "pypi"},
    {"name": "teampy", "format": "pypi", "description": "a\x00b"},
])
def test_nul_in_a_form_is_a_400(client, owner, body):
    before = rows()
    response = client.post("/api/v1/repositories/", body, **owner.auth)  # multipart
    assert response.status_code == 400, response.content
    from urllib.parse import urlencode

    response = client.post("/api/v1/repositories/", urlencode(body),
                           content_type="application/x-www-form-urlencoded", **owner.auth)
    assert response.status_code == 400, response.content
    assert rows() == before


# --- URLs: NUL, paging, unknown paths ---------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/packages/?search=%00",
    "/api/v1/versions/?repository=private-py%00",
    "/api/v1/files/?sha256=%00",
    "/api/v1/audit-events/?action=a%00b",
    "/api/v1/repositories/private-py%00/",
])
def test_nul_in_an_api_url_is_a_400(client, owner, url):
    response = client.get(url, **owner.auth)
    assert response.status_code == 400
    assert "NUL" in detail(response)


@pytest.mark.parametrize("url", [
    "/repository/private-py%00/simple/",
    "/repository/private-py/simple/a%00b/",
    "/repository/public-py/simple/?x=%00",
])
def test_nul_in_a_repository_url_is_a_400_the_same_for_every_repository(client, personas, url):
    for headers in ({}, personas["outsider"].auth, personas["owner"].auth):
        response = client.get(url, **headers)
        assert response.status_code == 400
        assert "NUL" in response.content.decode()


LISTS = ["repositories", "packages", "versions", "files", "tokens", "audit-events"]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("query", ["limit=" + "9" * 30, "limit=9223372036854775808",
                                   "offset=" + "9" * 30, "limit=-1&offset=-5", "limit=1e9"])
def test_any_limit_or_offset_on_every_list_is_answered(client, owner, name, query):
    response = client.get(f"/api/v1/{name}/?{query}", **owner.auth)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) <= MAX_PAGE_SIZE


def test_a_page_holds_at_most_the_cap(client, owner):
    AuditEvent.objects.bulk_create(
        AuditEvent(user=owner.user, username="owner", action="test.event")
        for _ in range(MAX_PAGE_SIZE + 3))
    response = client.get("/api/v1/audit-events/?action=test.event&limit=100000", **owner.auth)
    body = response.json()
    assert len(body["results"]) == MAX_PAGE_SIZE
    assert body["count"] == MAX_PAGE_SIZE + 3
    assert f"limit={MAX_PAGE_SIZE}" in body["next"]


def test_format_filters_repositories(client, owner, repositories):
    Repository.objects.create(name="team-npm", format="npm", visibility="public")
    response = client.get("/api/v1/repositories/?format=npm", **owner.auth)
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["team-npm"]


def test_an_unknown_api_path_is_a_json_404(client, owner):
    for url in ("/api/v1/nothing/", "/api/v1/versions/1.5/", "/api/v1/tokens/abc/"):
        response = client.get(url, **owner.auth)
        assert response.status_code == 404
        assert detail(response) == "Not found."


def test_no_format_suffix_routes(client, owner, repositories):
    """DRF's `.json` twins passed `format` to actions that take none: a 500."""
    role = RepositoryRole.objects.filter(repository__name="private-py").first()
    for method, url in [("delete", f"/api/v1/repositories/private-py/roles/{role.pk}.json"),
                        ("get", "/api/v1/repositories/private-py/roles.json"),
                        ("get", "/api/v1/repositories.json")]:
        response = getattr(client, method)(url, **owner.auth)
        assert response.status_code == 404
        assert detail(response) == "Not found."
    assert RepositoryRole.objects.filter(pk=role.pk).exists()


def test_the_api_docs_page_answers_options_without_an_error(client):
    assert client.options("/api/docs/").status_code == 405
    assert client.get("/api/docs/").status_code == 200


# --- npm: every endpoint that reads a JSON body -----------------------------------------------


@pytest.fixture
def npm_repo(personas):
    repository = Repository.objects.create(name="public-npm", format="npm", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["owner"].user, role=Role.ADMIN)
    return repository


def npm_error(response):
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


@pytest.fixture
def published(client, personas, npm_repo, tmp_path):
    tarball = manifest_tarball(tmp_path / "demo.tgz", "demo", "1.0.0")
    response = client.put("/repository/public-npm/demo", json.dumps(publish_document(tarball)),
                          content_type=JSON, **personas["owner"].auth)
    assert response.status_code == 201, response.content
    return "demo"


@pytest.mark.parametrize("method, path", [
    ("put", "-/user/org.couchdb.user:owner"),
    ("put", "demo"),
    ("put", "-/package/demo/dist-tags/beta"),
    ("post", "-/npm/v1/tokens"),
])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_400_on_every_npm_endpoint(client, personas, published, method, path, body):
    before = rows(), Package.objects.get(name="demo").metadata
    response = getattr(client, method)(f"/repository/public-npm/{path}", body, content_type=JSON,
                                       **personas["owner"].auth)
    assert response.status_code == 400
    assert "nested too deeply" in npm_error(response)
    assert (rows(), Package.objects.get(name="demo").metadata) == before


def test_a_deep_publish_document_beside_its_tarball_is_a_400(client, personas, npm_repo, tmp_path):
    tarball = manifest_tarball(tmp_path / "deep.tgz", "deep", "1.0.0")
    document = publish_document(tarball)
    raw = json.dumps(document).replace('"access": null', '"access": ' + DEEP)
    response = client.put("/repository/public-npm/deep", raw, content_type=JSON, **personas["owner"].auth)
    assert response.status_code == 400
    assert "nested too deeply" in npm_error(response)
    assert not Package.objects.exists()


@pytest.mark.parametrize("field, words", [
    ("[" * 200 + "]" * 200, "nested too deeply"),
    ('"a\\u0000b"', "NUL"),
    ("NaN", "NaN"),
])
def test_a_package_json_no_database_keeps_is_a_400(client, personas, npm_repo, tmp_path, field, words):
    raw = b'{"name": "odd", "version": "1.0.0", "keywords": ' + field.encode() + b"}"
    from tests.fixtures.npm_packages import make_tarball

    tarball = make_tarball(tmp_path / "odd.tgz", {"package.json": raw})
    document = publish_document(tarball, name="odd", version="1.0.0", manifest={"name": "odd", "version": "1.0.0"})
    response = client.put("/repository/public-npm/odd", json.dumps(document), content_type=JSON,
                          **personas["owner"].auth)
    assert response.status_code == 400
    assert words in npm_error(response)
    assert not Package.objects.exists()
