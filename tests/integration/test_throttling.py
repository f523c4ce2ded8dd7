"""Throttling of failed authentication, at every entry point: tokens (Basic and Bearer, the
repositories and the REST API), the login page, the admin's login and npm's login and token
creation. After too many failures the answer is 429 with Retry-After in the client's format; a
right credential is never slowed down by the failures of others; the counts expire.

The Django test client sends REMOTE_ADDR 127.0.0.1; other addresses are given per request."""

import base64
import json
import time

import pytest
from django.contrib.auth import get_user_model

from registry.models import ApiToken, AuditEvent, Repository, RepositoryRole, Role

pytestmark = pytest.mark.django_db

URL = "/repository/private-py/simple/"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def bearer(secret, address=ATTACKER):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "REMOTE_ADDR": address}


def basic(user, password, address=ATTACKER):
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}", "REMOTE_ADDR": address}


def wrong_token(n):
    """A wrong token with a prefix of its own (guesses at one prefix are guesses at one account)."""
    return f"reg_{n:08d}" + "x" * 35


def assert_throttled(response, window):
    assert response.status_code == 429, response.content
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= window
    return seconds


@pytest.fixture
def small_limits(settings):
    settings.THROTTLE_ADDRESS_FAILURES = 4
    settings.THROTTLE_ACCOUNT_FAILURES = 2
    settings.THROTTLE_WINDOW_SECONDS = 60
    return settings


# --- tokens --------------------------------------------------------------------------------------


def test_wrong_tokens_with_the_production_limits(client, personas, settings):
    """The default limits, unchanged: 20 failures per address in 5 minutes."""
    limit, window = settings.THROTTLE_ADDRESS_FAILURES, settings.THROTTLE_WINDOW_SECONDS
    assert (limit, window) == (20, 300)
    for n in range(limit):
        response = client.get(URL, **bearer(wrong_token(n)))
        assert response.status_code == 401, n
        assert "Retry-After" not in response
    throttled = client.get(URL, **bearer(wrong_token(limit)))
    assert_throttled(throttled, window)
    assert throttled["Content-Type"].startswith("text/plain")
    # pip, twine and mvn print the reason phrase; npm too, after the status.
    assert throttled.reason_phrase.startswith("Invalid or expired API token. Too many failed authentication")
    assert b"try again in" in throttled.content
    # Basic, a malformed header or another scheme from that address: all 429 now.
    for header in (basic("__token__", wrong_token(99))["HTTP_AUTHORIZATION"], "Basic !!!", "Digest x"):
        assert client.get(URL, HTTP_AUTHORIZATION=header, REMOTE_ADDR=ATTACKER).status_code == 429
    # A right token is never slowed down, from that address or another.
    reader = personas["reader"].token
    assert client.get(URL, **bearer(reader)).status_code == 200
    assert client.get(URL, **basic("__token__", reader)).status_code == 200
    assert client.get(URL, **bearer(reader, ELSEWHERE)).status_code == 200
    # Another address has its own count.
    assert client.get(URL, **bearer(wrong_token(0), ELSEWHERE)).status_code == 401


def test_the_rest_api_answers_in_its_own_format(client, personas, small_limits):
    for n in range(4):
        response = client.get("/api/v1/repositories/", **bearer(wrong_token(n)))
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid or expired API token"}
        assert response["WWW-Authenticate"] == 'Basic realm="registry"'
    throttled = client.get("/api/v1/repositories/", **bearer(wrong_token(9)))
    assert_throttled(throttled, 60)
    assert throttled.json()["detail"].endswith("try again in 60 seconds.")
    assert client.get("/api/v1/repositories/", **bearer(personas["reader"].token)).status_code == 200


