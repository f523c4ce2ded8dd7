"""A token never reaches further than its limits: scope, repositories, expiry.

Each test is an attack as someone holding a token would try it (the owner's token limited to
repository A reaching for private repository B, a read token managing its owner's other
tokens, an expiring token minting a lasting one), asserting the answer and that nothing was
created or revoked. The personas are those of tests/conftest.py; the owner administers
private-py (A) and private-b (B).
"""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from registry.models import ApiToken, AuditEvent, Repository, RepositoryRole, Role
from registry.services import tokens
from tests.fixtures.dists import build_sdist

from .pypi_helpers import sha256, upload

pytestmark = pytest.mark.django_db
JSON = "application/json"


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def token_of(user, name, scope, *repositories, expires_days=None):
    """(token, headers) of a new token of `user`: the setup a person does with create_token."""
    token, secret = tokens.create_token(user, name, scope=scope, repositories=repositories,
                                        expires_days=expires_days)
    return token, bearer(secret)


@pytest.fixture
def repos(personas, repositories):
    b = Repository.objects.create(name="private-b", format="pypi", visibility="private")
    RepositoryRole.objects.create(repository=b, user=personas["owner"].user, role=Role.ADMIN)
    RepositoryRole.objects.create(repository=b, user=personas["writer"].user, role=Role.WRITE)
    return {"A": repositories["private"], "B": b, "public": repositories["public"]}


@pytest.fixture
def uploaded(client, personas, repos, tmp_path):
    """The writer's package in A and a secret one in B (each upload leaves an audit event)."""
    in_a = build_sdist(tmp_path, "alpha", "1.0")
    in_b = build_sdist(tmp_path, "secret-b", "6.6.6")
    assert upload(client, "private-py", in_a, personas["writer"]).status_code == 200
    assert upload(client, "private-b", in_b, personas["writer"]).status_code == 200
    return {"A": sha256(in_a), "B": sha256(in_b)}


def tokens_api(client, headers, **body):
    return client.post("/api/v1/tokens/", body, content_type=JSON, **headers)


def token_names(user):
    return set(ApiToken.objects.filter(user=user).values_list("name", flat=True))


# --- 1. minting: scope, repositories, expiry ------------------------------------------------------


@pytest.mark.parametrize("scope", [Role.READ, Role.WRITE])
def test_a_read_or_write_token_creates_no_token_at_all(client, personas, repos, scope):
    owner = personas["owner"].user
    _token, headers = token_of(owner, "narrow", scope, repos["A"])
    before = token_names(owner)
    for body in ({"name": "wide"}, {"name": "same", "repositories": ["private-py"], "scope": "read"}):
        response = tokens_api(client, headers, **body)
        assert response.status_code == 403, response.content
        assert "admin scope" in response.json()["detail"]
    assert token_names(owner) == before
    assert not AuditEvent.objects.filter(action="token.create").exists()


def test_a_limited_admin_token_mints_only_within_its_repositories(client, personas, repos):
    owner = personas["owner"].user
    _token, headers = token_of(owner, "a-admin", Role.ADMIN, repos["A"])
    before = token_names(owner)

    unlimited = tokens_api(client, headers, name="everything", scope="read")
    assert unlimited.status_code == 403
    assert "must be limited to some of them" in unlimited.json()["detail"]
    # B is readable by the owner but not by this token: named, it is as missing as a repository
    # that does not exist (no word of its existence).
    into_b = tokens_api(client, headers, name="b", repositories=["private-b"])
    missing = tokens_api(client, headers, name="b", repositories=["no-such-repository"])
    assert into_b.status_code == missing.status_code == 400
    assert into_b.content.decode() == missing.content.decode().replace("no-such-repository", "private-b")
    # A public repository is readable, but outside the limit all the same.
    for names in (["public-py"], ["private-py", "public-py"]):
        outside = tokens_api(client, headers, name="pub", repositories=names)
        assert outside.status_code == 403
        assert "not limited to public-py" in outside.json()["detail"]
    assert token_names(owner) == before

    inside = tokens_api(client, headers, name="a-reader", scope="read", repositories=["private-py"])
    assert inside.status_code == 201, inside.content
    made = ApiToken.objects.get(name="a-reader")
    assert list(made.repositories.values_list("name", flat=True)) == ["private-py"]
    assert client.get("/repository/private-py/simple/", **bearer(inside.json()["token"])).status_code == 200
    assert client.get("/repository/private-b/simple/", **bearer(inside.json()["token"])).status_code == 404


