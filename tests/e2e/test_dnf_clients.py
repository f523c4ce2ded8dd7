"""The real dnf against a live server, with its own dnf.conf and installroot: the .repo file
the server gives, repodata checked with repo_gpgcheck=1 and the served key, repoquery,
download, install with a dependency between two uploaded packages; a tampered repomd.xml, a
wrong key and missing credentials refused."""

import hashlib
import http.server
import threading
import urllib.request

import pytest

from tests.fixtures.rpms import build_rpm

from .apt_clients import get, put
from .dnf_clients import DnfRoot, find_dnf

pytestmark = pytest.mark.e2e


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    """A private repository with a library, a tool that requires it, and a noarch extra; a
    public one whose packages are signed on upload."""
    find_dnf()
    rpms = tmp_path_factory.mktemp("rpms")
    token = server.admin_token
    server.api("POST", "repositories/", {"name": "e2e-rpm", "format": "rpm", "visibility": "private"},
               expect=(201,))
    server.api("POST", "repositories/", {"name": "e2e-rpm-signed", "format": "rpm", "visibility": "public",
                                         "settings": {"sign_packages": True}}, expect=(201,))
    packages = {
        "lib": build_rpm(rpms, "e2e-hello-lib", "2.0", "1", "x86_64",
                         files={"/usr/share/e2e-hello-lib/data": "library data\n"}),
        "tool": build_rpm(rpms, "e2e-hello", "1.0", "1", requires=["e2e-hello-lib >= 2.0"],
                          files={"/usr/share/e2e-hello/README": "hello from the registry\n"}),
        "extra": build_rpm(rpms, "e2e-extra", "0.5", "3", epoch=2),
    }
    for rpm in packages.values():
        assert put(server, f"/repository/e2e-rpm/{rpm.name}", rpm.read_bytes(), token) == 201
    signed = build_rpm(rpms, "e2e-signed", "1.0", "1", files={"/usr/share/e2e-signed/README": "signed\n"})
    assert put(server, f"/repository/e2e-rpm-signed/{signed.name}", signed.read_bytes(), token) == 201
    return {"repository": "e2e-rpm", "token": token, "packages": packages, "signed": signed}


@pytest.fixture
def dnf_root(tmp_path):
    root = DnfRoot(tmp_path / "dnf")
    yield root
    root.close()


def repo_file(server, repository, token=None):
    return get(server, f"/repository/{repository}/{repository}.repo", token).decode()


def test_repoquery_download_and_install(server, published, tmp_path, dnf_root):
    repository, token = published["repository"], published["token"]
    text = repo_file(server, repository, token)
    # The .repo file a reader gets carries their token: it works as it is.
    assert f"password={token}\n" in text and "repo_gpgcheck=1\n" in text
    root = dnf_root
    root.add_repo(repository, text)

    _code, output = root.run("makecache", check=True)
    assert "Importing GPG key" in output, output
    _code, output = root.run("--quiet", "repoquery", "--available", "--queryformat", "%{name} %{evr} %{arch}\n",
                             check=True)
    listed = {line for line in output.splitlines() if line.strip()}
    assert listed == {"e2e-hello 1.0-1 noarch", "e2e-hello-lib 2.0-1 x86_64", "e2e-extra 2:0.5-3 noarch"}, output
    _code, output = root.run("repoquery", "--requires", "e2e-hello", check=True)
    assert "e2e-hello-lib >= 2.0" in output

    # Download: the bytes that were uploaded.
    root.run("install", "--downloadonly", "--downloaddir", str(root.root / "downloads"), "e2e-extra", check=True)
    extra = published["packages"]["extra"]
    assert sha256(root.downloaded(extra.name).read_bytes()) == sha256(extra.read_bytes())

    # Install: the dependency comes from the same repository.
    _code, output = root.run("install", "e2e-hello", check=True)
    assert "e2e-hello-lib" in output
    assert (root.installroot / "usr/share/e2e-hello/README").read_text() == "hello from the registry\n"
    assert (root.installroot / "usr/share/e2e-hello-lib/data").read_text() == "library data\n"
    _code, output = root.run("list", "--installed", check=True)
    assert "e2e-hello.noarch" in output and "e2e-hello-lib.x86_64" in output


