"""npm proxies end to end: npm, pnpm and yarn (classic) install through a proxy repository of the
live server whose upstream is a second instance of this registry (its own gunicorn, database and
blobs) holding a public hosted npm repository; writes are refused with npm's own error line;
then the upstream is stopped and cached packages still install.
"""

import concurrent.futures
import json
import os
import re
import urllib.request

import pytest

from .conftest import create_proxies, second_registry
from .npm_clients import NpmClients, install_node_tools, sri_sha512
from .test_npm_clients import APP, APP_OUTPUT, APP_SOURCE, UTIL, UTIL_SOURCE

pytestmark = pytest.mark.e2e

UPSTREAM_REPO = "upstream-npm"
BIG = "big-npm"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A second registry with the public hosted npm repository upstream-npm: @acme/util 1.0.0
    and app-b 1.0.0 (which needs @acme/util@^1.0.0), published there by npm."""
    with second_registry(tmp_path_factory, "e2e-npm-upstream") as live:
        live.api("POST", "repositories/", {"name": UPSTREAM_REPO, "format": "npm",
                                           "visibility": "public"}, expect=(201,))
        publisher = NpmClients(live, tmp_path_factory.mktemp("npm-upstream-publisher"))
        publisher.write_npmrc(UPSTREAM_REPO, live.admin_token)
        live.tarballs = {}
        for name, source, dependencies in ((UTIL, UTIL_SOURCE, None),
                                           (APP, APP_SOURCE, {UTIL: "^1.0.0"})):
            folder = publisher.make_package(name, "1.0.0", source=source, dependencies=dependencies)
            published = publisher.npm("publish", cwd=folder, check=True)
            assert f"+ {name}@1.0.0" in published.output, published
        # A tarball of about 1.5 MB: larger than PROXY_VERIFY_BEFORE_SERVE, so it is streamed
        # to every waiting client while it arrives.
        folder = publisher.make_package(BIG, "1.0.0",
                                        source=f'exports.data = "{os.urandom(1_500_000).hex()}";\n')
        publisher.npm("publish", cwd=folder, check=True)
        yield live


@pytest.fixture(scope="module")
def proxies(server, upstream):
    """A public and a private npm proxy of upstream-npm on the live server (metadata max age 0:
    every packument request revalidates, so a stopped upstream shows at once)."""
    url = f"{upstream.url}/repository/{UPSTREAM_REPO}/"
    names = {"public": "e2e-npm-proxy", "private": "e2e-npm-proxy-private"}
    return create_proxies(server, "npm", names, dict.fromkeys(names, url), metadata_max_age=0,
                          connect_timeout=2, read_timeout=20)


@pytest.fixture(scope="module")
def node_tools():
    return install_node_tools()


def upstream_integrity(upstream, name):
    document = upstream.request("GET", f"/repository/{UPSTREAM_REPO}/{name.replace('/', '%2f')}").json()
    return document["versions"]["1.0.0"]["dist"]["integrity"]


def upstream_requests(upstream, fragment):
    return len([line for line in upstream.log(tail=100000).splitlines()
                if f"GET /repository/{UPSTREAM_REPO}/{fragment}" in line])


def test_npm_install_and_view_through_the_public_proxy(server, upstream, proxies, tmp_path):
    clients = NpmClients(server, tmp_path)
    proxy = proxies["public"]
    clients.write_npmrc(proxy)
    consumer = clients.consumer()
    install = clients.npm("install", "--no-fund", "--no-audit", APP, cwd=consumer, check=True)
    assert "added 2 packages" in install.output, install
    assert clients.node('require("app-b")', cwd=consumer).output.strip() == APP_OUTPUT

    lock = json.loads((consumer / "package-lock.json").read_text())
    for name in (APP, UTIL):
        entry = lock["packages"][f"node_modules/{name}"]
        # Resolved at the proxy, with the upstream's integrity: the bytes are the upstream's.
        assert entry["resolved"].startswith(clients.registry(proxy)), entry
        assert entry["integrity"] == upstream_integrity(upstream, name), entry
        served = server.request("GET", entry["resolved"])
        assert served.status == 200 and sri_sha512(served.body) == entry["integrity"]
    assert upstream_requests(upstream, "@acme/util/-/util-1.0.0.tgz") == 1

    view = clients.npm("view", UTIL, "version", "dist.tarball", cwd=consumer, check=True)
    assert "1.0.0" in view.output and f"{clients.registry(proxy)}@acme/util/-/util-1.0.0.tgz" in view.output

    # A proxy takes no publish: npm prints the status and our reason.
    folder = clients.make_package("mine", "1.0.0")
    clients.write_npmrc(proxy, server.admin_token)
    refused = clients.npm("publish", cwd=folder)
    assert not refused.ok and "405" in refused.output and "is a proxy" in refused.output, refused
    tag = clients.npm("dist-tag", "add", f"{UTIL}@1.0.0", "beta", cwd=folder)
    assert not tag.ok and "is a proxy" in tag.output, tag


def test_concurrent_first_requests_make_one_upstream_fetch(server, upstream, proxies):
    document = server.request("GET", f"/repository/{proxies['public']}/{BIG}",
                              headers={"Accept": "application/vnd.npm.install-v1+json"}).json()
    dist = document["versions"]["1.0.0"]["dist"]

    def download(_):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(dist["tarball"], timeout=120) as answer:
            return answer.status, sri_sha512(answer.read())

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(download, range(30)))
    assert answers == [(200, dist["integrity"])] * 30
    assert dist["integrity"] == upstream_integrity(upstream, BIG)
    assert upstream_requests(upstream, f"{BIG}/-/{BIG}-1.0.0.tgz") == 1


def test_pnpm_and_yarn_install_through_the_private_proxy(server, upstream, proxies, tmp_path,
                                                         node_tools):
    clients = NpmClients(server, tmp_path, tools=node_tools)
    proxy = proxies["private"]
    clients.write_npmrc(proxy)
    anonymous = clients.pnpm("install", "--no-frozen-lockfile", cwd=clients.consumer({APP: "^1.0.0"}))
    assert not anonymous.ok and "401" in anonymous.output, anonymous

    clients.write_npmrc(proxy, server.user_tokens["read"], extra=["always-auth=true"])
    consumer = clients.consumer({APP: "^1.0.0"})
    install = clients.pnpm("install", "--no-frozen-lockfile", cwd=consumer, check=True)
    assert re.search(r"\+ app-b 1\.0\.0", install.output), install
    assert clients.node('require("app-b")', cwd=consumer).output.strip() == APP_OUTPUT
    lock = (consumer / "pnpm-lock.yaml").read_text()
    assert upstream_integrity(upstream, UTIL) in lock, lock

    consumer = clients.consumer({APP: "^1.0.0"})
    install = clients.yarn("install", "--non-interactive", "--no-progress", cwd=consumer, check=True)
    assert "success Saved lockfile." in install.output, install
    assert clients.node('require("app-b")', cwd=consumer).output.strip() == APP_OUTPUT
    assert f'resolved "{clients.registry(proxy)}@acme/util/-/util-1.0.0.tgz#' in (
        consumer / "yarn.lock").read_text()


def test_cached_packages_install_with_the_upstream_stopped(server, upstream, proxies, tmp_path):
    clients = NpmClients(server, tmp_path)
    proxy = proxies["public"]
    clients.write_npmrc(proxy)
    # Cached while the upstream runs (the earlier tests may have done it already).
    clients.npm("install", "--no-fund", "--no-audit", APP, cwd=clients.consumer(), check=True)
    upstream.stop()

    consumer = clients.consumer()
    install = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online",
                          "--cache", str(tmp_path / "fresh-cache"), APP, cwd=consumer, check=True)
    assert "added 2 packages" in install.output, install
    assert clients.node('require("app-b")', cwd=consumer).output.strip() == APP_OUTPUT
    stale = server.request("GET", f"/repository/{proxy}/@acme%2futil")
    assert stale.status == 200 and stale.headers["Warning"].startswith('110 - "Response is Stale')

    missing = clients.npm("install", "--no-fund", "--no-audit", "never-cached", cwd=consumer)
    assert not missing.ok and re.search(r"50[24]", missing.output), missing
    # npm prints the status and our reason (the upstream that cannot be reached).
    assert "npm error 502 Cannot connect to the upstream" in missing.output, missing