def test_an_expiring_token_mints_none_that_outlives_it(client, personas, repos):
    owner = personas["owner"].user
    own, headers = token_of(owner, "ten-days", Role.ADMIN, expires_days=10)
    before = token_names(owner)
    for body in ({"name": "forever"}, {"name": "longer", "expires_days": 11},
                 {"name": "a-bit-longer", "expires_days": 10}):
        response = tokens_api(client, headers, **body)
        assert response.status_code == 403, body
        assert "must expire no later (expires_days of at most 9)" in response.json()["detail"]
    assert token_names(owner) == before

    shorter = tokens_api(client, headers, name="nine-days", expires_days=9)
    assert shorter.status_code == 201, shorter.content
    assert ApiToken.objects.get(name="nine-days").expires <= own.expires


def test_a_session_or_an_unlimited_admin_token_mints_freely(client, personas, repos):
    owner = personas["owner"]
    response = tokens_api(client, owner.auth, name="ci", scope="admin")
    assert response.status_code == 201, response.content
    browser = Client()
    browser.force_login(owner.user)
    response = browser.post("/api/v1/tokens/", {"name": "laptop", "scope": "admin",
                                                 "repositories": ["private-b"]}, content_type=JSON)
    assert response.status_code == 201, response.content


# --- 2. listing and revoking -----------------------------------------------------------------------


@pytest.mark.parametrize("scope", [Role.READ, Role.WRITE])
def test_a_read_or_write_token_neither_lists_nor_revokes(client, personas, repos, scope):
    owner = personas["owner"].user
    _token, headers = token_of(owner, "narrow", scope)
    other = ApiToken.objects.get(name="owner-token")
    listed = client.get("/api/v1/tokens/", **headers)
    assert listed.status_code == 403 and "admin scope" in listed.json()["detail"]
    assert client.get(f"/api/v1/tokens/{other.pk}/", **headers).status_code == 403
    revoked = client.delete(f"/api/v1/tokens/{other.pk}/", **headers)
    assert revoked.status_code == 403 and "admin scope" in revoked.json()["detail"]
    other.refresh_from_db()
    assert other.revoked is None
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_a_limited_admin_token_sees_and_revokes_only_tokens_within_its_limit(client, personas, repos):
    owner = personas["owner"].user
    own, headers = token_of(owner, "a-admin", Role.ADMIN, repos["A"])
    in_b, _ = token_of(owner, "deploy-to-b", Role.WRITE, repos["B"])
    both, _ = token_of(owner, "a-and-b", Role.READ, repos["A"], repos["B"])
    in_a, _ = token_of(owner, "a-reader", Role.READ, repos["A"])

    listed = client.get("/api/v1/tokens/", **headers)
    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()["results"]} == {"a-admin", "a-reader"}
    assert "private-b" not in listed.content.decode()
    for hidden in (in_b, both, ApiToken.objects.get(name="owner-token")):
        assert client.get(f"/api/v1/tokens/{hidden.pk}/", **headers).status_code == 404
        assert client.delete(f"/api/v1/tokens/{hidden.pk}/", **headers).status_code == 404
        hidden.refresh_from_db()
        assert hidden.revoked is None

    assert client.delete(f"/api/v1/tokens/{in_a.pk}/", **headers).status_code == 204
    in_a.refresh_from_db()
    assert in_a.revoked is not None
    assert AuditEvent.objects.filter(action="token.revoke", token=own).count() == 1


# --- 3. the audit log ------------------------------------------------------------------------------


def audit_events(client, headers, query=""):
    response = client.get(f"/api/v1/audit-events/{query}", **headers)
    assert response.status_code == 200, response.content
    return response


