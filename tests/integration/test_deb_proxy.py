"""An APT proxy repository against real upstreams: this registry itself (pytest-django's live
server) holding a hosted, signed APT repository, and a copy of that tree on disk served by a
plain HTTP file server, which lets a test tamper with a file behind the signed Release.

The upstream's key is the hosted repository's own (its key.asc); a wrong key is a fresh one.
"""

import gzip
import hashlib
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from debian.deb822 import Packages, Release

from registry.models import AuditEvent, PackageFile, Repository, UpstreamDocument
from registry.proxy import client as proxy_client
from registry.services import signing_keys
from registry.services.access import Actor
from signing import gpg
from tests.fixtures import reprepro
from tests.fixtures.debs import build_deb
from tests.integration.test_pypi_proxy import body_of, closed_port

pytestmark = pytest.mark.django_db(transaction=True)

API = "application/json"
PROXY = "apt-proxy"
SUITE = "dists/stable"


@pytest.fixture
def owner(personas):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    return personas["owner"]


def upload(client, owner, deb, repository="upstream-deb"):
    response = client.put(f"/repository/{repository}/{deb.name}", deb.read_bytes(),
                          content_type="application/vnd.debian.binary-package", **owner.auth)
    assert response.status_code == 201, response.reason_phrase


@pytest.fixture
def upstream(live_server, client, owner, tmp_path, django_capture_on_commit_callbacks):
    """The public hosted APT repository upstream-deb on the live server, signed, with hello 1.0."""
    repository = Repository.objects.create(name="upstream-deb", format="deb", visibility="public",
                                           settings={"architectures": ["amd64"]})
    signing_keys.ensure_key(Actor(user=owner.user), repository)
    deb = build_deb(tmp_path, "hello", "1.0-1", "amd64")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, owner, deb)
    key = client.get("/repository/upstream-deb/key.asc").content.decode()
    return {"url": f"{live_server.url}/repository/upstream-deb/", "key": key, "deb": deb,
            "client": client}


def create_proxy(client, owner, url, visibility="public", **settings):
    body = {"name": PROXY, "format": "deb", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": url, **settings}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return response.json()


def get(client, path, persona=None):
    headers = persona.auth if persona else {}
    return client.get(f"/repository/{PROXY}/{path}", **headers)


def apt_update_and_fetch(client, persona=None):
    """What apt-get update and install read: InRelease, the Packages it names, the .deb."""
    inrelease = get(client, f"{SUITE}/InRelease", persona)
    assert inrelease.status_code == 200, inrelease.reason_phrase
    release = Release(body_of(inrelease).decode())
    [entry] = [e for e in release["SHA256"] if e["name"] == "main/binary-amd64/Packages.gz"]
    packages = get(client, f"{SUITE}/main/binary-amd64/by-hash/SHA256/{entry['sha256']}", persona)
    assert packages.status_code == 200, packages.reason_phrase
    data = body_of(packages)
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    [stanza] = list(Packages.iter_paragraphs(gzip.decompress(data).decode(), use_apt_pkg=False))
    deb = get(client, stanza["Filename"], persona)
    assert deb.status_code == 200, deb.reason_phrase
    return body_of(inrelease), stanza, body_of(deb)


def test_through_the_proxy_with_the_upstream_key(client, owner, upstream):
    create_proxy(client, owner, upstream["url"], public_key=upstream["key"])
    inrelease, stanza, deb = apt_update_and_fetch(client)
    served = upstream["client"].get("/repository/upstream-deb/dists/stable/InRelease")
    assert inrelease == body_of(served)
    assert deb == upstream["deb"].read_bytes()
    cached = PackageFile.objects.get(repository__name=PROXY)
    assert cached.path == stanza["Filename"]
    assert AuditEvent.objects.filter(action="file.cache", repository__name=PROXY).count() == 1
    # Plain names too, and no uploads.
    plain = get(client, f"{SUITE}/main/binary-amd64/Packages")
    assert hashlib.sha256(body_of(plain)).hexdigest() in inrelease.decode()
    refused = client.put(f"/repository/{PROXY}/{upstream['deb'].name}", b"x",
                         content_type="application/octet-stream", **owner.auth)
    assert refused.status_code == 405


def test_a_wrong_key_is_a_502_and_nothing_is_cached(client, owner, upstream):
    other = gpg.generate("Someone Else", "else@example.com").public_armored
    create_proxy(client, owner, upstream["url"], public_key=other)
    response = get(client, f"{SUITE}/InRelease")
    assert response.status_code == 502
    assert "no good signature" in response.reason_phrase
    assert not UpstreamDocument.objects.filter(repository__name=PROXY, status=200).exists()
    assert get(client, f"{SUITE}/main/binary-amd64/Packages").status_code == 502
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


@pytest.fixture
def static_upstream(tmp_path):
    """A tree published and signed by reprepro (its own key, no by-hash) behind http.server."""
    deb = build_deb(tmp_path, "hello", "1.0-1", "amd64")
    root, key, _env = reprepro.publish(tmp_path, [deb])
    packages = (root / "dists/stable/main/binary-amd64/Packages").read_text()
    [stanza] = list(Packages.iter_paragraphs(packages, use_apt_pkg=False))
    handler = partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "root": root,
           "pool": root / stanza["Filename"], "filename": stanza["Filename"], "key": key}
    proxy_client.close_connections()
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *_args):
        pass


