"""An RPM proxy repository against real upstreams: a createrepo_c tree on disk
(tests/fixtures/yum_tree.py, repomd.xml signed by its own gpg key) served by a plain HTTP file
server, which lets a test tamper with a file behind its checksum; and this registry itself
(pytest-django's live server) holding a hosted, signed RPM repository.

Cache rules are tested with short max ages and an upstream address where nothing listens.
"""

import hashlib
import os
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import createrepo_c as cr
import pytest

from registry.models import AuditEvent, PackageFile, Repository, UpstreamDocument
from registry.services import signing_keys
from registry.services.access import Actor
from signing import gpg
from tests.fixtures.rpms import build_rpm
from tests.fixtures.yum_tree import write_tree
from tests.integration.test_pypi_proxy import (  # noqa: F401 (autouse fixtures)
    _no_kept_alive_upstream_connections,
    _sqlite_readers_do_not_lock,
    body_of,
    closed_port,
)

pytestmark = pytest.mark.django_db(transaction=True)

API = "application/json"
PROXY = "rpm-proxy"
MAX_AGE = 3  # seconds: long enough for a slow machine's steps, short to wait out


@pytest.fixture(scope="module")
def upstream_key():
    return gpg.generate("Upstream RPM tree", "rpm-tree@example.com")


@pytest.fixture(scope="module")
def other_key():
    return gpg.generate("Someone else", "else@example.com")


@pytest.fixture
def tree(tmp_path, upstream_key):
    """A createrepo_c tree with hello 1.0, served by http.server on 127.0.0.1."""
    root = tmp_path / "tree"
    root.mkdir()
    rpm = build_rpm(tmp_path, "hello", "1.0", "1")
    hrefs = write_tree(root, [rpm], upstream_key)
    requests = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "root": root, "href": hrefs[0],
           "rpm": rpm, "requests": requests, "server": server, "tmp": tmp_path}
    server.shutdown()
    server.server_close()


@pytest.fixture
def owner(personas):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    return personas["owner"]


