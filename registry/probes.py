"""Checks of what a node depends on: the database, the broker, the blob store, the cache,
signing and the clock. `/-/ready` runs the cheap ones on every probe; `manage.py check_deploy`
runs them all, writes included, once per deployment."""

import datetime
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from storage import blobs

# How far the database's clock may be from this node's before signatures and expiry dates
# (Valid-Until, token expiry, the publication grace period) go wrong.
CLOCK_TOLERANCE = datetime.timedelta(seconds=30)
PROBE_TIMEOUT_SECONDS = 3


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


def run(name, probe):
    """Run `probe` (returns a detail text or raises) as the Check called `name`."""
    started = time.monotonic()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # a probe reports whatever went wrong, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return Check(name, ok, detail, round(time.monotonic() - started, 4))


def database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return f"{connection.vendor} reachable"


def migrations():
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _backwards in pending[:5])
        raise RuntimeError(f"{len(pending)} migration(s) not applied: {names} (run manage.py migrate)")
    return "every migration applied"


def broker():
    if not settings.CELERY_BROKER_URL:
        return "no broker: tasks run in-process"
    from registry.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_SECONDS)
    return f"{conn.transport.driver_name} broker reachable"


def storage_reachable():
    # A lookup, not a write: cheap enough for every readiness probe.
    blobs.exists(f"probes/{uuid.uuid4().hex}")
    return f"{type(blobs.blob_storage()).__name__} reachable"


def storage_writable():
    storage = blobs.blob_storage()
    key = f"probes/check-deploy-{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes
    saved = storage.save(key, ContentFile(payload, name=key))
    try:
        with storage.open(saved, "rb") as handle:
            if handle.read() != payload:
                raise RuntimeError("a written probe read back different bytes")
    finally:
        storage.delete(saved)
    return f"{type(storage).__name__}: wrote, read back and deleted a probe"


def cache_reachable():
    key = f"probe:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError(f"the cache ({settings.CACHES['default']['BACKEND']}) does not keep what it is given")
    cache.delete(key)
    return f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} works"


def signing():
    """gpg signs with a throwaway key, and every stored key opens with SIGNING_KEY_SECRETS."""
    from registry.models import SigningKey
    from signing import gpg, sealing

    material = gpg.generate("check_deploy", "check-deploy@registry.invalid")
    signature = gpg.detached_signature(b"probe", [material.private_armored])
    if b"BEGIN PGP SIGNATURE" not in signature:
        raise RuntimeError("gpg made no signature")
    unopened = []
    for key in SigningKey.objects.only("fingerprint", "private_sealed"):
        try:
            sealing.unseal(key.private_sealed, settings.SIGNING_KEY_SECRETS)
        except sealing.SealError:
            unopened.append(key.fingerprint)
    if unopened:
        raise RuntimeError(f"{len(unopened)} signing key(s) do not open with SIGNING_KEY_SECRETS: "
                           f"{', '.join(unopened[:3])}")
    return f"gpg signs; {SigningKey.objects.count()} stored key(s) open"


def clock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        database_now = cursor.fetchone()[0]
    if isinstance(database_now, str):  # SQLite answers text, in UTC
        database_now = datetime.datetime.fromisoformat(database_now)
    if database_now.tzinfo is None:
        database_now = database_now.replace(tzinfo=datetime.timezone.utc)
    skew = abs(datetime.datetime.now(datetime.timezone.utc) - database_now)
    if skew > CLOCK_TOLERANCE:
        raise RuntimeError(f"this node's clock is {skew.total_seconds():.0f}s away from the database's")
    return f"within {skew.total_seconds():.1f}s of the database's"


READINESS = (("database", database), ("broker", broker), ("storage", storage_reachable),
             ("cache", cache_reachable))
DEPLOYMENT = (("database", database), ("migrations", migrations), ("broker", broker),
              ("storage", storage_writable), ("cache", cache_reachable), ("signing", signing),
              ("clock", clock))
