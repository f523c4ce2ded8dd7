"""An npm proxy repository against a real upstream: this registry itself, served by
pytest-django's live server (a thread with a real HTTP socket), holding a public hosted npm
repository that gets its packages as `npm publish` sends them (tarballs made by `npm pack`).

The proxy is created through the REST API as an admin would. Cache rules are tested with short
max ages and an upstream address where nothing listens (an upstream that has stopped).
"""

import base64
import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.models import AuditEvent, Blob, PackageFile, Repository, UpstreamDocument
from tests.fixtures.npm_packages import npm_pack, publish_document

pytestmark = pytest.mark.django_db(transaction=True)

API = "application/json"
ABBREVIATED = "application/vnd.npm.install-v1+json"
# What npm install sends.
INSTALL_ACCEPT = f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*"
UTIL, APP = "@acme/util", "app-b"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_kept_alive_upstream_connections():
    """The live server's request threads end with the test, not with a kept-alive connection."""
    yield
    from registry.proxy import client as upstream_client

    upstream_client.close_connections()


@pytest.fixture(scope="module")
def tarballs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("npm-proxy")
    return {
        "util": npm_pack(folder, UTIL, "1.0.0", readme="# Util\n"),
        "util2": npm_pack(folder, UTIL, "1.1.0"),
        "app": npm_pack(folder, APP, "0.1.0", dependencies={UTIL: "^1.0.0"}),
    }


@pytest.fixture
def owner(personas):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    return personas["owner"]


