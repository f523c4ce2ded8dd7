"""APT proxies end to end: the real apt-get (in a private apt root) updates and installs through
two proxy repositories of the live server, trusting the UPSTREAMS' keys (signed-by), since a
proxy passes the upstream's signed InRelease through unchanged:

- a private proxy (alice's token in auth.conf) whose upstream is a second instance of this
  registry, holding a tool and the library it depends on in a public hosted APT repository;
- a public proxy whose upstream is a tree published by reprepro, signed by reprepro's own key,
  served over HTTP by `python -m http.server`.

Each proxy has the upstream's public key configured, so the proxy verifies InRelease too. Then
both upstreams are stopped and a fresh apt root still updates and installs from the caches.
"""

import time

import pytest

from tests.fixtures import reprepro
from tests.fixtures.debs import build_deb

from .apt_clients import AptRoot, find_apt, get, put
from .conftest import second_registry
from .test_maven_proxy_clients import StaticTree

pytestmark = pytest.mark.e2e

UPSTREAM_REPO = "upstream-apt"
NAMES = {"private": "apt-proxy-private", "public": "apt-proxy-public"}
MAX_AGE = 1


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A second registry with the public hosted APT repository upstream-apt: e2e-px-tool, which
    depends on e2e-px-lib."""
    find_apt()
    with second_registry(tmp_path_factory, "e2e-apt-upstream") as live:
        live.api("POST", "repositories/", {"name": UPSTREAM_REPO, "format": "deb",
                                           "visibility": "public"}, expect=(201,))
        debs = live.base_dir / "debs"
        debs.mkdir()
        lib = build_deb(debs, "e2e-px-lib", "1.0-1", "amd64",
                        files={"usr/share/e2e-px-lib/data": "proxied library\n"})
        tool = build_deb(debs, "e2e-px-tool", "1.0-1", "all", depends="e2e-px-lib",
                         files={"usr/share/e2e-px-tool/README": "proxied tool\n"})
        for deb in (lib, tool):
            put(live, f"/repository/{UPSTREAM_REPO}/{deb.name}", deb.read_bytes(), live.admin_token)
        live.key = get(live, f"/repository/{UPSTREAM_REPO}/key.asc").decode()
        deadline = time.monotonic() + 60
        while b"e2e-px-tool" not in _packages(live):
            assert time.monotonic() < deadline, "the upstream did not publish"
            time.sleep(0.5)
        yield live


def _packages(live):
    try:
        return get(live, f"/repository/{UPSTREAM_REPO}/dists/stable/main/binary-amd64/Packages")
    except OSError:
        return b""


@pytest.fixture(scope="module")
def static_tree(tmp_path_factory):
    """e2e-px-shout published by reprepro with its own key, served over HTTP."""
    folder = tmp_path_factory.mktemp("e2e-apt-reprepro")
    deb = build_deb(folder, "e2e-px-shout", "2.0-1", "all",
                    files={"usr/share/e2e-px-shout/README": "SHOUTED\n"})
    root, key, _env = reprepro.publish(folder, [deb])
    tree = StaticTree(root, folder / "http.log")
    tree.key = key
    yield tree
    tree.stop()


def configure(root, server, upstream, static_tree):
    keyrings = root.root / "etc/apt/keyrings"
    (keyrings / "upstream-registry.asc").write_text(upstream.key)
    (keyrings / "upstream-reprepro.asc").write_text(static_tree.key)
    base = f"{server.url}/repository"
    registry_key = keyrings / "upstream-registry.asc"
    reprepro_key = keyrings / "upstream-reprepro.asc"
    (root.root / "etc/apt/sources.list.d/proxies.list").write_text(
        f"deb [signed-by={registry_key}] {base}/{NAMES['private']}/ stable main\n"
        f"deb [signed-by={reprepro_key}] {base}/{NAMES['public']}/ stable main\n")
    auth = root.root / "etc/apt/auth.conf.d/private.conf"
    auth.write_text(f"machine {base}/{NAMES['private']}/\nlogin __token__\n"
                    f"password {server.user_tokens['read']}\n")
    auth.chmod(0o600)


def install_all(root):
    _code, output = root.run("update", check=True)
    assert "not signed" not in output and "NO_PUBKEY" not in output, output
    root.run("install", "-y", "--no-install-recommends", "e2e-px-tool", "e2e-px-shout", check=True)
    assert (root.root / "usr/share/e2e-px-tool/README").read_text() == "proxied tool\n"
    assert (root.root / "usr/share/e2e-px-lib/data").read_text() == "proxied library\n"
    assert (root.root / "usr/share/e2e-px-shout/README").read_text() == "SHOUTED\n"
    return output


def test_apt_installs_through_a_private_and_a_public_proxy_then_with_the_upstreams_stopped(
        server, upstream, static_tree, tmp_path):
    urls = {"private": f"{upstream.url}/repository/{UPSTREAM_REPO}/", "public": static_tree.url}
    for visibility, name in NAMES.items():
        key = upstream.key if visibility == "private" else static_tree.key
        server.api("POST", "repositories/", {
            "name": name, "format": "deb", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": urls[visibility], "public_key": key, "metadata_max_age": MAX_AGE},
        }, expect=(201,))
    server.grant(NAMES["private"], "alice", "read")

    first = AptRoot(tmp_path / "first")
    configure(first, server, upstream, static_tree)
    output = install_all(first)
    assert f"{NAMES['private']} stable InRelease" in output
    assert static_tree.requests("dists/stable/InRelease") >= 1

    # Without the token the private proxy is not there for apt.
    stranger = AptRoot(tmp_path / "stranger")
    configure(stranger, server, upstream, static_tree)
    (stranger.root / "etc/apt/auth.conf.d/private.conf").unlink()
    _code, output = stranger.run("update")
    assert "401" in output, output

    upstream.stop()
    static_tree.stop()
    time.sleep(MAX_AGE + 0.5)  # past the max age: the proxies try the upstreams and serve stale
    again = AptRoot(tmp_path / "again")
    configure(again, server, upstream, static_tree)
    install_all(again)
