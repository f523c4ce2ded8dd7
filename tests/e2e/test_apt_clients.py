"""The real apt-get against a live server, in a private apt root: its own sources, keyring,
lists, cache and dpkg database; nothing of the machine's own apt is read or touched."""

import hashlib
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.debs import build_deb

from .conftest import fail_or_skip

pytestmark = pytest.mark.e2e


def find_apt():
    for tool in ("apt-get", "dpkg", "gpgv"):
        if not shutil.which(tool):
            fail_or_skip(f"{tool} is not installed")
    return shutil.which("apt-get")


class AptRoot:
    """An apt configuration rooted in a temporary folder; `run()` calls apt-get with it."""

    def __init__(self, root):
        self.root = Path(root)
        for folder in ("etc/apt/sources.list.d", "etc/apt/apt.conf.d", "etc/apt/preferences.d",
                       "etc/apt/auth.conf.d", "etc/apt/keyrings", "etc/apt/trusted.gpg.d",
                       "var/lib/apt/lists/partial", "var/cache/apt/archives/partial",
                       "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers",
                       "var/log"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "var/lib/dpkg/status").touch()
        (self.root / "var/lib/dpkg/available").touch()
        r = self.root
        self.config = r / "apt.conf"
        self.config.write_text(f"""
Dir "{r}/";
Dir::State "{r}/var/lib/apt";
Dir::State::status "{r}/var/lib/dpkg/status";
Dir::Cache "{r}/var/cache/apt";
Dir::Etc "{r}/etc/apt";
Dir::Etc::SourceList "{r}/etc/apt/sources.list";
Dir::Etc::SourceParts "{r}/etc/apt/sources.list.d";
Dir::Etc::Parts "{r}/etc/apt/apt.conf.d";
Dir::Etc::Preferences "{r}/etc/apt/preferences";
Dir::Etc::PreferencesParts "{r}/etc/apt/preferences.d";
Dir::Etc::Trusted "{r}/etc/apt/trusted.gpg";
Dir::Etc::TrustedParts "{r}/etc/apt/trusted.gpg.d";
Dir::Etc::netrc "{r}/etc/apt/auth.conf";
Dir::Etc::netrcparts "{r}/etc/apt/auth.conf.d";
Dir::Log "{r}/var/log";
Dir::Bin::dpkg "/usr/bin/dpkg";
DPkg::Options {{ "--root={r}"; "--admindir={r}/var/lib/dpkg"; "--log={r}/var/log/dpkg.log";
                 "--force-not-root"; "--force-script-chrootless"; }};
DPkg::Use-Pty "false";
APT::Architecture "amd64";
APT::Architectures {{ "amd64"; }};
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "0";
Acquire::http::Proxy "DIRECT";
""")
        (self.root / "etc/apt/sources.list").write_text("")

    def run(self, *args, check=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("APT_")}
        env.update({"APT_CONFIG": str(self.config), "DEBIAN_FRONTEND": "noninteractive",
                    "LC_ALL": "C", "NO_PROXY": "127.0.0.1,localhost"})
        result = subprocess.run([find_apt(), "-q", *args], env=env, capture_output=True, text=True,
                                timeout=180, cwd=self.root)
        output = result.stdout + result.stderr
        if check is True:
            assert result.returncode == 0, output
        if check is False:
            assert result.returncode != 0, output
        return result.returncode, output


def _put(server, path, data, token):
    request = urllib.request.Request(server.url + path, data=data, method="PUT",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status


def _get(server, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(server.url + path, headers=headers), timeout=60) as answer:
        return answer.read()


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
    _put(server, "/repository/e2e-apt/" + packages["lib"].name, packages["lib"].read_bytes(), token)
    _put(server, "/repository/e2e-apt/" + packages["tool"].name, packages["tool"].read_bytes(), token)
    _put(server, f"/repository/e2e-apt/{packages['extra'].name}?distribution=testing&component=contrib",
         packages["extra"].read_bytes(), token)
    return {"repository": "e2e-apt", "token": token, "packages": packages}


def _configure(root, server, published, token, *, key=None):
    repository = published["repository"]
    keyring = root.root / "etc/apt/keyrings" / f"{repository}.asc"
    keyring.write_bytes(key if key is not None else _get(server, f"/repository/{repository}/key.asc", token))
    sources = _get(server, f"/repository/{repository}/{repository}.list", token).decode()
    sources = sources.replace(f"/etc/apt/keyrings/{repository}.asc", str(keyring))
    (root.root / "etc/apt/sources.list.d" / f"{repository}.list").write_text(sources)
    auth = root.root / "etc/apt/auth.conf.d" / f"{repository}.conf"
    auth.write_text(f"machine {server.url}/repository/{repository}/\nlogin __token__\npassword {token}\n")
    auth.chmod(0o600)
    return sources


def test_update_verifies_and_install_resolves_the_dependency(server, published, tmp_path):
    root = AptRoot(tmp_path / "root")
    sources = _configure(root, server, published, published["token"])
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
    _configure(root, server, published, published["token"], key=stranger)
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
        target.write_bytes(_get(server, f"/repository/{repository}/dists/stable/{name}", token))
    inrelease = mirror / "dists/stable/InRelease"
    text = inrelease.read_text()
    inrelease.write_text(text.replace("Suite: stable", "Suite: stablE", 1))
    root = AptRoot(tmp_path / "root")
    keyring = root.root / "etc/apt/keyrings/key.asc"
    keyring.write_bytes(_get(server, f"/repository/{repository}/key.asc", token))
    (root.root / "etc/apt/sources.list.d/mirror.list").write_text(
        f"deb [signed-by={keyring}] file://{mirror}/ stable main\n")
    _code, output = root.run("update")
    assert "BADSIG" in output and "is not signed" in output, output
    _code, output = root.run("install", "-y", "e2e-hello", check=False)
    assert "Unable to locate package e2e-hello" in output, output


def test_a_private_repository_needs_the_token(server, published, tmp_path):
    root = AptRoot(tmp_path / "root")
    _configure(root, server, published, published["token"])
    (root.root / "etc/apt/auth.conf.d" / f"{published['repository']}.conf").unlink()
    _code, output = root.run("update")
    assert "401" in output and "Authentication required" in output, output
    _code, output = root.run("install", "-y", "e2e-hello", check=False)
    assert "Unable to locate package e2e-hello" in output, output