def test_the_audit_log_keeps_to_a_tokens_repositories(client, personas, repos, uploaded):
    owner = personas["owner"].user
    tokens_api(client, personas["owner"].auth, name="made-by-owner")  # an event with no repository
    b_event = AuditEvent.objects.get(repository_name="private-b")
    own_event = AuditEvent.objects.get(action="token.create")
    _token, limited = token_of(owner, "a-admin", Role.ADMIN, repos["A"])

    answer = audit_events(client, limited)
    assert {e["repository_name"] for e in answer.json()["results"]} == {"private-py"}
    text = answer.content.decode()
    assert "secret-b" not in text and uploaded["B"] not in text and "made-by-owner" not in text
    assert audit_events(client, limited, "?repository=private-b").json()["count"] == 0
    assert client.get(f"/api/v1/audit-events/{b_event.pk}/", **limited).status_code == 404
    assert client.get(f"/api/v1/audit-events/{own_event.pk}/", **limited).status_code == 404

    # Without a limit, the same owner sees B's events and those of their tokens.
    everything = audit_events(client, personas["owner"].auth).json()["results"]
    assert {"private-py", "private-b", ""} <= {e["repository_name"] for e in everything}


def test_a_read_token_reads_no_administrators_audit_log(client, personas, repos, uploaded):
    owner = personas["owner"].user
    tokens_api(client, personas["owner"].auth, name="made-by-owner")
    _token, read = token_of(owner, "reading", Role.READ)
    # The owner administers A and B, but this token only reads: the writer's uploads and the
    # owner's token events are not for it.
    assert audit_events(client, read).json()["count"] == 0


def test_a_superusers_limited_token_is_limited_in_the_audit_log_too(client, personas, repos, uploaded):
    outsider = personas["outsider"].user
    outsider.is_superuser = True
    outsider.save()
    _token, limited = token_of(outsider, "a-admin", Role.ADMIN, repos["A"])
    answer = audit_events(client, limited)
    assert {e["repository_name"] for e in answer.json()["results"]} == {"private-py"}
    assert "secret-b" not in answer.content.decode()
    # Unlimited, a superuser sees everything.
    everything = audit_events(client, personas["outsider"].auth).json()["results"]
    assert {"private-py", "private-b"} <= {e["repository_name"] for e in everything}


def test_a_user_sees_their_own_events_only_where_the_token_reads(client, personas, repos, uploaded):
    writer = personas["writer"].user
    mine = audit_events(client, personas["writer"].auth).json()["results"]
    assert sorted(e["package_name"] for e in mine) == ["alpha", "secret-b"]
    _token, limited = token_of(writer, "a-writer", Role.WRITE, repos["A"])
    assert [e["package_name"] for e in audit_events(client, limited).json()["results"]] == ["alpha"]


# --- the same hole elsewhere: lists, search, pages, repository creation, the Django admin ----------


@pytest.mark.parametrize("url", [
    "/api/v1/repositories/", "/api/v1/packages/", "/api/v1/versions/", "/api/v1/files/",
    "/api/v1/packages/?search=secret", "/api/v1/files/?sha256={B}", "/ui/search/?q=secret", "/",
])
def test_a_limited_token_finds_nothing_of_b_in_any_list(client, personas, repos, uploaded, url):
    _token, limited = token_of(personas["owner"].user, "a-admin", Role.ADMIN, repos["A"])
    response = client.get(url.format(**uploaded), **limited)
    assert response.status_code == 200
    text = response.content.decode()
    assert "secret-b" not in text and "private-b" not in text and uploaded["B"] not in text


@pytest.mark.parametrize("url", [
    "/repository/private-b/simple/", "/repository/private-b/simple/secret-b/",
    "/api/v1/repositories/private-b/", "/api/v1/repositories/private-b/roles/",
    "/ui/repositories/private-b/", "/ui/repositories/private-b/packages/secret-b/",
    "/ui/repositories/private-b/settings/", "/ui/repositories/private-b/audit/",
])
def test_a_limited_token_finds_b_as_missing_as_a_repository_that_does_not_exist(
        client, personas, repos, uploaded, url):
    _token, limited = token_of(personas["owner"].user, "a-admin", Role.ADMIN, repos["A"])
    response = client.get(url, **limited)
    missing = client.get(url.replace("private-b", "no-such-repo"), **limited)
    assert response.status_code == missing.status_code == 404


