"""What operators poll and run: /-/health, /-/ready and manage.py check_deploy, against the
real database, cache and blob store of the tests (and a cache that is not there)."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_health_needs_nothing(client):
    response = client.get("/-/health")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]
    assert client.post("/-/health").status_code == 405


def test_ready_reports_each_dependency(client):
    response = client.get("/-/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "storage", "cache"}
    assert all(check["ok"] for check in body["checks"].values())


def test_not_ready_when_the_cache_is_unreachable(client):
    from django.test import override_settings

    # A Redis address where nothing listens: the probe fails the way a down Redis does.
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=unreachable):
        response = client.get("/-/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["cache"]["ok"] is False and "Error" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_check_deploy_passes_on_a_working_deployment():
    out = io.StringIO()
    call_command("check_deploy", stdout=out)
    text = out.getvalue()
    for name in ("database", "migrations", "broker", "storage", "cache", "signing", "clock"):
        assert f" {name:10} " in text
    assert "FAILED" not in text and text.rstrip().endswith("The deployment is ready.")


def test_check_deploy_fails_when_a_key_does_not_open(personas, settings):
    from registry.models import Repository
    from registry.services import signing_keys
    from registry.services.access import Actor

    repository = Repository.objects.create(name="keyed-deb", format="deb", visibility="public")
    key = signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
    settings.SIGNING_KEY_SECRETS = ["a-secret-the-key-was-not-sealed-with"]
    out = io.StringIO()
    with pytest.raises(CommandError, match="not ready: signing"):
        call_command("check_deploy", stdout=out)
    assert f"do not open with SIGNING_KEY_SECRETS: {key.fingerprint}" in out.getvalue()


def test_sort_keys_order_byte_by_byte(repositories):
    """Every format builds sort keys for byte order; the database must not reorder them by a
    locale (PostgreSQL databases made with en_US.utf8 would, without the column's "C" collation)."""
    from django.db import connection

    from registry.models import Package, PackageVersion

    package = Package.objects.create(repository=repositories["public"], name="order", normalized_name="order")
    keys = ["a!2", "a~1", "A", "B", "b", "_x", "a-1", "a.1", "Z9", "aa"]
    for index, key in enumerate(keys):
        PackageVersion.objects.create(package=package, version=str(index), sort_key=key)
    stored = list(package.versions.order_by("sort_key").values_list("sort_key", flat=True))
    assert stored == sorted(keys, key=lambda k: k.encode())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT collation_name FROM information_schema.columns "
                           "WHERE table_name = 'registry_packageversion' AND column_name = 'sort_key'")
            assert cursor.fetchone()[0] == "C"


# --- metrics ---------------------------------------------------------------------------------------


def sample(name, **labels):
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0


