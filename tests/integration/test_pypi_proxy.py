"""A PyPI proxy repository against a real upstream: this registry itself, served by
pytest-django's live server (a thread with a real HTTP socket), holding a hosted repository.

The proxy is created through the REST API as an admin would; the upstream gets its packages
through the upload API as twine sends them. Cache rules are tested with short max ages and an
upstream address where nothing listens (an upstream that has stopped).
"""

import hashlib
import json
import os
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.models import AuditEvent, Blob, PackageFile, Repository, Upstream, UpstreamDocument
from tests.fixtures.dists import build_wheel
from tests.integration.pypi_helpers import JSON, sha256, upload

pytestmark = pytest.mark.django_db(transaction=True)

API = "application/json"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _sqlite_readers_do_not_lock():
    """Django's in-memory SQLite test database is in shared-cache mode, where a reader's table
    lock makes a concurrent writer fail at once ("database table is locked") instead of waiting
    as with the server's file database. The proxy's fetch thread writes while requests read, so
    here readers read without locks."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    def unlocked_reads(sender, connection, **kwargs):
        if connection.vendor == "sqlite":
            connection.cursor().execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(unlocked_reads)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        unlocked_reads(None, connection)
    yield
    connection_created.disconnect(unlocked_reads)


@pytest.fixture(autouse=True)
def _no_kept_alive_upstream_connections():
    """The live server's request threads end with the test, not with a kept-alive connection."""
    yield
    from registry.proxy import client as upstream_client

    upstream_client.close_connections()


@pytest.fixture
def owner(personas):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    return personas["owner"]


@pytest.fixture
def upstream(live_server, client, owner, tmp_path):
    """The public hosted repository public-py on the live server, with proxied-pkg 1.0."""
    wheel = build_wheel(tmp_path, "proxied-pkg", "1.0", requires_python=">=3.8")
    assert upload(client, "public-py", wheel, owner).status_code == 200
    return {"url": f"{live_server.url}/repository/public-py/simple/", "wheel": wheel,
            "live": live_server}


