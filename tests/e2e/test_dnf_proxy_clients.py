"""RPM proxies end to end: the real dnf, with repo_gpgcheck=1 and the .repo file each proxy
gives, installs through two proxy repositories of the live server:

- a private proxy whose upstream is a second instance of this registry, holding a signed, public
  hosted RPM repository (its key.asc set as the proxy's upstream key);
- a public proxy whose upstream is a createrepo_c tree (tests/fixtures/yum_tree.py) with
  repomd.xml signed by a key of its own, served by `python -m http.server`.

dnf checks repomd.xml.asc with the key the proxy serves, which is the upstream's: nothing is
re-signed. Then both upstreams are stopped and a fresh installroot still installs everything
from the proxies' caches.
"""

import urllib.request

import pytest

from signing import gpg
from tests.fixtures.rpms import build_rpm
from tests.fixtures.yum_tree import write_tree

from .apt_clients import get, put
from .conftest import USER, second_registry
from .dnf_clients import DnfRoot, find_dnf
from .test_maven_proxy_clients import StaticTree

pytestmark = pytest.mark.e2e

UPSTREAM_REPO = "upstream-rpm"
PROXIES = {"private": "rpm-proxy-private", "public": "rpm-proxy-public"}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A second registry with the public hosted RPM repository upstream-rpm holding one package."""
    find_dnf()
    with second_registry(tmp_path_factory, "e2e-rpm-upstream") as live:
        live.api("POST", "repositories/", {"name": UPSTREAM_REPO, "format": "rpm",
                                           "visibility": "public"}, expect=(201,))
        rpm = build_rpm(live.base_dir, "e2e-proxied-hosted", "1.0", "1",
                        files={"/usr/share/e2e-proxied-hosted/README": "from the upstream registry\n"})
        assert put(live, f"/repository/{UPSTREAM_REPO}/{rpm.name}", rpm.read_bytes(),
                   live.admin_token) == 201
        live.rpm = rpm
        yield live


@pytest.fixture(scope="module")
def static_tree(tmp_path_factory):
    """A createrepo_c tree with one package, repomd.xml signed by the tree's own key."""
    base_dir = tmp_path_factory.mktemp("e2e-yum-tree")
    root = base_dir / "tree"
    root.mkdir()
    key = gpg.generate("E2E yum tree", "yum-tree@example.com")
    rpm = build_rpm(base_dir, "e2e-proxied-tree", "2.0", "1",
                    files={"/usr/share/e2e-proxied-tree/README": "from the static tree\n"})
    write_tree(root, [rpm], key)
    tree = StaticTree(root, base_dir / "http.log")
    tree.rpm, tree.key = rpm, key
    try:
        yield tree
    finally:
        tree.stop()


@pytest.fixture(scope="module")
def proxies(server, upstream, static_tree):
    upstream_key = get(upstream, f"/repository/{UPSTREAM_REPO}/key.asc").decode()
    settings = {
        "private": {"url": f"{upstream.url}/repository/{UPSTREAM_REPO}/", "public_key": upstream_key},
        "public": {"url": static_tree.url, "public_key": static_tree.key.public_armored},
    }
    for visibility, name in PROXIES.items():
        server.api("POST", "repositories/", {
            "name": name, "format": "rpm", "kind": "proxy", "visibility": visibility,
            # Revalidated on every read: with the upstreams stopped, repomd.xml is served stale.
            "upstream": {**settings[visibility], "metadata_max_age": 0},
        }, expect=(201,))
    server.grant(PROXIES["private"], USER, "read")
    return PROXIES


def configure(root, server, token):
    for visibility, name in PROXIES.items():
        text = get(server, f"/repository/{name}/{name}.repo",
                   token if visibility == "private" else None).decode()
        assert "repo_gpgcheck=1\n" in text and f"gpgkey={server.url}/repository/{name}/key.asc" in text
        if visibility == "private":
            assert f"password={token}\n" in text
        root.add_repo(name, text)


def install_both(root, upstream, static_tree):
    _code, output = root.run("makecache", check=True)
    # The upstreams' keys, served by the proxies, vouch for their repomd.xml.
    assert "Importing GPG key" in output, output
    root.run("install", "e2e-proxied-hosted", "e2e-proxied-tree", check=True)
    installed = root.installroot / "usr/share"
    assert (installed / "e2e-proxied-hosted/README").read_text() == "from the upstream registry\n"
    assert (installed / "e2e-proxied-tree/README").read_text() == "from the static tree\n"


def test_dnf_installs_through_proxies_and_from_their_cache(server, upstream, static_tree, proxies,
                                                           tmp_path):
    token = server.user_tokens["read"]
    first = DnfRoot(tmp_path / "first")
    try:
        configure(first, server, token)
        install_both(first, upstream, static_tree)
    finally:
        first.close()
    assert static_tree.requests(f"Packages/e/{static_tree.rpm.name}") == 1

    # Without a token the private proxy is as good as missing: dnf cannot read it.
    anonymous = DnfRoot(tmp_path / "anonymous")
    try:
        text = get(server, f"/repository/{PROXIES['private']}/{PROXIES['private']}.repo", token)
        anonymous.add_repo("private", text.decode().split("username=", 1)[0])
        anonymous.run("makecache", check=False)
    finally:
        anonymous.close()

    upstream.stop()
    static_tree.stop()
    with urllib.request.urlopen(f"{server.url}/repository/{PROXIES['public']}/repodata/repomd.xml",
                                timeout=60) as answer:
        assert answer.headers["Warning"].startswith("110 "), dict(answer.headers)
    again = DnfRoot(tmp_path / "again")
    try:
        configure(again, server, token)
        install_both(again, upstream, static_tree)
    finally:
        again.close()