def test_a_tampered_packages_index_is_refused(client, owner, static_upstream):
    create_proxy(client, owner, static_upstream["url"], public_key=static_upstream["key"])
    assert get(client, f"{SUITE}/InRelease").status_code == 200
    for path in Path(static_upstream["root"], "dists/stable/main/binary-amd64").rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes() + b"\n")
    response = get(client, f"{SUITE}/main/binary-amd64/Packages")
    assert response.status_code == 502
    assert "does not match" in response.reason_phrase
    assert get(client, static_upstream["filename"]).status_code == 502
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_a_tampered_deb_is_refused_and_not_stored(client, owner, static_upstream):
    create_proxy(client, owner, static_upstream["url"], public_key=static_upstream["key"])
    assert get(client, f"{SUITE}/InRelease").status_code == 200
    pool = static_upstream["pool"]
    pool.write_bytes(pool.read_bytes()[:-1] + b"!")
    response = get(client, static_upstream["filename"])
    assert response.status_code == 502
    assert "does not match" in response.reason_phrase
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_a_tampered_inrelease_is_refused(client, owner, static_upstream):
    create_proxy(client, owner, static_upstream["url"], public_key=static_upstream["key"])
    inrelease = static_upstream["root"] / "dists/stable/InRelease"
    text = inrelease.read_text()
    assert "Suite: stable" in text
    inrelease.write_text(text.replace("Suite: stable", "Suite: stab1e"))
    response = get(client, f"{SUITE}/InRelease")
    assert response.status_code == 502
    assert not UpstreamDocument.objects.filter(repository__name=PROXY, status=200).exists()


def test_without_a_key_files_are_still_checked_against_the_release(client, owner, static_upstream):
    create_proxy(client, owner, static_upstream["url"])
    assert get(client, f"{SUITE}/InRelease").status_code == 200
    pool = static_upstream["pool"]
    pool.write_bytes(pool.read_bytes()[:-1] + b"!")
    assert get(client, static_upstream["filename"]).status_code == 502
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_release_and_release_gpg_without_inrelease(client, owner, static_upstream):
    (static_upstream["root"] / "dists/stable/InRelease").unlink()
    create_proxy(client, owner, static_upstream["url"], public_key=static_upstream["key"])
    assert get(client, f"{SUITE}/InRelease").status_code == 404
    release = get(client, f"{SUITE}/Release")
    assert release.status_code == 200, release.reason_phrase
    assert body_of(release) == (static_upstream["root"] / "dists/stable/Release").read_bytes()
    signature = get(client, f"{SUITE}/Release.gpg")
    assert body_of(signature) == (static_upstream["root"] / "dists/stable/Release.gpg").read_bytes()
    assert body_of(get(client, static_upstream["filename"])) == static_upstream["pool"].read_bytes()


MAX_AGE = 3


def test_release_max_age_and_stale_when_the_upstream_is_down(client, owner, upstream, tmp_path,
                                                              django_capture_on_commit_callbacks):
    create_proxy(client, owner, upstream["url"], public_key=upstream["key"],
                 metadata_max_age=MAX_AGE)
    first, _, deb = apt_update_and_fetch(client)
    fetched = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        upload(upstream["client"], owner, build_deb(tmp_path, "hello", "2.0-1", "amd64"))
    newer = body_of(upstream["client"].get("/repository/upstream-deb/dists/stable/InRelease"))
    assert newer != first
    assert body_of(get(client, f"{SUITE}/InRelease")) == first  # within the max age
    time.sleep(max(0.0, fetched + MAX_AGE + 0.2 - time.monotonic()))
    assert body_of(get(client, f"{SUITE}/InRelease")) == newer

    # The upstream gone: the cached Release is served stale (it has no Valid-Until), with
    # the files it names.
    response = client.patch(f"/api/v1/repositories/{PROXY}/",
                            {"upstream": {"url": f"http://127.0.0.1:{closed_port()}/"}},
                            content_type=API, **owner.auth)
    assert response.status_code == 200, response.content
    time.sleep(MAX_AGE + 0.2)
    stale = get(client, f"{SUITE}/InRelease")
    assert stale.status_code == 200 and body_of(stale) == newer
    assert stale["Warning"].startswith("110")
    assert body_of(get(client, "pool/main/h/hello/hello_1.0-1_amd64.deb")) == deb
    assert get(client, "dists/other/InRelease").status_code in (502, 504)


def test_a_private_proxy_is_invisible(client, owner, personas, upstream):
    create_proxy(client, owner, upstream["url"], visibility="private", public_key=upstream["key"])
    for persona in (None, personas["outsider"]):
        headers = persona.auth if persona else {}
        missing = client.get("/repository/no-such-repository/dists/stable/InRelease", **headers)
        response = get(client, f"{SUITE}/InRelease", persona)
        assert response.status_code == missing.status_code
        assert response.content == missing.content.replace(b"no-such-repository", PROXY.encode())
    inrelease, _, deb = apt_update_and_fetch(client, owner)
    assert deb == upstream["deb"].read_bytes()
