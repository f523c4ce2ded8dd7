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