def test_a_limited_token_creates_no_repository(client, personas, repos):
    owner = personas["owner"].user
    owner.user_permissions.add(Permission.objects.get(codename="add_repository"))
    _token, limited = token_of(owner, "a-admin", Role.ADMIN, repos["A"])
    body = {"name": "new-py", "format": "pypi", "kind": "hosted", "visibility": "private"}
    response = client.post("/api/v1/repositories/", body, content_type=JSON, **limited)
    assert response.status_code == 403 and "limited to repositories" in response.json()["detail"]
    assert not Repository.objects.filter(name="new-py").exists()


def test_the_web_tokens_page_with_a_token_follows_the_same_rule(client, personas, repos):
    owner = personas["owner"].user
    _token, read = token_of(owner, "reading", Role.READ)
    other = ApiToken.objects.get(name="owner-token")
    assert client.get("/ui/tokens/", **read).status_code == 403
    assert client.post("/ui/tokens/", {"revoke": str(other.pk)}, **read).status_code == 403
    assert client.post("/ui/tokens/", {"name": "web", "scope": "admin"}, **read).status_code == 403
    other.refresh_from_db()
    assert other.revoked is None and not ApiToken.objects.filter(name="web").exists()

    token_of(owner, "deploy-to-b", Role.WRITE, repos["B"])
    _token, limited = token_of(owner, "a-admin", Role.ADMIN, repos["A"])
    page = client.get("/ui/tokens/", **limited)
    assert page.status_code == 200
    assert "deploy-to-b" not in page.content.decode() and "owner-token" not in page.content.decode()
    client.post("/ui/tokens/", {"revoke": str(other.pk)}, **limited)
    other.refresh_from_db()
    assert other.revoked is None
    client.post("/ui/tokens/", {"name": "web", "scope": "read"}, **limited)
    assert not ApiToken.objects.filter(name="web").exists()


def test_the_django_admin_takes_no_token(client, personas, repos):
    owner = personas["owner"].user
    owner.is_staff = owner.is_superuser = True
    owner.save()
    _token, read = token_of(owner, "reading", Role.READ, repos["public"])
    for headers in (read, personas["owner"].auth):
        response = client.get("/admin/registry/apitoken/", **headers)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    browser = Client()
    browser.force_login(owner)
    assert browser.get("/admin/registry/apitoken/").status_code == 200


# --- npm's token endpoints and login ---------------------------------------------------------------


@pytest.fixture
def npm_repo(personas):
    repository = Repository.objects.create(name="private-npm", format="npm", visibility="private")
    Repository.objects.create(name="public-npm", format="npm", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["reader"].user, role=Role.READ)
    return repository


NPM_TOKENS = "/repository/private-npm/-/npm/v1/tokens"


def npm_error(response):
    assert response["Content-Type"] == JSON, response.content
    return response.json()["error"]


def npm_login(client, repo, username, password, headers=None):
    body = {"_id": f"org.couchdb.user:{username}", "name": username, "password": password,
            "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"}
    return client.put(f"/repository/{repo}/-/user/org.couchdb.user:{username}", json.dumps(body),
                      content_type=JSON, **(headers or {}))


def test_npm_a_read_token_neither_lists_creates_nor_revokes(client, personas, npm_repo):
    reader = personas["reader"]
    other, _ = token_of(reader.user, "other", Role.WRITE)
    before = token_names(reader.user)
    listed = client.get(NPM_TOKENS, **reader.auth)
    assert listed.status_code == 403 and "admin scope" in npm_error(listed)
    created = client.post(NPM_TOKENS, json.dumps({"password": "pw-reader", "readonly": True}),
                          content_type=JSON, **reader.auth)
    assert created.status_code == 403 and "admin scope" in npm_error(created)
    revoked = client.delete(f"{NPM_TOKENS}/token/{other.key_hash}", **reader.auth)
    assert revoked.status_code == 403 and "admin scope" in npm_error(revoked)
    other.refresh_from_db()
    assert other.revoked is None and token_names(reader.user) == before