def create_proxy(client, owner, url, name="py-proxy", visibility="public", **settings):
    body = {"name": name, "format": "pypi", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": url, **settings}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return response.json()


def page(client, project, repository="py-proxy", persona=None, accept=JSON):
    headers = persona.auth if persona else {}
    return client.get(f"/repository/{repository}/simple/{project}/", HTTP_ACCEPT=accept, **headers)


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def set_upstream(client, owner, repository="py-proxy", **settings):
    response = client.patch(f"/api/v1/repositories/{repository}/", {"upstream": settings},
                            content_type=API, **owner.auth)
    assert response.status_code == 200, response.content
    return response.json()


def test_index_rewritten_and_files_cached_verified_and_deduplicated(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    wheel = upstream["wheel"]
    response = page(client, "proxied-pkg")
    assert response.status_code == 200, response.content
    listed = {f["filename"]: f for f in response.json()["files"]}
    entry = listed[wheel.name]
    # Every URL is this server's, in the hosted shape; hashes and PEP 592/658/700 fields kept.
    assert entry["url"] == f"http://testserver/repository/py-proxy/packages/proxied-pkg/{wheel.name}"
    assert entry["hashes"] == {"sha256": sha256(wheel)}
    assert entry["requires-python"] == ">=3.8"
    assert entry["yanked"] is False
    assert entry["size"] == wheel.stat().st_size
    assert entry["upload-time"].endswith("Z")
    upstream_page = client.get("/repository/public-py/simple/proxied-pkg/", HTTP_ACCEPT=JSON).json()
    assert entry["core-metadata"] == upstream_page["files"][0]["core-metadata"]
    assert response.json()["versions"] == ["1.0"]
    html = page(client, "proxied-pkg", accept="text/html")
    assert f'/repository/py-proxy/packages/proxied-pkg/{wheel.name}#sha256={sha256(wheel)}' in html.content.decode()
    assert 'data-requires-python="&gt;=3.8"' in html.content.decode()

    # PEP 658 metadata, fetched and verified before the file itself.
    metadata = client.get(f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}.metadata")
    assert metadata.status_code == 200
    assert hashlib.sha256(body_of(metadata)).hexdigest() == entry["core-metadata"]["sha256"]

    download = client.get(f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}")
    assert download.status_code == 200
    assert body_of(download) == wheel.read_bytes()
    proxy = Repository.objects.get(name="py-proxy")
    cached = PackageFile.objects.get(repository=proxy)
    assert cached.blob_id == sha256(wheel)
    # One blob for the hosted file and its cached copy.
    assert Blob.objects.filter(sha256=sha256(wheel)).count() == 1
    event = AuditEvent.objects.get(repository=proxy, action="file.cache")
    assert event.detail["cached_from"].endswith(f"/repository/public-py/packages/proxied-pkg/{wheel.name}")

    # Cached for good: served with the upstream gone.
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/simple/")
    again = client.get(f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}")
    assert again.status_code == 200 and body_of(again) == wheel.read_bytes()


def test_new_upstream_version_appears_after_max_age_and_not_before(client, owner, upstream, tmp_path):
    create_proxy(client, owner, upstream["url"], metadata_max_age=1)
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0"]
    newer = build_wheel(tmp_path, "proxied-pkg", "2.0")
    assert upload(client, "public-py", newer, owner).status_code == 200
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0"]
    time.sleep(1.1)
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0", "2.0"]
    # Revalidation sends the upstream's validator back.
    assert UpstreamDocument.objects.get(key="simple/proxied-pkg/").etag


def test_upstream_not_found_is_remembered_for_the_negative_max_age(client, owner, upstream, tmp_path):
    create_proxy(client, owner, upstream["url"], negative_max_age=1)
    missing = page(client, "later-pkg")
    assert missing.status_code == 404
    assert "later-pkg" in missing.content.decode()
    assert upload(client, "public-py", build_wheel(tmp_path, "later-pkg", "1.0"), owner).status_code == 200
    assert page(client, "later-pkg").status_code == 404
    time.sleep(1.1)
    assert page(client, "later-pkg").status_code == 200


def test_upstream_down_serves_stale_metadata_and_opens_the_circuit(client, owner, upstream, settings):
    settings.PROXY_FAILURE_THRESHOLD = 2
    create_proxy(client, owner, upstream["url"], metadata_max_age=0)
    assert page(client, "proxied-pkg").status_code == 200
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/simple/")

    stale = page(client, "proxied-pkg")
    assert stale.status_code == 200
    assert stale["Warning"].startswith('110 - "Response is Stale')
    assert stale.json()["files"][0]["filename"] == upstream["wheel"].name
    uncached = page(client, "never-seen")
    assert uncached.status_code == 502
    assert "Nothing is cached for simple/never-seen/" in uncached.content.decode()

    # Two failures in a row: the circuit is open, the API shows it, the upstream is not called.
    shown = client.get("/api/v1/repositories/py-proxy/", **owner.auth).json()["upstream"]["health"]
    assert shown["status"] == "down" and shown["consecutive_failures"] == 2
    assert "Cannot connect" in shown["last_error"]
    refused = page(client, "another-one")
    assert refused.status_code == 502
    assert "not called again before" in refused.content.decode()
    assert Upstream.objects.get().failures == 2  # no call, no new failure

    # Offline: only what is cached, without calling the upstream.
    set_upstream(client, owner, url=upstream["url"], offline=True)
    offline = page(client, "proxied-pkg")
    assert offline.status_code == 200 and "offline" in offline["Warning"]


def test_tampered_upstream_file_is_refused_and_not_stored(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    wheel = upstream["wheel"]
    assert page(client, "proxied-pkg").status_code == 200
    # The upstream's stored bytes change behind its index's back.
    stored = Blob.objects.get(sha256=sha256(wheel))
    from storage import blobs
    with open(blobs.local_path(stored.storage_key), "r+b") as handle:
        handle.seek(40)
        handle.write(b"tampered")
    url = f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}"
    response = client.get(url)
    assert response.status_code == 502
    assert "does not match its index" in response.content.decode()
    assert sha256(wheel) in response.content.decode()
    assert not PackageFile.objects.filter(repository__name="py-proxy").exists()
    assert not AuditEvent.objects.filter(action="file.cache").exists()
    # The failure is remembered briefly: the next request does not call the upstream again.
    assert client.get(url).status_code == 502


class _SlowFile(BaseHTTPRequestHandler):
    """An upstream whose one file arrives in two halves: the second only once `release` is
    set (and other bytes than its index promises when `tampered`)."""

    content = b""  # a real wheel of some 400 kB, made by the fixture
    release = threading.Event()
    tampered = False
    fetches = 0

    def do_GET(self):
        if self.path.endswith("/slow-pkg/"):
            entry = {"filename": WHEEL, "url": f"/files/{WHEEL}",
                     "hashes": {"sha256": hashlib.sha256(self.content).hexdigest()}}
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": "slow-pkg", "files": [entry]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        type(self).fetches += 1
        half = len(self.content) // 2
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.content)))
        self.end_headers()
        self.wfile.write(self.content[:half])
        self.wfile.flush()
        self.release.wait(10)
        rest = self.content[half:]
        self.wfile.write(b"z" * len(rest) if self.tampered else rest)

    def log_message(self, *args):
        pass


