"""The real apt-get against a live server, in a private apt root: its own sources, keyring,
lists, cache and dpkg database; nothing of the machine's own apt is read or touched."""

import hashlib

import pytest

from tests.fixtures.debs import build_deb

from .apt_clients import AptRoot, configure, find_apt, get, put

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    """A private deb repository with a library and a tool that depends on it (stable/main),
    and a second distribution and component; plus a public one."""
    find_apt()
    debs = tmp_path_factory.mktemp("debs")
    server.api("POST", "repositories/", {"name": "e2e-apt", "format": "deb", "visibility": "private"},
               expect=(201,))
    token = server.admin_token
    packages = {
        "lib": build_deb(debs, "e2e-hello-lib", "2.0-1", "amd64",
                         files={"usr/share/e2e-hello-lib/data": "library data\n"}),
        "tool": build_deb(debs, "e2e-hello", "1.0-1", "all", depends="e2e-hello-lib (>= 2.0)",
                          files={"usr/share/e2e-hello/README": "hello from the registry\n"}),
        "extra": build_deb(debs, "e2e-extra", "0.5", "all"),
    }
    put(server, "/repository/e2e-apt/" + packages["lib"].name, packages["lib"].read_bytes(), token)
    put(server, "/repository/e2e-apt/" + packages["tool"].name, packages["tool"].read_bytes(), token)
    put(server, f"/repository/e2e-apt/{packages['extra'].name}?distribution=testing&component=contrib",
         packages["extra"].read_bytes(), token)
    return {"repository": "e2e-apt", "token": token, "packages": packages}


def test_update_verifies_and_install_resolves_the_dependency(server, published, tmp_path):
    root = AptRoot(tmp_path / "root")
    sources = configure(root, server, published, published["token"])
    assert " stable main" in sources and " testing contrib" in sources
    _code, output = root.run("update", check=True)
    assert "e2e-apt stable InRelease" in output and "not signed" not in output
    root.run("install", "-y", "--no-install-recommends", "e2e-hello", check=True)
    readme = root.root / "usr/share/e2e-hello/README"
    assert readme.read_text() == "hello from the registry\n"
    assert (root.root / "usr/share/e2e-hello-lib/data").exists(), "the dependency was installed"
    status = (root.root / "var/lib/dpkg/status").read_text()
    assert "Package: e2e-hello\n" in status and "Package: e2e-hello-lib\n" in status

    # The other distribution and component are there too; apt-get download gets the same bytes.
    _code, output = root.run("download", "e2e-extra", check=True)
    downloaded = root.root / "e2e-extra_0.5_all.deb"
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == hashlib.sha256(
        published["packages"]["extra"].read_bytes()).hexdigest()


def test_a_wrong_key_is_not_trusted(server, published, tmp_path):
    from signing import gpg

    stranger = gpg.generate("Stranger", "stranger@example.com").public_armored.encode()
    root = AptRoot(tmp_path / "root")
    configure(root, server, published, published["token"], key=stranger)
    _code, output = root.run("update")
    assert "NO_PUBKEY" in output and "is not signed" in output, output
    _code, output = root.run("install", "-y", "e2e-hello", check=False)
    assert "Unable to locate package e2e-hello" in output, output


def test_a_tampered_release_is_rejected(server, published, tmp_path):
    """A mirror that changed one hash in InRelease: apt refuses the signature."""
    repository, token = published["repository"], published["token"]
    mirror = tmp_path / "mirror"
    for name in ("InRelease", "main/binary-amd64/Packages", "main/binary-amd64/Packages.gz"):
        target = mirror / "dists/stable" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(get(server, f"/repository/{repository}/dists/stable/{name}", token))
    inrelease = mirror / "dists/stable/InRelease"
    text = inrelease.read_text()
    inrelease.write_text(text.replace("Suite: stable", "Suite: stablE", 1))
    root = AptRoot(tmp_path / "root")
    keyring = root.root / "etc/apt/keyrings/key.asc"
    keyring.write_bytes(get(server, f"/repository/{repository}/key.asc", token))
    (root.root / "etc/apt/sources.list.d/mirror.list").write_text(
        f"deb [signed-by={keyring}] file://{mirror}/ stable main\n")
    _code, output = root.run("update")
    assert "BADSIG" in output and "is not signed" in output, output
    _code, output = root.run("install", "-y", "e2e-hello", check=False)
    assert "Unable to locate package e2e-hello" in output, output


def test_a_private_repository_needs_the_token(server, published, tmp_path):
    root = AptRoot(tmp_path / "root")
    configure(root, server, published, published["token"])
    (root.root / "etc/apt/auth.conf.d" / f"{published['repository']}.conf").unlink()
    _code, output = root.run("update")
    assert "401" in output and "Authentication required" in output, output
    _code, output = root.run("install", "-y", "e2e-hello", check=False)
    assert "Unable to locate package e2e-hello" in output, output