def test_metrics_count_requests_by_area_and_status(client, repositories):
    before = sample("registry_http_requests_total", area="pypi", method="GET", status="200")
    missing = sample("registry_http_requests_total", area="pypi", method="GET", status="404")
    ops = sample("registry_http_requests_total", area="ops", method="GET", status="200")
    assert client.get("/repository/public-py/simple/").status_code == 200
    assert client.get("/repository/public-py/simple/").status_code == 200
    assert client.get("/repository/public-py/simple/nothing-here/").status_code == 404
    assert client.get("/-/health").status_code == 200
    response = client.get("/-/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert sample("registry_http_requests_total", area="pypi", method="GET", status="200") == before + 2
    assert sample("registry_http_requests_total", area="pypi", method="GET", status="404") == missing + 1
    assert sample("registry_http_requests_total", area="ops", method="GET", status="200") >= ops + 1
    text = response.content.decode()
    assert 'registry_http_requests_total{area="pypi",method="GET",status="200"}' in text
    # A private repository's name is never a label.
    assert "private-py" not in text and "public-py" not in text


def test_metrics_count_upload_bytes_and_publish_durations(client, personas, tmp_path,
                                                         django_capture_on_commit_callbacks):
    from registry.models import Repository, RepositoryRole, Role
    from registry.services import signing_keys
    from registry.services.access import Actor
    from tests.fixtures.debs import build_deb

    repository = Repository.objects.create(name="metered-deb", format="deb", visibility="public")
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    signing_keys.ensure_key(Actor(user=personas["writer"].user), repository)
    deb = build_deb(tmp_path, "metered", "1.0", "all")
    uploaded = sample("registry_upload_bytes_total", format="deb")
    files = sample("registry_uploads_total", format="deb")
    published = sample("registry_publish_seconds_count", format="deb", outcome="published")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(f"/repository/metered-deb/{deb.name}", deb.read_bytes(), **personas["writer"].auth)
    assert response.status_code == 201
    assert sample("registry_upload_bytes_total", format="deb") == uploaded + deb.stat().st_size
    assert sample("registry_uploads_total", format="deb") == files + 1
    assert sample("registry_publish_seconds_count", format="deb", outcome="published") == published + 1
    assert sample("registry_publish_seconds_sum", format="deb", outcome="published") > 0
    # A refused upload counts nothing.
    client.put(f"/repository/metered-deb/{deb.name}", b"not a deb", **personas["writer"].auth)
    assert sample("registry_uploads_total", format="deb") == files + 1


def test_metrics_can_need_a_token(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    refused = client.get("/-/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/-/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/-/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_metrics_without_a_token_answer_only_this_host(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/-/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/-/metrics", REMOTE_ADDR="::1").status_code == 200
    for refused in [client.get("/-/metrics", REMOTE_ADDR="10.1.2.3"),
                    client.get("/-/metrics", REMOTE_ADDR="192.0.2.7"),
                    # A proxy on this host relays someone else's request from loopback.
                    client.get("/-/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9"),
                    client.get("/-/metrics", HTTP_FORWARDED="for=203.0.113.9"),
                    client.get("/-/metrics", HTTP_X_REAL_IP="203.0.113.9")]:
        assert refused.status_code == 403
        assert b"registry_http_requests_total" not in refused.content
        assert b"METRICS_TOKEN" in refused.content
    # With a token, the address does not matter.
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/-/metrics", REMOTE_ADDR="10.1.2.3",
                      HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


@pytest.mark.parametrize("headers", [{}, "outsider"], ids=["anonymous", "outsider"])
def test_metrics_count_a_refused_private_repository_like_a_missing_one(client, personas, headers):
    """Issue 14, item 5: a refusal counted under the private repository's format told its format."""
    from registry.models import Repository

    Repository.objects.create(name="private-mvn", format="maven", visibility="private")
    headers = personas[headers].auth if headers else {}
    status = "401" if not headers else "404"
    counts = {area: sample("registry_http_requests_total", area=area, method="GET", status=status)
              for area in ("maven", "repository")}
    private = client.get("/repository/private-mvn/com/example/a/1.0/a-1.0.jar", **headers)
    missing = client.get("/repository/absent-mvn/com/example/a/1.0/a-1.0.jar", **headers)
    assert private.status_code == missing.status_code == int(status)
    assert sample("registry_http_requests_total", area="maven", method="GET", status=status) == counts["maven"]
    assert sample("registry_http_requests_total", area="repository", method="GET",
                  status=status) == counts["repository"] + 2


def test_bootstrap_admin_from_the_environment(monkeypatch):
    from django.contrib.auth import authenticate, get_user_model

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-from-env")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.com")
    out = io.StringIO()
    call_command("bootstrap_admin", stdout=out)
    assert "Created the superuser 'ops-admin'" in out.getvalue()
    user = authenticate(username="ops-admin", password="a-long-password-from-env")
    assert user is not None and user.is_superuser and user.email == "ops@example.com"
    # Every start runs it again: nothing changes.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-password")
    out = io.StringIO()
    call_command("bootstrap_admin", stdout=out)
    assert "exists" in out.getvalue() and get_user_model().objects.filter(is_superuser=True).count() == 1
    assert authenticate(username="ops-admin", password="a-long-password-from-env") is not None