WHEEL = "slow_pkg-1.0-py3-none-any.whl"


@pytest.fixture
def slow_upstream(tmp_path):
    source = f'DATA = "{os.urandom(300_000).hex()}"\n'
    _SlowFile.content = build_wheel(tmp_path, "slow-pkg", "1.0", module_source=source).read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFile)
    _SlowFile.release = threading.Event()
    _SlowFile.fetches = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/simple/"
    _SlowFile.release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("tampered", [False, True], ids=["intact", "tampered"])
def test_large_first_fetch_streams_before_it_has_arrived(client, owner, settings, slow_upstream,
                                                         tampered):
    settings.PROXY_VERIFY_BEFORE_SERVE = 1000
    _SlowFile.tampered = tampered
    create_proxy(client, owner, slow_upstream)
    assert page(client, "slow-pkg").status_code == 200
    response = client.get(f"/repository/py-proxy/packages/slow-pkg/{WHEEL}")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Length"] == str(len(_SlowFile.content))
    chunks = iter(response.streaming_content)
    first = next(chunks)
    # Bytes reach the client while the upstream still holds back its second half.
    assert first and not _SlowFile.release.is_set()
    assert _SlowFile.content.startswith(first)
    _SlowFile.release.set()
    if tampered:
        # Cut short before the end: the client never holds the bad file whole.
        with pytest.raises(Exception, match="does not match its index"):
            b"".join(chunks)
        assert not PackageFile.objects.filter(repository__name="py-proxy").exists()
    else:
        assert first + b"".join(chunks) == _SlowFile.content
        assert PackageFile.objects.filter(repository__name="py-proxy").count() == 1
    assert _SlowFile.fetches == 1


def test_streamed_first_fetch_gives_the_whole_verified_file(client, owner, upstream, settings):
    settings.PROXY_VERIFY_BEFORE_SERVE = 0
    create_proxy(client, owner, upstream["url"])
    wheel = upstream["wheel"]
    page(client, "proxied-pkg")
    response = client.get(f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}")
    assert response.streaming
    assert int(response["Content-Length"]) == wheel.stat().st_size
    assert b"".join(response.streaming_content) == wheel.read_bytes()
    assert PackageFile.objects.filter(repository__name="py-proxy", blob_id=sha256(wheel)).exists()


def test_private_proxy_is_as_invisible_as_a_private_hosted_repository(client, owner, personas, upstream):
    create_proxy(client, owner, upstream["url"], visibility="private")
    Repository.objects.get(name="py-proxy").roles.create(user=personas["reader"].user, role="read")
    assert page(client, "proxied-pkg").status_code == 401
    assert page(client, "proxied-pkg", persona=personas["outsider"]).status_code == 404
    assert page(client, "no-such-repo-pkg", repository="no-such-repo",
                persona=personas["outsider"]).status_code == 404
    assert page(client, "proxied-pkg", persona=personas["reader"]).status_code == 200
    wheel = upstream["wheel"].name
    assert client.get(f"/repository/py-proxy/packages/proxied-pkg/{wheel}").status_code == 401
    assert "private" in page(client, "proxied-pkg", persona=personas["reader"])["Cache-Control"]