def test_a_private_repository_needs_its_credentials(server, published, tmp_path, dnf_root):
    repository = published["repository"]
    # The same .repo file without its username and password lines.
    text = repo_file(server, repository, published["token"]).rsplit("username=", 1)[0]
    root = dnf_root
    root.add_repo(repository, text)
    _code, output = root.run("makecache", check=False)
    assert "401" in output and "Cannot download repomd.xml" in output, output
    root.run("install", "e2e-hello", check=False)
    assert not (root.installroot / "usr/share/e2e-hello/README").exists()


def test_a_tampered_repomd_is_rejected(server, published, tmp_path, dnf_root):
    """A mirror that serves every file of the repository as it is but changes repomd.xml (a
    revision number): its signature no longer matches and dnf refuses the repository."""
    repository, token = published["repository"], published["token"]
    upstream = f"{server.url}/repository/{repository}/"

    class TamperingMirror(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            request = urllib.request.Request(upstream + self.path.lstrip("/"),
                                             headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                data = answer.read()
            if self.path.endswith("/repomd.xml"):
                data = data.replace(b"<revision>", b"<revision>9", 1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    mirror = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TamperingMirror)
    thread = threading.Thread(target=mirror.serve_forever, daemon=True)
    thread.start()
    try:
        mirror_url = f"http://127.0.0.1:{mirror.server_address[1]}/"
        text = repo_file(server, repository, token).replace(upstream, mirror_url)
        assert f"baseurl={mirror_url}\n" in text and f"gpgkey={mirror_url}key.asc\n" in text
        root = dnf_root
        root.add_repo(repository, text)
        _code, output = root.run("makecache", check=False)
        assert "GPG signature verification error" in output or "Bad GPG signature" in output, output
        _code, output = root.run("install", "e2e-hello", check=False)
        assert not (root.installroot / "usr/share/e2e-hello/README").exists()
    finally:
        mirror.shutdown()
        mirror.server_close()


def test_a_wrong_key_is_not_trusted(server, published, tmp_path, dnf_root):
    from signing import gpg

    repository, token = published["repository"], published["token"]
    stranger = tmp_path / "stranger.asc"
    stranger.write_text(gpg.generate("Stranger", "stranger@example.com").public_armored)
    text = repo_file(server, repository, token)
    text = text.replace(f"gpgkey={server.url}/repository/{repository}/key.asc", f"gpgkey=file://{stranger}")
    root = dnf_root
    root.add_repo(repository, text)
    _code, output = root.run("makecache", check=False)
    assert "GPG signature verification error" in output or "Bad GPG signature" in output, output


def test_signed_packages_pass_gpgcheck(server, published, tmp_path, dnf_root):
    text = repo_file(server, "e2e-rpm-signed")
    assert "gpgcheck=1\n" in text and "password" not in text
    root = dnf_root
    root.add_repo("e2e-rpm-signed", text)
    _code, output = root.run("install", "e2e-signed", check=True)
    assert (root.installroot / "usr/share/e2e-signed/README").read_text() == "signed\n"


def test_unsigned_packages_fail_gpgcheck(server, published, tmp_path, dnf_root):
    """The same check on a repository that does not sign its packages: dnf refuses them."""
    text = repo_file(server, published["repository"], published["token"]).replace("gpgcheck=0", "gpgcheck=1")
    root = dnf_root
    root.add_repo(published["repository"], text)
    _code, output = root.run("install", "e2e-extra", check=False)
    assert "is not signed" in output or "GPG check FAILED" in output, output
    assert not (root.installroot / "opt/e2e-extra/README").exists()