def publish(client, owner, tarball, repository="upstream-npm"):
    document = publish_document(tarball)
    response = client.put(f"/repository/{repository}/{document['name']}", json.dumps(document),
                          content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return tarball.read_bytes()


@pytest.fixture
def upstream(live_server, client, owner, tarballs):
    """The public hosted npm repository upstream-npm on the live server, with @acme/util 1.0.0
    and app-b 0.1.0."""
    Repository.objects.create(name="upstream-npm", format="npm", visibility="public")
    publish(client, owner, tarballs["util"])
    publish(client, owner, tarballs["app"])
    return {"url": f"{live_server.url}/repository/upstream-npm/", "live": live_server}


def create_proxy(client, owner, url, name="npm-proxy", visibility="public", **settings):
    body = {"name": name, "format": "npm", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": url, **settings}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return response.json()


def set_upstream(client, owner, repository="npm-proxy", **settings):
    response = client.patch(f"/api/v1/repositories/{repository}/", {"upstream": settings},
                            content_type=API, **owner.auth)
    assert response.status_code == 200, response.content


def get(client, path, repository="npm-proxy", persona=None, accept=API):
    headers = persona.auth if persona else {}
    return client.get(f"/repository/{repository}/{path}", HTTP_ACCEPT=accept, **headers)


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def error_of(response):
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


def sri(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_full_and_abbreviated_packuments_with_tarballs_rewritten(client, owner, upstream, tarballs):
    create_proxy(client, owner, upstream["url"])
    data = tarballs["util"].read_bytes()
    upstream_full = client.get("/repository/upstream-npm/@acme%2futil", HTTP_ACCEPT=API).json()

    # Every spelling npm, pnpm and people use for a scoped name.
    answers = [get(client, spelling) for spelling in ("@acme%2futil", "@acme%2Futil", "@acme/util")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    full = answers[0].json()
    assert all(a.json() == full for a in answers)
    assert answers[0]["Content-Type"] == API
    dist = full["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == "http://testserver/repository/npm-proxy/@acme/util/-/util-1.0.0.tgz"
    assert dist["integrity"] == sri(data) == upstream_full["versions"]["1.0.0"]["dist"]["integrity"]
    assert dist["shasum"] == hashlib.sha1(data).hexdigest()
    # Truthful: the upstream's times, readme and tags, not the moment we read them.
    assert full["time"] == upstream_full["time"]
    assert full["dist-tags"] == {"latest": "1.0.0"}
    assert full["readme"] == "# Util\n"

    abbreviated = get(client, "@acme%2futil", accept=INSTALL_ACCEPT)
    assert abbreviated.status_code == 200
    assert abbreviated["Content-Type"] == ABBREVIATED
    corgi = abbreviated.json()
    assert "time" not in corgi and "readme" not in corgi
    assert corgi["modified"] == upstream_full["time"]["modified"]
    assert corgi["versions"]["1.0.0"]["dist"]["tarball"] == dist["tarball"]
    # The two forms were asked for upstream and are cached apart.
    proxy = Repository.objects.get(name="npm-proxy")
    assert set(UpstreamDocument.objects.filter(repository=proxy).values_list("key", flat=True)) == {
        "npm/full/@acme/util", "npm/abbreviated/@acme/util"}
    # Revalidation with the ETag the page carries.
    again = get(client, "@acme%2futil", accept=INSTALL_ACCEPT)
    etag = again["ETag"]
    assert client.get("/repository/npm-proxy/@acme%2futil", HTTP_ACCEPT=INSTALL_ACCEPT,
                      HTTP_IF_NONE_MATCH=etag).status_code == 304

    # Version manifests and dist-tags, as `npm view` and pnpm ask for them.
    latest = get(client, "@acme%2Futil/latest").json()
    assert latest["version"] == "1.0.0" and latest["dist"]["tarball"] == dist["tarball"]
    assert get(client, "@acme%2futil/1.0.0").json()["dist"]["integrity"] == sri(data)
    assert get(client, "@acme%2futil/9.9.9").status_code == 404
    assert get(client, "-/package/@acme%2futil/dist-tags").json() == {"latest": "1.0.0"}

    # The tarball: fetched from the upstream once, verified, stored, then served from here.
    download = client.get("/repository/npm-proxy/@acme/util/-/util-1.0.0.tgz")
    assert download.status_code == 200 and body_of(download) == data
    cached = PackageFile.objects.get(repository=proxy)
    assert cached.path == "@acme/util/-/util-1.0.0.tgz"
    assert cached.blob_id == hashlib.sha256(data).hexdigest()
    assert Blob.objects.filter(sha256=cached.blob_id).count() == 1  # one blob for both copies
    event = AuditEvent.objects.get(repository=proxy, action="file.cache")
    assert event.detail["cached_from"] == f"{upstream['url']}@acme/util/-/util-1.0.0.tgz"
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/")
    offline = client.get("/repository/npm-proxy/@acme/util/-/util-1.0.0.tgz")
    assert offline.status_code == 200 and body_of(offline) == data

    # Unscoped names too.
    set_upstream(client, owner, url=upstream["url"])
    app = get(client, APP, accept=INSTALL_ACCEPT).json()
    assert app["versions"]["0.1.0"]["dependencies"] == {UTIL: "^1.0.0"}
    app_tarball = client.get("/repository/npm-proxy/app-b/-/app-b-0.1.0.tgz")
    assert body_of(app_tarball) == tarballs["app"].read_bytes()


def test_new_upstream_version_appears_after_max_age_and_not_before(client, owner, upstream, tarballs):
    # Two seconds: room for a loaded machine between the reads that must see the cached page.
    create_proxy(client, owner, upstream["url"], metadata_max_age=2)
    for accept in (API, INSTALL_ACCEPT):
        assert list(get(client, "@acme%2futil", accept=accept).json()["versions"]) == ["1.0.0"]
    publish(client, owner, tarballs["util2"])
    for accept in (API, INSTALL_ACCEPT):
        assert list(get(client, "@acme%2futil", accept=accept).json()["versions"]) == ["1.0.0"]
    assert get(client, "@acme/util/-/util-1.1.0.tgz").status_code == 404
    time.sleep(2.1)
    upstream_full = client.get("/repository/upstream-npm/@acme%2futil", HTTP_ACCEPT=API).json()
    for accept in (API, INSTALL_ACCEPT):
        document = get(client, "@acme%2futil", accept=accept).json()
        assert sorted(document["versions"]) == ["1.0.0", "1.1.0"]
        assert document["dist-tags"]["latest"] == "1.1.0"
    assert get(client, "@acme%2futil").json()["time"] == upstream_full["time"]
    assert body_of(get(client, "@acme/util/-/util-1.1.0.tgz")) == tarballs["util2"].read_bytes()


def test_upstream_not_found_is_remembered_for_the_negative_max_age(client, owner, upstream, tmp_path):
    later = npm_pack(tmp_path, "later-pkg", "1.0.0")  # before: the clock runs from the 404
    create_proxy(client, owner, upstream["url"], negative_max_age=2)
    missing = get(client, "later-pkg", accept=INSTALL_ACCEPT)
    assert missing.status_code == 404 and "later-pkg" in error_of(missing)
    publish(client, owner, later)
    assert get(client, "later-pkg", accept=INSTALL_ACCEPT).status_code == 404
    time.sleep(2.1)
    assert get(client, "later-pkg", accept=INSTALL_ACCEPT).status_code == 200


def test_tampered_upstream_tarball_is_refused_and_not_stored(client, owner, upstream, tarballs):
    create_proxy(client, owner, upstream["url"])
    data = tarballs["util"].read_bytes()
    assert get(client, "@acme%2futil", accept=INSTALL_ACCEPT).status_code == 200
    # The upstream's stored bytes change behind its packument's back.
    from storage import blobs
    stored = Blob.objects.get(sha256=hashlib.sha256(data).hexdigest())
    with open(blobs.local_path(stored.storage_key), "r+b") as handle:
        handle.seek(40)
        handle.write(b"tampered")
    url = "/repository/npm-proxy/@acme/util/-/util-1.0.0.tgz"
    response = client.get(url)
    assert response.status_code == 502
    message = error_of(response)
    assert "does not match its index" in message and "Not stored" in message
    assert not PackageFile.objects.filter(repository__name="npm-proxy").exists()
    assert not AuditEvent.objects.filter(action="file.cache").exists()
    assert client.get(url).status_code == 502


def test_writes_to_a_proxy_are_refused(client, owner, upstream, tarballs):
    create_proxy(client, owner, upstream["url"])
    document = publish_document(tarballs["util2"])
    refused = [
        client.put("/repository/npm-proxy/@acme%2futil", json.dumps(document), content_type=API,
                   **owner.auth),
        client.put("/repository/npm-proxy/-/package/@acme%2futil/dist-tags/beta", '"1.0.0"',
                   content_type=API, **owner.auth),
        client.delete("/repository/npm-proxy/-/package/@acme%2futil/dist-tags/beta", **owner.auth),
        client.put("/repository/npm-proxy/@acme%2futil/-rev/1-abc", json.dumps(document),
                   content_type=API, **owner.auth),
        client.delete("/repository/npm-proxy/@acme%2futil/-rev/1-abc", **owner.auth),
        client.delete("/repository/npm-proxy/@acme/util/-/util-1.0.0.tgz/-rev/1-abc", **owner.auth),
    ]
    for response in refused:
        assert response.status_code == 405, response.content
        assert "is a proxy" in error_of(response) and "Publish to a hosted" in error_of(response)
    assert not PackageFile.objects.filter(repository__name="npm-proxy").exists()


def test_private_proxy_is_as_invisible_as_a_private_hosted_repository(client, owner, personas, upstream):
    create_proxy(client, owner, upstream["url"], visibility="private")
    Repository.objects.get(name="npm-proxy").roles.create(user=personas["reader"].user, role="read")
    assert get(client, "@acme%2futil").status_code == 401
    outsider = get(client, "@acme%2futil", persona=personas["outsider"])
    missing = get(client, "@acme%2futil", repository="no-such-repo", persona=personas["outsider"])
    assert outsider.status_code == missing.status_code == 404
    assert outsider.content.replace(b"npm-proxy", b"X") == missing.content.replace(b"no-such-repo", b"X")
    reader = get(client, "@acme%2futil", persona=personas["reader"], accept=INSTALL_ACCEPT)
    assert reader.status_code == 200 and "private" in reader["Cache-Control"]
    tarball = "@acme/util/-/util-1.0.0.tgz"
    assert get(client, tarball).status_code == 401
    assert get(client, tarball, persona=personas["outsider"]).status_code == 404
    assert get(client, tarball, persona=personas["reader"]).status_code == 200


def test_upstream_down_serves_stale_packuments_and_an_npm_error(client, owner, upstream, settings):
    settings.PROXY_FAILURE_THRESHOLD = 2
    create_proxy(client, owner, upstream["url"], metadata_max_age=0)
    assert get(client, "@acme%2futil", accept=INSTALL_ACCEPT).status_code == 200
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/")
    stale = get(client, "@acme%2futil", accept=INSTALL_ACCEPT)
    assert stale.status_code == 200 and stale["Warning"].startswith('110 - "Response is Stale')
    assert "1.0.0" in stale.json()["versions"]
    uncached = get(client, "never-seen", accept=INSTALL_ACCEPT)
    assert uncached.status_code == 502
    assert "Nothing is cached for npm/abbreviated/never-seen" in error_of(uncached)
    # Not fetched before the upstream stopped: a 502 npm prints, nothing stored.
    tarball = get(client, "@acme/util/-/util-1.0.0.tgz")
    assert tarball.status_code == 502 and error_of(tarball)
    assert not PackageFile.objects.filter(repository__name="npm-proxy").exists()


def test_invalidating_one_package_drops_both_forms(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    get(client, "@acme%2futil")
    get(client, "@acme%2futil", accept=INSTALL_ACCEPT)
    get(client, APP)
    done = client.post("/api/v1/repositories/npm-proxy/invalidate/", {"package": UTIL},
                       content_type=API, **owner.auth)
    assert done.status_code == 200 and done.json()["documents"] == 2
    assert list(UpstreamDocument.objects.values_list("key", flat=True)) == [f"npm/full/{APP}"]


def test_bad_names_are_refused_with_an_npm_error(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    for name in ("@acme%2f..", "a%20b", "@%2fx"):
        response = get(client, name)
        assert response.status_code in (400, 404), (name, response.content)
        assert error_of(response)
    assert not UpstreamDocument.objects.exists()


# --- an upstream whose packument names another host --------------------------------------------


class _Elsewhere(BaseHTTPRequestHandler):
    """An upstream (127.0.0.1) whose packument puts the tarball on another host (localhost,
    where the same server listens): it records every request and whether it carried the
    credentials."""

    tarball = b""
    seen = []

    def do_GET(self):
        host = self.headers["Host"].split(":")[0]
        self.seen.append((host, self.path, self.headers.get("Authorization")))
        if self.path == "/npm/far-pkg":
            port = self.server.server_port
            body = json.dumps({"name": "far-pkg", "dist-tags": {"latest": "1.0.0"}, "versions": {
                "1.0.0": {"name": "far-pkg", "version": "1.0.0", "dist": {
                    "tarball": f"http://localhost:{port}/elsewhere/far-pkg-1.0.0.tgz",
                    "integrity": sri(self.tarball),
                    "shasum": hashlib.sha1(self.tarball).hexdigest()}}}}).encode()
        elif self.path.endswith(".tgz"):
            body = self.tarball
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_tarballs_come_only_from_the_upstream_origin_with_its_credentials(client, owner, tarballs):
    _Elsewhere.tarball = tarballs["app"].read_bytes()
    _Elsewhere.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        create_proxy(client, owner, f"http://127.0.0.1:{server.server_port}/npm/",
                     token="upstream-secret")
        document = get(client, "far-pkg", accept=INSTALL_ACCEPT).json()
        assert document["versions"]["1.0.0"]["dist"]["tarball"] == (
            "http://testserver/repository/npm-proxy/far-pkg/-/far-pkg-1.0.0.tgz")
        download = get(client, "far-pkg/-/far-pkg-1.0.0.tgz")
        assert download.status_code == 200 and body_of(download) == _Elsewhere.tarball
    finally:
        server.shutdown()
        server.server_close()
    # The packument's host was never called: the tarball came from the upstream's own origin,
    # in the npm registry's layout, and only there went the credentials.
    assert _Elsewhere.seen == [
        ("127.0.0.1", "/npm/far-pkg", "Bearer upstream-secret"),
        ("127.0.0.1", "/npm/far-pkg/-/far-pkg-1.0.0.tgz", "Bearer upstream-secret"),
    ]