def test_guesses_at_one_token_from_many_addresses(client, personas, small_limits):
    """Past the account limit (guesses that share a real token's prefix), every further wrong
    guess is refused and blocks its address; the token itself keeps working everywhere."""
    secret = personas["reader"].token
    guess = secret[:12] + "0" * (len(secret) - 12)
    for n in range(2):
        assert client.get(URL, **bearer(guess, f"192.0.2.{n + 1}")).status_code == 401
    assert_throttled(client.get(URL, **bearer(guess, "192.0.2.3")), 60)
    assert_throttled(client.get(URL, **bearer(wrong_token(1), "192.0.2.3")), 60)  # that address is blocked
    assert_throttled(client.get(URL, **bearer(guess, "192.0.2.4")), 60)
    for address in ("192.0.2.1", "192.0.2.3", "192.0.2.99"):
        assert client.get(URL, **bearer(secret, address)).status_code == 200


def test_the_counts_expire(client, personas, settings):
    settings.THROTTLE_ADDRESS_FAILURES = 2
    settings.THROTTLE_WINDOW_SECONDS = 1
    time.sleep(1 - time.time() % 1)  # start at the beginning of a window
    for n in range(2):
        assert client.get(URL, **bearer(wrong_token(n))).status_code == 401
    assert_throttled(client.get(URL, **bearer(wrong_token(2))), 1)
    time.sleep(1.1)
    assert client.get(URL, **bearer(wrong_token(3))).status_code == 401


# --- the login page and the admin's ---------------------------------------------------------------