def test_uploads_to_a_proxy_are_refused(client, owner, upstream, tmp_path):
    create_proxy(client, owner, upstream["url"])
    wheel = build_wheel(tmp_path, "mine", "1.0")
    response = upload(client, "py-proxy", wheel, owner)
    assert response.status_code == 405
    assert "is a proxy" in response.reason_phrase
    with wheel.open("rb") as handle:
        api = client.post("/api/v1/repositories/py-proxy/upload/", {"file": handle}, **owner.auth)
    assert api.status_code == 405
    assert "takes no uploads" in api.json()["detail"]
    assert not PackageFile.objects.filter(repository__name="py-proxy").exists()


def test_upstream_settings_shown_without_the_secret_and_sealed_at_rest(client, owner, live_server,
                                                                       personas):
    # The upstream is private: only its credentials open it.
    private_url = f"{live_server.url}/repository/private-py/simple/"
    created = create_proxy(client, owner, private_url, username="reader", password=personas["reader"].token,
                           connect_timeout=2, read_timeout=10)
    shown = created["upstream"]
    assert shown["credentials"] == "basic" and shown["username"] == "reader"
    assert personas["reader"].token not in json.dumps(created)
    assert shown["metadata_max_age"] == 1800 and shown["negative_max_age"] == 300
    assert shown["connect_timeout"] == 2 and shown["read_timeout"] == 10 and shown["offline"] is False
    sealed = bytes(Upstream.objects.get().secret_sealed)
    assert personas["reader"].token.encode() not in sealed
    assert page(client, "nothing-here").status_code == 404  # the upstream's own 404: we got in
    set_upstream(client, owner, token="other-secret")
    event = AuditEvent.objects.filter(action="repository.update").latest("id")
    assert event.detail["changes"]["upstream"]["credentials"] == "set"
    assert "other-secret" not in json.dumps(event.detail)
    bad = client.patch("/api/v1/repositories/py-proxy/", {"upstream": {"read_timeout": -1}},
                       content_type=API, **owner.auth)
    assert bad.status_code == 400 and "upstream" in bad.json()


