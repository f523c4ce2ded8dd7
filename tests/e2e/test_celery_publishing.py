"""Publishing by a real Celery worker process over the Redis broker (and PostgreSQL when the
tests run on it): uploads through the web node, the worker builds and signs, apt reads it; a
worker killed mid-publish leaves the previous publication served and the next run completes."""

import socket
import time
import urllib.request
import uuid

import pytest

from tests.fixtures.debs import build_deb

from .apt_clients import AptRoot, configure, find_apt, put
from .conftest import (
    ADMIN, ADMIN_PASSWORD, LiveServer, _free_port, _server_environment, fail_or_skip, own_database,
)
from .processes import Worker

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)
# Enough distributions that a build (two gpg signatures each) takes a moment to kill.
DISTRIBUTIONS = [f"d{n:02d}" for n in range(48)]


def _redis_up():
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A web node and a Celery worker sharing a database and a Redis queue of their own."""
    find_apt()
    if not _redis_up():
        fail_or_skip("Redis is not reachable on 127.0.0.1:6379")
    base_dir = tmp_path_factory.mktemp("celery-cluster")
    env = _server_environment(base_dir / "var")
    env.update({
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "CELERY_QUEUE": f"registry-e2e-{uuid.uuid4().hex[:8]}",
        "PUBLISH_DEBOUNCE_SECONDS": "1",
        "PUBLISH_LEASE_SECONDS": "8",
    })
    database = own_database(env)
    web = LiveServer(base_dir, env, database)
    # The worker as on a host of its own: its metrics folder, its metrics port.
    worker_metrics_port = _free_port()
    worker = Worker({**env, "PROMETHEUS_MULTIPROC_DIR": str(base_dir / "worker-metrics"),
                     "WORKER_METRICS_PORT": str(worker_metrics_port)}, base_dir / "worker.log")
    worker.metrics_url = f"http://127.0.0.1:{worker_metrics_port}/metrics"
    (base_dir / "worker-metrics").mkdir()
    try:
        web.spawn()
        web.manage("createsuperuser", "--noinput", extra_env={
            "DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com"})
        web.admin_token = web.manage(*LiveServer.token_command(ADMIN, "celery-admin", "admin")).stdout.strip().splitlines()[-1]
        web.wait_until_ready()
        worker.start()
        yield web, worker
    finally:
        worker.stop()
        web.stop()
        if database is not None:
            database.drop()


def _release(web, repository, distribution="stable"):
    response = web.request("GET", f"/repository/{repository}/dists/{distribution}/Release", token=web.admin_token)
    return response.body.decode() if response.status == 200 else ""


def _wait_for(predicate, what, timeout=60, worker=None, poll=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{worker.log() if worker else ''}")


def _lease_holder(web, repository):
    """Who holds the repository's publish lease now ('' when nobody), read from the database."""
    query = ("SELECT l.holder FROM registry_publishlease l JOIN registry_repository r "
             "ON r.id = l.repository_id WHERE r.name = %s")
    if web.database is not None:
        import psycopg

        with psycopg.connect(web.database.url) as connection:
            row = connection.execute(query, (repository,)).fetchone()
    else:
        import sqlite3
        from contextlib import closing

        path = web.base_dir / "var" / "registry.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as connection:
            row = connection.execute(query.replace("%s", "?"), (repository,)).fetchone()
    return row[0] if row else ""


def _packages(web, repository, distribution="stable"):
    response = web.request("GET", f"/repository/{repository}/dists/{distribution}/main/binary-amd64/Packages",
                           token=web.admin_token)
    return response.body.decode() if response.status == 200 else ""


def test_the_worker_publishes_and_apt_reads_it(cluster, tmp_path):
    web, worker = cluster
    web.api("POST", "repositories/", {"name": "celery-deb", "format": "deb", "visibility": "private"}, expect=(201,))
    _wait_for(lambda: "Suite: stable" in _release(web, "celery-deb"), "the first (empty) publication", worker=worker)
    deb = build_deb(tmp_path, "celery-hello", "1.0", "all", files={"usr/share/celery-hello/README": "from a worker\n"})
    assert put(web, f"/repository/celery-deb/{deb.name}", deb.read_bytes(), web.admin_token) == 201
    _wait_for(lambda: "Package: celery-hello" in _packages(web, "celery-deb"), "the worker's publication", worker=worker)
    assert "publish_repository" in worker.log() and "succeeded" in worker.log()
    # The worker's build times on its own metrics port; the queue's depth on the web node's.
    with urllib.request.urlopen(worker.metrics_url, timeout=10) as answer:
        assert 'registry_publish_seconds_count{format="deb",outcome="published"}' in answer.read().decode()
    assert "registry_task_queue_depth " in web.request("GET", "/-/metrics").body.decode()

    root = AptRoot(tmp_path / "root")
    configure(root, web, {"repository": "celery-deb"}, web.admin_token)
    root.run("update", check=True)
    root.run("install", "-y", "celery-hello", check=True)
    assert (root.root / "usr/share/celery-hello/README").read_text() == "from a worker\n"


def test_a_worker_killed_mid_publish(cluster, tmp_path):
    web, worker = cluster
    repository = "celery-kill"
    web.api("POST", "repositories/", {"name": repository, "format": "deb", "visibility": "public",
                                       "settings": {"architectures": ["amd64"]}}, expect=(201,))
    first = build_deb(tmp_path, "kill-first", "1.0", "all")
    for distribution in DISTRIBUTIONS:
        put(web, f"/repository/{repository}/{first.name}?distribution={distribution}", first.read_bytes(),
            web.admin_token)
    _wait_for(lambda: all("kill-first" in _packages(web, repository, d) for d in (DISTRIBUTIONS[0], DISTRIBUTIONS[-1])),
              "the first full publication", worker=worker)
    before = _release(web, repository, "d00")

    second = build_deb(tmp_path, "kill-second", "1.0", "all")
    put(web, f"/repository/{repository}/{second.name}?distribution=d00", second.read_bytes(), web.admin_token)
    # The worker holds the repository's lease exactly while it builds (48 distributions, 96
    # signatures): kill it as soon as it has taken it.
    _wait_for(lambda: _lease_holder(web, repository), "the worker to start building", timeout=30,
              poll=0.01, worker=worker)
    worker.kill()
    assert "kill-second" not in _packages(web, repository, "d00"), "the build finished before the kill"
    # apt keeps working: the previous publication is still the one served, whole and signed.
    assert _release(web, repository, "d00") == before
    root = AptRoot(tmp_path / "root")
    configure(root, web, {"repository": repository}, web.admin_token)
    root.run("update", check=True)
    _code, output = root.run("install", "-y", "kill-first", check=True)

    # A new worker: the next publish waits out the dead worker's lease, then completes.
    worker.start()
    third = build_deb(tmp_path, "kill-third", "1.0", "all")
    put(web, f"/repository/{repository}/{third.name}?distribution=d00", third.read_bytes(), web.admin_token)
    _wait_for(lambda: "kill-second" in _packages(web, repository, "d00")
              and "kill-third" in _packages(web, repository, "d00"), "the next publication", timeout=90,
              worker=worker)
    root.run("update", check=True)
    root.run("install", "-y", "kill-second", "kill-third", check=True)
