"""An npm proxy whose upstream is Verdaccio, a peer implementation (started by the test on
127.0.0.1, no uplinks), with packages published to it by the real `npm publish`."""

import hashlib
import shutil

import pytest

from registry.models import AuditEvent, PackageFile, UpstreamDocument
from tests.fixtures.npm_packages import npm_pack
from tests.fixtures.verdaccio import Verdaccio

from .test_npm_proxy import (  # noqa: F401 (fixtures)
    ABBREVIATED, API, INSTALL_ACCEPT, _no_kept_alive_upstream_connections, body_of, create_proxy,
    error_of, get, owner, sri,
)

pytestmark = pytest.mark.django_db(transaction=True)

LIB, APP = "@peer/lib", "peer-app"


@pytest.fixture(scope="module")
def verdaccio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdaccio")
    server = Verdaccio(folder).start()
    try:
        packed = tmp_path_factory.mktemp("verdaccio-packages")
        server.tarballs = {
            "lib": npm_pack(packed, LIB, "1.0.0", readme="# Peer lib\n"),
            "app": npm_pack(packed, APP, "2.0.0", dependencies={LIB: "^1.0.0"}),
            "victim": npm_pack(packed, "peer-victim", "1.0.0"),
        }
        for tarball in server.tarballs.values():
            server.publish(tarball)
        yield server
    finally:
        server.stop()


def test_packuments_and_tarballs_through_a_proxy_of_verdaccio(client, owner, verdaccio):
    create_proxy(client, owner, verdaccio.url)
    data = verdaccio.tarballs["lib"].read_bytes()
    for spelling in ("@peer%2flib", "@peer%2Flib", "@peer/lib"):
        corgi = get(client, spelling, accept=INSTALL_ACCEPT)
        assert corgi.status_code == 200, corgi.content
        assert corgi["Content-Type"] == ABBREVIATED
    corgi = corgi.json()
    dist = corgi["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == "http://testserver/repository/npm-proxy/@peer/lib/-/lib-1.0.0.tgz"
    assert dist["integrity"] == sri(data) and dist["shasum"] == hashlib.sha1(data).hexdigest()
    full = get(client, "@peer%2flib").json()
    assert full["readme"].startswith("# Peer lib")
    assert set(full["time"]) >= {"created", "modified", "1.0.0"}
    assert corgi["modified"] == full["time"]["modified"]
    assert get(client, "@peer%2Flib/latest").json()["version"] == "1.0.0"

    download = get(client, "@peer/lib/-/lib-1.0.0.tgz")
    assert download.status_code == 200 and body_of(download) == data
    assert PackageFile.objects.get(repository__name="npm-proxy").blob_id == hashlib.sha256(data).hexdigest()
    assert AuditEvent.objects.filter(action="file.cache", package_name=LIB).count() == 1

    app = get(client, APP, accept=INSTALL_ACCEPT).json()
    assert app["versions"]["2.0.0"]["dependencies"] == {LIB: "^1.0.0"}
    assert body_of(get(client, "peer-app/-/peer-app-2.0.0.tgz")) == verdaccio.tarballs["app"].read_bytes()
    missing = get(client, "not-on-verdaccio", accept=INSTALL_ACCEPT)
    assert missing.status_code == 404 and error_of(missing)
    assert UpstreamDocument.objects.filter(key="npm/abbreviated/not-on-verdaccio", status=404).exists()


def test_a_tarball_verdaccio_serves_changed_is_refused(client, owner, verdaccio):
    create_proxy(client, owner, verdaccio.url)
    assert get(client, "peer-victim", accept=INSTALL_ACCEPT).status_code == 200
    stored = verdaccio.stored_tarball("peer-victim", "peer-victim-1.0.0.tgz")
    shutil.copyfile(verdaccio.tarballs["lib"], stored)  # another valid tarball, other bytes
    response = get(client, "peer-victim/-/peer-victim-1.0.0.tgz")
    assert response.status_code == 502
    assert "does not match its index" in error_of(response)
    assert not PackageFile.objects.filter(repository__name="npm-proxy").exists()