class _Recorder(BaseHTTPRequestHandler):
    """An upstream that sends /simple/ on to another origin (localhost instead of 127.0.0.1),
    recording which requests carried credentials."""

    seen = []

    def do_GET(self):
        host = self.headers["Host"].split(":")[0]
        self.seen.append((host, self.path, self.headers.get("Authorization")))
        if host == "127.0.0.1":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}{self.path}")
            self.end_headers()
            return
        body = json.dumps({"meta": {"api-version": "1.1"}, "name": "elsewhere", "files": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_credentials_are_not_sent_to_another_origin(client, owner, personas):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        create_proxy(client, owner, f"http://127.0.0.1:{server.server_port}/simple/",
                     token="upstream-secret")
        assert page(client, "elsewhere").status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    (first_host, _, first_auth), (second_host, _, second_auth) = _Recorder.seen
    assert (first_host, first_auth) == ("127.0.0.1", "Bearer upstream-secret")
    assert (second_host, second_auth) == ("localhost", None)


def test_admin_invalidates_one_package_and_the_next_request_asks_the_upstream(client, owner, personas,
                                                                             upstream, tmp_path):
    create_proxy(client, owner, upstream["url"])
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0"]
    assert upload(client, "public-py", build_wheel(tmp_path, "proxied-pkg", "2.0"), owner).status_code == 200
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0"]  # within the max age
    url = "/api/v1/repositories/py-proxy/invalidate/"
    Repository.objects.get(name="py-proxy").roles.create(user=personas["writer"].user, role="write")
    assert client.post(url, {"package": "proxied-pkg"}, content_type=API,
                       **personas["writer"].auth).status_code == 403
    done = client.post(url, {"package": "Proxied_Pkg"}, content_type=API, **owner.auth)
    assert done.status_code == 200 and done.json() == {"package": "Proxied_Pkg", "documents": 1}
    assert page(client, "proxied-pkg").json()["versions"] == ["1.0", "2.0"]
    assert AuditEvent.objects.filter(action="proxy.invalidate", package_name="Proxied_Pkg").exists()
    hosted = client.post("/api/v1/repositories/public-py/invalidate/", {}, content_type=API, **owner.auth)
    assert hosted.status_code == 400 and "not a proxy" in hosted.json()["detail"]


def test_settings_page_shows_health_and_changes_the_upstream(client, owner, personas, upstream):
    create_proxy(client, owner, upstream["url"])
    assert page(client, "proxied-pkg").status_code == 200
    client.force_login(owner.user)
    shown = client.get("/ui/repositories/py-proxy/settings/").content.decode()
    assert "Upstream" in shown and "Health: <strong>ok</strong>" in shown
    assert f'value="{upstream["url"]}"' in shown
    form = {"section": "upstream", "url": upstream["url"], "username": "reader",
            "secret": personas["reader"].token, "metadata_max_age": "60", "negative_max_age": "5",
            "connect_timeout": "1.5", "read_timeout": "9", "offline": "on"}
    client.post("/ui/repositories/py-proxy/settings/", form)
    saved = Upstream.objects.get()
    assert (saved.metadata_max_age, saved.negative_max_age, saved.connect_timeout, saved.read_timeout,
            saved.offline, saved.username) == (60, 5, 1.5, 9.0, True, "reader")
    assert saved.has_credentials and personas["reader"].token.encode() not in bytes(saved.secret_sealed)
    assert personas["reader"].token not in client.get("/ui/repositories/py-proxy/settings/").content.decode()
    # A bad number is refused with a message; nothing changes.
    client.post("/ui/repositories/py-proxy/settings/", {**form, "read_timeout": "soon"})
    assert Upstream.objects.get().read_timeout == 9.0
    client.post("/ui/repositories/py-proxy/settings/", {"section": "invalidate", "package": ""})
    assert not UpstreamDocument.objects.filter(repository__name="py-proxy").exists()
    assert "Proxy of" in client.get("/ui/repositories/py-proxy/").content.decode()


def test_credentials_follow_a_change_of_the_sealing_secret(client, owner, settings, upstream):
    settings.SIGNING_KEY_SECRETS = ["old-secret"]
    create_proxy(client, owner, upstream["url"], token="upstream-token")
    from registry.proxy import client as upstream_client, configuration

    settings.SIGNING_KEY_SECRETS = ["new-secret", "old-secret"]
    assert configuration.reseal_credentials() == 1
    settings.SIGNING_KEY_SECRETS = ["new-secret"]
    assert upstream_client.credentials(Upstream.objects.get()) == {"Authorization": "Bearer upstream-token"}
    # Opened with neither: the upstream is not called with broken credentials, and says why.
    settings.SIGNING_KEY_SECRETS = ["another"]
    failed = page(client, "proxied-pkg")
    assert failed.status_code == 502 and "SIGNING_KEY_SECRETS" in failed.content.decode()


def test_a_cached_version_an_admin_deletes_is_fetched_again(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    wheel = upstream["wheel"]
    url = f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}"
    page(client, "proxied-pkg")
    assert body_of(client.get(url)) == wheel.read_bytes()
    cached = PackageFile.objects.get(repository__name="py-proxy")
    assert client.delete(f"/api/v1/versions/{cached.version_id}/", **owner.auth).status_code == 204
    assert not PackageFile.objects.filter(repository__name="py-proxy").exists()
    # Deleted from the cache, not from the upstream: the next request caches it again.
    again = client.get(url)
    assert again.status_code == 200 and body_of(again) == wheel.read_bytes()
    assert AuditEvent.objects.filter(repository__name="py-proxy", action="file.cache").count() == 2


def test_cached_files_not_requested_for_the_set_days_are_removed_and_fetched_again(
        client, owner, upstream, settings):
    from django.utils import timezone

    from registry.proxy import cleanup
    from registry.tasks import remove_unrequested_proxy_files

    create_proxy(client, owner, upstream["url"])
    wheel = upstream["wheel"]
    url = f"/repository/py-proxy/packages/proxied-pkg/{wheel.name}"
    page(client, "proxied-pkg")
    assert client.get(url).status_code == 200
    assert remove_unrequested_proxy_files() == 0  # PROXY_CACHE_DAYS 0: kept for good
    assert cleanup.remove_unrequested(days=1) == 0  # cached and downloaded today
    later = timezone.now() + timedelta(days=3)
    assert cleanup.remove_unrequested(days=1, now=later) == 1
    assert not PackageFile.objects.filter(repository__name="py-proxy").exists()
    # Hosted files are never touched; a removed cached file comes back on request.
    assert PackageFile.objects.filter(repository__name="public-py").exists()
    assert body_of(client.get(url)) == wheel.read_bytes()