def create_proxy(client, owner, url, visibility="public", **settings):
    body = {"name": PROXY, "format": "rpm", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": url, **settings}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return response.json()


def set_upstream(client, owner, **settings):
    response = client.patch(f"/api/v1/repositories/{PROXY}/", {"upstream": settings},
                            content_type=API, **owner.auth)
    assert response.status_code == 200, response.content


def get(client, path, persona=None):
    headers = persona.auth if persona else {}
    return client.get(f"/repository/{PROXY}/{path}", **headers)


def data_hrefs(repomd_bytes, tmp_path):
    path = tmp_path / f"repomd-{hashlib.sha256(repomd_bytes).hexdigest()}.xml"
    path.write_bytes(repomd_bytes)
    return {record.type: record.location_href for record in cr.Repomd(str(path)).records}


def test_repodata_and_package_passed_through_verified(client, owner, tree, upstream_key):
    created = create_proxy(client, owner, tree["url"], public_key=upstream_key.public_armored)
    assert created["upstream"]["public_key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    root = tree["root"]

    repomd = get(client, "repodata/repomd.xml")
    assert repomd.status_code == 200, repomd.reason_phrase
    assert body_of(repomd) == (root / "repodata/repomd.xml").read_bytes()
    signature = get(client, "repodata/repomd.xml.asc")
    assert body_of(signature) == (root / "repodata/repomd.xml.asc").read_bytes()
    # The upstream's key, as the .repo file points dnf at it: nothing is re-signed here.
    assert get(client, "key.asc").content.decode() == upstream_key.public_armored.strip() + "\n"
    repo_file = get(client, f"{PROXY}.repo").content.decode()
    assert "repo_gpgcheck=1" in repo_file and f"/repository/{PROXY}/key.asc" in repo_file
    page = client.get(f"/ui/repositories/{PROXY}/").content.decode()
    assert "A proxy of" in page and "repo_gpgcheck=1" in page and "-T hello" not in page
    # No key or publication of its own: the upstream's signed repodata is what is served.
    proxy = Repository.objects.get(name=PROXY)
    assert not proxy.keys.exists() and proxy.current_publication is None

    for kind, href in data_hrefs(body_of(repomd), tree["tmp"]).items():
        answer = get(client, href)
        assert answer.status_code == 200, (kind, answer.reason_phrase)
        assert body_of(answer) == (root / href).read_bytes()

    package = get(client, tree["href"])
    assert package.status_code == 200, package.reason_phrase
    assert body_of(package) == tree["rpm"].read_bytes()
    stored = PackageFile.objects.get(repository__name=PROXY, path=tree["href"])
    assert stored.blob_id == hashlib.sha256(tree["rpm"].read_bytes()).hexdigest()
    assert AuditEvent.objects.filter(action="file.cache", detail__path=tree["href"]).count() == 1
    asked = len([p for p in tree["requests"] if p.endswith(".rpm")])
    assert body_of(get(client, tree["href"])) == tree["rpm"].read_bytes()
    assert len([p for p in tree["requests"] if p.endswith(".rpm")]) == asked == 1

    refused = client.put(f"/repository/{PROXY}/hello-1.0-1.noarch.rpm", b"x",
                         content_type="application/x-rpm", **owner.auth)
    assert refused.status_code == 405
    assert "proxy" in refused.reason_phrase


def test_without_a_key_the_repo_file_asks_for_no_signature(client, owner, tree):
    create_proxy(client, owner, tree["url"])
    repo_file = get(client, f"{PROXY}.repo").content.decode()
    assert "repo_gpgcheck=0" in repo_file and "gpgkey" not in repo_file
    assert get(client, "key.asc").status_code == 404
    assert get(client, "repodata/repomd.xml").status_code == 200


def test_a_repomd_signed_by_another_key_is_refused_and_not_cached(client, owner, tree, other_key):
    create_proxy(client, owner, tree["url"], public_key=other_key.public_armored)
    response = get(client, "repodata/repomd.xml")
    assert response.status_code == 502
    assert "does not verify with the configured upstream key" in response.reason_phrase
    assert not UpstreamDocument.objects.filter(repository__name=PROXY, status=200).exists()
    assert get(client, tree["href"]).status_code == 502
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_an_unsigned_upstream_with_a_key_configured_is_refused(client, owner, tree, upstream_key):
    (tree["root"] / "repodata/repomd.xml.asc").unlink()
    create_proxy(client, owner, tree["url"], public_key=upstream_key.public_armored)
    response = get(client, "repodata/repomd.xml")
    assert response.status_code == 502
    assert "no repomd.xml.asc" in response.reason_phrase


def test_tampered_primary_or_package_is_refused_and_not_stored(client, owner, tree, upstream_key):
    create_proxy(client, owner, tree["url"], public_key=upstream_key.public_armored)
    hrefs = data_hrefs(body_of(get(client, "repodata/repomd.xml")), tree["tmp"])
    primary = tree["root"] / hrefs["primary"]
    primary.write_bytes(primary.read_bytes() + b"\0")
    response = get(client, hrefs["primary"])
    assert response.status_code == 502
    assert "does not match" in response.reason_phrase
    # Without a verified primary no package is vouched for.
    assert get(client, tree["href"]).status_code == 502
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_tampered_package_is_refused_and_not_stored(client, owner, tree, upstream_key):
    create_proxy(client, owner, tree["url"], public_key=upstream_key.public_armored)
    assert get(client, "repodata/repomd.xml").status_code == 200
    package = tree["root"] / tree["href"]
    data = bytearray(package.read_bytes())
    data[-10] ^= 0xFF
    package.write_bytes(bytes(data))
    response = get(client, tree["href"])
    assert response.status_code == 502
    assert "does not match" in response.reason_phrase
    assert not PackageFile.objects.filter(repository__name=PROXY).exists()


def test_only_files_the_served_repomd_names_and_packages_primary_names(client, owner, tree):
    create_proxy(client, owner, tree["url"])
    (tree["root"] / "repodata/extra.xml").write_text("<x/>")
    (tree["root"] / "Packages/h/stray-1.0-1.noarch.rpm").write_bytes(tree["rpm"].read_bytes())
    assert get(client, "repodata/extra.xml").status_code == 404
    assert get(client, "Packages/h/stray-1.0-1.noarch.rpm").status_code == 404
    assert get(client, "Packages/../repodata/repomd.xml.rpm").status_code == 404


def test_repomd_max_age_and_stale_when_the_upstream_is_down(client, owner, tree, upstream_key):
    create_proxy(client, owner, tree["url"], public_key=upstream_key.public_armored,
                 metadata_max_age=MAX_AGE)
    first = body_of(get(client, "repodata/repomd.xml"))
    fetched = time.monotonic()
    second = build_rpm(tree["tmp"], "hello", "2.0", "1")
    write_tree(tree["root"], [tree["rpm"], second], upstream_key)
    newer = (tree["root"] / "repodata/repomd.xml").read_bytes()
    # http.server's Last-Modified has whole seconds: the new repomd.xml must not look as old as
    # the first (a same-second rewrite would answer our If-Modified-Since with 304).
    later = time.time() + 2
    os.utime(tree["root"] / "repodata/repomd.xml", (later, later))
    assert newer != first
    assert body_of(get(client, "repodata/repomd.xml")) == first  # within max age: not asked
    time.sleep(max(0.0, fetched + MAX_AGE + 0.2 - time.monotonic()))
    assert body_of(get(client, "repodata/repomd.xml")) == newer
    href = "Packages/h/hello-2.0-1.noarch.rpm"
    assert body_of(get(client, href)) == second.read_bytes()
    for data_href in data_hrefs(newer, tree["tmp"]).values():
        assert get(client, data_href).status_code == 200  # as dnf reads them

    # The upstream goes away: the cached repomd is served stale, with a Warning.
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/", metadata_max_age=0)
    stale = get(client, "repodata/repomd.xml")
    assert stale.status_code == 200
    assert body_of(stale) == newer
    assert stale["Warning"].startswith("110 ")
    for data_href in data_hrefs(newer, tree["tmp"]).values():
        assert get(client, data_href).status_code == 200
    assert body_of(get(client, href)) == second.read_bytes()
    assert get(client, tree["href"]).status_code == 502  # never cached: cannot be had


def test_a_private_proxy_is_invisible(client, owner, personas, tree):
    create_proxy(client, owner, tree["url"], visibility="private")
    for persona in (None, personas["outsider"]):
        auth = persona.auth if persona else {}
        for path in ("repodata/repomd.xml", tree["href"], "key.asc", f"{PROXY}.repo"):
            missing = client.get(f"/repository/no-such-repository/{path}", **auth)
            answer = get(client, path, persona)
            expected = missing.content.replace(b"no-such-repository", PROXY.encode())
            assert (answer.status_code, answer.content) == (missing.status_code, expected), path
    assert not tree["requests"]
    assert get(client, "repodata/repomd.xml", owner).status_code == 200


def test_a_hosted_repository_of_this_registry_as_upstream(client, owner, live_server, tmp_path,
                                                          django_capture_on_commit_callbacks):
    hosted = Repository.objects.create(name="upstream-rpm", format="rpm", visibility="public")
    signing_keys.ensure_key(Actor(user=owner.user), hosted)
    rpm = build_rpm(tmp_path, "hosted-tool", "3.0", "2")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(f"/repository/upstream-rpm/{rpm.name}", rpm.read_bytes(),
                              content_type="application/x-rpm", **owner.auth)
    assert response.status_code in (200, 201), response.content
    key = client.get("/repository/upstream-rpm/key.asc").content.decode()
    create_proxy(client, owner, f"{live_server.url}/repository/upstream-rpm/", public_key=key)

    repomd = get(client, "repodata/repomd.xml")
    assert repomd.status_code == 200, repomd.reason_phrase
    assert body_of(repomd) == body_of(client.get("/repository/upstream-rpm/repodata/repomd.xml"))
    href = f"Packages/h/{rpm.name}"
    package = get(client, href)
    assert package.status_code == 200, package.reason_phrase
    assert body_of(package) == rpm.read_bytes()


def test_the_public_key_setting_is_checked(client, owner, tree):
    body = {"name": PROXY, "format": "rpm", "kind": "proxy", "visibility": "public",
            "upstream": {"url": tree["url"], "public_key": "not a key"}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 400
    assert "public_key" in str(response.json())
    assert not Repository.objects.filter(name=PROXY).exists()


def test_repodata_blobs_outlive_the_collection_of_unreferenced_blobs(client, owner, tree):
    """Repodata a proxy serves belongs to no package file; its blobs are referenced as the
    proxy's, so collecting unreferenced blobs (as a hosted file with the same bytes is deleted,
    or gc over everything) keeps them, and the proxy serves them with the upstream gone."""
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import Blob, UpstreamBlob
    from registry.proxy import cleanup
    from registry.services import versions

    create_proxy(client, owner, tree["url"])
    repomd = body_of(get(client, "repodata/repomd.xml"))
    hrefs = data_hrefs(repomd, tree["tmp"])
    served = {href: body_of(get(client, href)) for href in hrefs.values()}
    sha256s = {hashlib.sha256(body).hexdigest() for body in served.values()}
    assert set(UpstreamBlob.objects.filter(repository__name=PROXY).values_list("blob_id", flat=True)) \
        == sha256s

    versions.collect_blobs(sha256s)
    versions.collect_all_garbage()
    assert Blob.objects.filter(sha256__in=sha256s).count() == len(sha256s)
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/", metadata_max_age=0)
    for href, body in served.items():
        answer = get(client, href)
        assert answer.status_code == 200, answer.reason_phrase
        assert body_of(answer) == body

    # Not served for PROXY_CACHE_DAYS: the references go, and the blobs with them.
    assert cleanup.remove_unrequested(days=1) == 0
    assert Blob.objects.filter(sha256__in=sha256s).count() == len(sha256s)
    cleanup.remove_unrequested(days=1, now=timezone.now() + timedelta(days=2))
    assert not UpstreamBlob.objects.filter(repository__name=PROXY).exists()
    assert not Blob.objects.filter(sha256__in=sha256s).exists()
