"""Tokens: every way a client presents one, and every way one stops working."""

import base64
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.models import ApiToken, AuditEvent, Role
from registry.services import tokens

pytestmark = pytest.mark.django_db
URL = "/repository/private-py/simple/"


def basic(user, password):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_only_a_hash_is_stored_and_the_prefix_is_visible(personas):
    token = ApiToken.objects.get(name="reader-token")
    secret = personas["reader"].token
    assert secret.startswith("reg_")
    assert token.prefix == secret[:12]
    assert secret not in {token.key_hash, token.prefix, token.name}
    assert token.key_hash == tokens.hash_secret(secret)


@pytest.mark.parametrize("username", ["__token__", "reader"])
def test_basic_auth_with_token_as_password(client, personas, username):
    assert client.get(URL, **basic(username, personas["reader"].token)).status_code == 200


def test_basic_auth_with_someone_elses_name_is_refused(client, personas):
    response = client.get(URL, **basic("owner", personas["reader"].token))
    assert response.status_code == 401


def test_bearer(client, personas):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {personas['reader'].token}").status_code == 200


@pytest.mark.parametrize("header", [
    "Bearer reg_wrong", "Bearer ", "Basic !!!notbase64", "Digest abc",
    "Basic " + base64.b64encode(b"reader:pw-reader").decode(),  # a password is not a token
])
def test_bad_credentials_are_401_everywhere(client, personas, header):
    for url in (URL, "/repository/public-py/simple/", "/api/v1/repositories/"):
        response = client.get(url, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Basic realm="registry"'


def test_revoked_token_stops_working(client, personas):
    token = ApiToken.objects.get(name="reader-token")
    tokens.revoke(token)
    assert client.get(URL, **personas["reader"].auth).status_code == 401


def test_expired_token_stops_working(client, personas):
    ApiToken.objects.filter(name="reader-token").update(expires=timezone.now() - timedelta(seconds=1))
    assert client.get(URL, **personas["reader"].auth).status_code == 401


def test_inactive_user_token_stops_working(client, personas):
    personas["reader"].user.is_active = False
    personas["reader"].user.save()
    assert client.get(URL, **personas["reader"].auth).status_code == 401


def test_last_used_is_recorded(client, personas):
    assert ApiToken.objects.get(name="reader-token").last_used is None
    client.get(URL, **personas["reader"].auth)
    assert ApiToken.objects.get(name="reader-token").last_used is not None


def test_token_restricted_to_another_repository(client, personas, repositories):
    from registry.models import Repository

    other = Repository.objects.create(name="other-py", format="pypi", visibility="private")
    _token, secret = tokens.create_token(personas["owner"].user, "narrow", scope=Role.ADMIN,
                                         repositories=[other])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    # The owner may read private-py, but this token is not for it: as if it did not exist.
    assert client.get(URL, **headers).status_code == 404
    # Public repositories stay readable, as for anyone.
    assert client.get("/repository/public-py/simple/", **headers).status_code == 200
    response = client.get("/api/v1/repositories/", **headers)
    assert sorted(r["name"] for r in response.json()["results"]) == ["public-py"]


def test_create_token_command(personas, repositories):
    out, err = StringIO(), StringIO()
    call_command("create_token", "writer", "--name", "ci", "--scope", "write",
                 "--repository", "private-py", "--expires", "30", stdout=out, stderr=err)
    secret = out.getvalue().strip().splitlines()[-1]
    token = tokens.authenticate(secret)
    assert token.name == "ci" and token.scope == "write" and token.user.username == "writer"
    assert list(token.repositories.values_list("name", flat=True)) == ["private-py"]
    assert timedelta(days=29) < token.expires - timezone.now() <= timedelta(days=30)
    assert AuditEvent.objects.filter(action="token.create", username="writer").exists()


def test_create_token_command_errors(personas):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_token", "nobody", "--name", "x", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="No repository"):
        call_command("create_token", "writer", "--name", "x", "--repository", "nope",
                     stdout=StringIO(), stderr=StringIO())


def test_tokens_api_create_list_revoke(client, personas):
    owner = personas["owner"]
    response = client.post("/api/v1/tokens/", {"name": "laptop", "scope": "write", "expires_days": 7},
                           content_type="application/json", **owner.auth)
    assert response.status_code == 201, response.content
    secret = response.json()["token"]
    assert tokens.authenticate(secret).name == "laptop"

    listed = client.get("/api/v1/tokens/", **owner.auth).json()["results"]
    assert {t["name"] for t in listed} == {"owner-token", "laptop"}
    assert all("token" not in t and "key_hash" not in t for t in listed)

    token_id = response.json()["id"]
    # Someone else's token is not even visible (to an admin-scope token; others manage none).
    assert client.delete(f"/api/v1/tokens/{token_id}/", **personas["outsider"].auth).status_code == 404
    assert client.delete(f"/api/v1/tokens/{token_id}/", **owner.auth).status_code == 204
    assert tokens.authenticate(secret) is None
    assert AuditEvent.objects.filter(action="token.revoke", token_prefix=owner.token[:12]).exists()


def test_a_token_cannot_mint_a_stronger_one(client, personas):
    response = client.post("/api/v1/tokens/", {"name": "up", "scope": "admin"},
                           content_type="application/json", **personas["reader"].auth)
    assert response.status_code == 403


def test_token_cannot_name_an_unreadable_repository(client, personas, repositories):
    response = client.post("/api/v1/tokens/", {"name": "x", "repositories": ["private-py"]},
                           content_type="application/json", **personas["outsider"].auth)
    assert response.status_code == 400


def test_tokens_api_needs_login(client, db):
    response = client.get("/api/v1/tokens/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="registry"'


def test_web_token_page_creates_and_revokes_with_csrf(personas):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["writer"].user)
    # Without the CSRF token the form post is refused.
    assert browser.post("/ui/tokens/", {"name": "web", "scope": "read"}).status_code == 403
    page = browser.get("/ui/tokens/")
    csrf = page.cookies["csrftoken"].value
    response = browser.post("/ui/tokens/", {"name": "web", "scope": "read",
                                            "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert tokens.authenticate(secret).name == "web"
    token = ApiToken.objects.get(name="web")
    browser.post("/ui/tokens/", {"revoke": token.pk, "csrfmiddlewaretoken": csrf})
    assert tokens.authenticate(secret) is None