def log_in(client, username, password, address=ATTACKER, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_page_with_the_production_limits(client, personas, settings):
    """10 wrong passwords for one account (the default), then 429 — and the address is blocked
    for every account, even with the right password; the owner logs in from elsewhere."""
    limit, window = settings.THROTTLE_ACCOUNT_FAILURES, settings.THROTTLE_WINDOW_SECONDS
    assert limit == 10
    for n in range(limit):
        response = log_in(client, "reader", f"guess-{n}")
        assert response.status_code == 200 and b"Please enter a correct username" in response.content
    throttled = log_in(client, "reader", "guess-10")
    assert_throttled(throttled, window)
    assert b"Too many failed authentication attempts: try again in" in throttled.content
    assert b'name="username"' in throttled.content  # the form again, to try later
    assert_throttled(log_in(client, "reader", "pw-reader"), window)  # not even checked
    assert_throttled(log_in(client, "writer", "pw-writer"), window)
    assert "_auth_user_id" not in client.session
    right = log_in(client, "reader", "pw-reader", ELSEWHERE)
    assert right.status_code == 302 and client.session["_auth_user_id"] == str(personas["reader"].user.pk)


def test_login_page_counts_per_address_across_accounts(client, personas, small_limits):
    for n in range(4):
        assert log_in(client, f"nobody-{n}", "guess").status_code == 200
    assert_throttled(log_in(client, "nobody-5", "guess"), 60)
    assert log_in(client, "writer", "pw-writer", ELSEWHERE).status_code == 302


def test_an_attacked_account_still_lets_its_owner_in(client, personas, small_limits):
    for n in range(3):
        log_in(client, "writer", "guess", f"192.0.2.{n + 1}")
    # A wrong guess from a fresh address is refused at once; the right password is accepted.
    assert_throttled(log_in(client, "writer", "guess", "192.0.2.50"), 60)
    assert log_in(client, "writer", "pw-writer", "192.0.2.51").status_code == 302


def test_admin_login(client, personas, small_limits):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    for n in range(2):
        assert log_in(client, "root", "guess", path="/admin/login/").status_code == 200
    throttled = log_in(client, "root", "guess", path="/admin/login/")
    assert_throttled(throttled, 60)
    assert b"Too many failed authentication attempts" in throttled.content
    assert log_in(client, "root", "pw-root", ELSEWHERE, path="/admin/login/").status_code == 302


# --- npm ---------------------------------------------------------------------------------------------


@pytest.fixture
def npm_repo(personas):
    repository = Repository.objects.create(name="public-npm", format="npm", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["reader"].user, role=Role.READ)
    return repository


def npm_login(client, username, password, address=ATTACKER):
    body = {"_id": f"org.couchdb.user:{username}", "name": username, "password": password,
            "type": "user", "roles": []}
    return client.put(f"/repository/public-npm/-/user/org.couchdb.user:{username}", json.dumps(body),
                      content_type="application/json", REMOTE_ADDR=address)


def test_npm_login(client, personas, npm_repo, small_limits):
    for n in range(2):
        wrong = npm_login(client, "reader", f"guess-{n}")
        assert wrong.status_code == 401 and wrong.json() == {"error": "Incorrect username or password."}
    throttled = npm_login(client, "reader", "guess-2")
    assert_throttled(throttled, 60)
    assert throttled.json()["error"].startswith("Too many failed authentication attempts")  # npm prints it
    assert_throttled(npm_login(client, "reader", "pw-reader"), 60)
    assert not ApiToken.objects.filter(name__startswith="npm login").exists()
    assert npm_login(client, "reader", "pw-reader", ELSEWHERE).status_code == 201


def test_npm_token_creation_checks_the_password_too(client, personas, npm_repo, small_limits):
    auth = bearer(personas["owner"].token)  # an admin-scope token may manage tokens
    for n in range(2):
        response = client.post("/repository/public-npm/-/npm/v1/tokens", json.dumps({"password": "guess"}),
                               content_type="application/json", **auth)
        assert response.status_code == 401, response.content
    throttled = client.post("/repository/public-npm/-/npm/v1/tokens", json.dumps({"password": "guess"}),
                            content_type="application/json", **auth)
    assert_throttled(throttled, 60)
    assert "error" in throttled.json()


# --- the client's address behind a proxy ---------------------------------------------------------


def test_the_address_is_the_clients_behind_a_trusted_proxy(client, personas, small_limits):
    small_limits.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    # The client writes its own X-Forwarded-For; nginx appends the address it saw.
    spoofed = {**proxy, "HTTP_X_FORWARDED_FOR": f"{ELSEWHERE}, {ATTACKER}"}
    for n in range(4):
        client.get(URL, HTTP_AUTHORIZATION=f"Bearer {wrong_token(n)}", **spoofed)
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {wrong_token(5)}", **spoofed).status_code == 429
    # Another client behind the same proxy is not blocked, nor the one it tried to frame.
    for address in (ELSEWHERE, "198.51.100.77"):
        forwarded = {**proxy, "HTTP_X_FORWARDED_FOR": address}
        assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {wrong_token(6)}", **forwarded).status_code == 401
    # An untrusted peer's X-Forwarded-For is ignored: its own address counts.
    for n in range(5):
        response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {wrong_token(n)}", REMOTE_ADDR="192.0.2.9",
                              HTTP_X_FORWARDED_FOR=f"192.0.2.{100 + n}")
    assert response.status_code == 429
    # The audit log says where a write came from, the same way.
    owner = bearer(personas["owner"].token)
    owner["REMOTE_ADDR"] = "10.1.2.3"
    created = client.post("/api/v1/tokens/", {"name": "via-proxy", "scope": "read"},
                          content_type="application/json", HTTP_X_FORWARDED_FOR="192.0.2.200", **owner)
    assert created.status_code == 201, created.content
    assert AuditEvent.objects.get(action="token.create", detail__name="via-proxy").remote_addr == "192.0.2.200"


# --- the metrics token -----------------------------------------------------------------------------


def test_the_metrics_token_is_throttled_like_a_password(client, settings, small_limits):
    settings.METRICS_TOKEN = "scrape-secret"
    for n in range(2):
        response = client.get("/-/metrics", HTTP_AUTHORIZATION=f"Bearer guess-{n}", REMOTE_ADDR=ATTACKER)
        assert response.status_code == 401
    assert_throttled(client.get("/-/metrics", HTTP_AUTHORIZATION="Bearer guess", REMOTE_ADDR=ATTACKER), 60)
    # Not even checked from that address now; the scraper elsewhere is not slowed down.
    assert_throttled(client.get("/-/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", REMOTE_ADDR=ATTACKER), 60)
    assert client.get("/-/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", REMOTE_ADDR=ELSEWHERE).status_code == 200