def test_npm_token_create_keeps_the_login_tokens_limits(client, personas, npm_repo):
    reader = personas["reader"]
    login = npm_login(client, "private-npm", "reader", "pw-reader")
    assert login.status_code == 201, login.content
    login_token = ApiToken.objects.get(prefix=login.json()["token"][:12])
    headers = bearer(login.json()["token"])

    created = client.post(NPM_TOKENS, json.dumps({"password": "pw-reader", "readonly": True}),
                          content_type=JSON, **headers)
    assert created.status_code == 201, created.content
    made = ApiToken.objects.get(key_hash=created.json()["key"])
    assert list(made.repositories.values_list("name", flat=True)) == ["private-npm"]
    assert made.scope == Role.READ and made.expires <= login_token.expires

    # The login token lists and revokes only tokens limited to its repository.
    listed = client.get(NPM_TOKENS, **headers).json()["objects"]
    assert {t["key"] for t in listed} == {login_token.key_hash, made.key_hash}
    unlimited = ApiToken.objects.get(name="reader-token")
    assert client.delete(f"{NPM_TOKENS}/token/{unlimited.key_hash}", **headers).status_code == 404
    unlimited.refresh_from_db()
    assert unlimited.revoked is None
    assert client.delete(f"{NPM_TOKENS}/token/{made.key_hash}", **headers).status_code == 204
    made.refresh_from_db()
    assert made.revoked is not None
    assert reader.user.pk == made.user_id


def test_npm_token_create_by_an_expiring_token_expires_with_it(client, personas, npm_repo):
    reader = personas["reader"].user
    own, headers = token_of(reader, "week", Role.ADMIN, npm_repo, expires_days=7)
    created = client.post(NPM_TOKENS, json.dumps({"password": "pw-reader"}), content_type=JSON, **headers)
    assert created.status_code == 201, created.content
    made = ApiToken.objects.get(key_hash=created.json()["key"])
    assert made.expires == own.expires
    assert list(made.repositories.all()) == [npm_repo]


def test_npm_login_with_a_token_sent_along_stays_within_it(client, personas, npm_repo):
    reader = personas["reader"].user
    logins = ApiToken.objects.filter(name__startswith="npm login")

    # A read token: no token is made, the password notwithstanding.
    refused = npm_login(client, "private-npm", "reader", "pw-reader", personas["reader"].auth)
    assert refused.status_code == 403 and "admin scope" in npm_error(refused)
    # A token limited to private-npm: no login token for another repository.
    _token, limited = token_of(reader, "npm-admin", Role.ADMIN, npm_repo, expires_days=5)
    outside = npm_login(client, "public-npm", "reader", "pw-reader", limited)
    assert outside.status_code == 403 and "not limited to public-npm" in npm_error(outside)
    # Another user's token does not go with this user's login.
    foreign = npm_login(client, "public-npm", "reader", "pw-reader", personas["owner"].auth)
    assert foreign.status_code == 403 and "another user" in npm_error(foreign)
    assert not logins.exists()

    # Within the limit, the new token expires with the one sent along (not in 90 days).
    inside = npm_login(client, "private-npm", "reader", "pw-reader", limited)
    assert inside.status_code == 201, inside.content
    made = logins.get()
    assert made.expires - timezone.now() <= timedelta(days=5)
    assert list(made.repositories.all()) == [npm_repo]


# --- a limit that loses its repository --------------------------------------------------------------


def test_deleting_the_only_repository_of_a_tokens_limit_revokes_the_token(client, personas, repos):
    owner = personas["owner"].user
    only_b, b_headers = token_of(owner, "b-only", Role.READ, repos["B"])
    both, both_headers = token_of(owner, "a-and-b", Role.READ, repos["A"], repos["B"])
    assert client.get("/repository/private-py/simple/", **b_headers).status_code == 404

    assert client.delete("/api/v1/repositories/private-b/", **personas["owner"].auth).status_code == 204
    # An empty limit would be no limit: the token that reached only B now reaches nothing.
    assert client.get("/repository/private-py/simple/", **b_headers).status_code == 401
    only_b.refresh_from_db()
    assert only_b.revoked is not None
    assert AuditEvent.objects.filter(action="token.revoke", token_prefix="", detail__owner="owner",
                                     detail__name="b-only").exists()
    # A token limited to A as well keeps A, and only A.
    assert client.get("/repository/private-py/simple/", **both_headers).status_code == 200
    assert list(both.repositories.values_list("name", flat=True)) == ["private-py"]
