"""PyPI proxies end to end: pip and uv install through a proxy repository of the live server
whose upstream is a second instance of this registry (its own gunicorn, database and blobs)
holding a public hosted repository; then the upstream is stopped and cached packages still
install.

The upstream's gunicorn access log counts what the proxy asked of it.
"""

import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.fixtures.dists import build_wheel

from .conftest import BIN, ROOT, _answers, _free_port, create_proxies, fail_or_skip, second_registry

pytestmark = pytest.mark.e2e

UPSTREAM_REPO = "upstream-py"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A second registry with the public hosted repository upstream-py: proxied-app 1.0 (which
    requires proxied-lib), proxied-lib 1.0, and big-pkg 1.0 (a wheel of about 2 MB)."""
    with second_registry(tmp_path_factory, "e2e-upstream") as live:
        live.create_repository(UPSTREAM_REPO, "public")
        dists = live.base_dir / "dists"
        dists.mkdir()
        live.wheels = [
            build_wheel(dists, "proxied-app", "1.0", requires_dist=["proxied-lib"],
                        requires_python=">=3.8"),
            build_wheel(dists, "proxied-lib", "1.0"),
            build_wheel(dists, "big-pkg", "1.0",
                        module_source=f'DATA = "{os.urandom(1_500_000).hex()}"\nVERSION = "big"\n'),
        ]
        subprocess.run([str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar",
                        "--repository-url", live.repository_url(UPSTREAM_REPO),
                        "--username", "__token__", "--password", live.admin_token,
                        *map(str, live.wheels)], check=True, capture_output=True, timeout=120)
        yield live


@pytest.fixture(scope="module")
def proxies(server, upstream):
    """A public and a private proxy of upstream-py on the live server (metadata max age 0:
    every index request revalidates, so a stopped upstream shows at once)."""
    url = f"{upstream.url}/repository/{UPSTREAM_REPO}/simple/"
    names = {"public": "e2e-pypi-proxy", "private": "e2e-pypi-proxy-private"}
    return create_proxies(server, "pypi", names, dict.fromkeys(names, url), metadata_max_age=0,
                          connect_timeout=2, read_timeout=20)


def upstream_requests(upstream, path_part):
    return len([line for line in upstream.log(tail=100000).splitlines()
                if f"GET /repository/{UPSTREAM_REPO}/{path_part}" in line])


def installed(clients, python, module):
    return clients.python(python, f"import {module}; print({module}.VERSION)")


def test_pip_installs_through_the_public_proxy(server, upstream, proxies, clients):
    python = clients.venv()
    result = clients.pip("install", "--index-url", server.index_url(proxies["public"]),
                         "proxied-app", python=python, check=True)
    assert "Successfully installed" in result.output
    assert installed(clients, python, "proxied_app") == "1.0"
    assert installed(clients, python, "proxied_lib") == "1.0"
    # The files are cached in the proxy, counted and audited as cached from the upstream.
    files = server.api("GET", f"files/?repository={proxies['public']}").json()["results"]
    assert {f["filename"] for f in files} >= {w.name for w in upstream.wheels[:2]}
    events = server.api("GET", f"audit-events/?repository={proxies['public']}").json()["results"]
    assert any(e["action"] == "file.cache" for e in events), events


def test_uv_installs_through_the_private_proxy_with_a_token(server, upstream, proxies, clients):
    venv = clients.tmp / "uv-venv"
    clients.uv("venv", "--python", sys.executable, venv, check=True)
    python = venv / "bin" / "python"
    anonymous = clients.uv("pip", "install", "--python", python, "--index-url",
                           server.index_url(proxies["private"]), "proxied-app", check=False)
    assert not anonymous.ok and "401" in anonymous.output, anonymous
    index = server.index_url(proxies["private"], server.user_tokens["read"])
    result = clients.uv("pip", "install", "--python", python, "--index-url", index, "proxied-app",
                        check=True)
    assert "+ proxied-app==1.0" in result.output and "+ proxied-lib==1.0" in result.output


def test_fifty_concurrent_first_requests_make_one_upstream_fetch(server, upstream, proxies):
    big = upstream.wheels[2]
    page = server.simple_json(proxies["public"], "big-pkg")
    url = next(f["url"] for f in page["files"] if f["filename"] == big.name)
    expected = hashlib.sha256(big.read_bytes()).hexdigest()

    def download(_):
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=120) as answer:
            return answer.status, hashlib.sha256(answer.read()).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(download, range(50)))
    assert answers == [(200, expected)] * 50
    assert upstream_requests(upstream, f"packages/big-pkg/{big.name}") == 1


PYPISERVER = "pypiserver==2.4.2"


@pytest.fixture(scope="module")
def pypiserver(tmp_path_factory):
    """pypiserver (a peer implementation, HTML pages only, relative links) serving a folder with
    peer-app 1.0 (which requires peer-lib) and peer-lib 1.0; installed once under
    var/test-clients from the package registry this machine uses."""
    venv = ROOT / "var" / "test-clients" / PYPISERVER.replace("==", "-")
    binary = venv / "bin" / "pypi-server"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                                    "--disable-pip-version-check", PYPISERVER],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if installed.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            fail_or_skip(f"could not install {PYPISERVER}: {installed.stdout.decode()[-2000:]}")
    folder = tmp_path_factory.mktemp("pypiserver")
    packages = folder / "packages"
    packages.mkdir()
    build_wheel(packages, "peer-app", "1.0", requires_dist=["peer-lib"])
    build_wheel(packages, "peer-lib", "1.0")
    port = _free_port()
    with (folder / "log").open("wb") as log:
        process = subprocess.Popen(
            [str(binary), "run", "-p", str(port), "-i", "127.0.0.1", "--disable-fallback",
             "--hash-algo", "sha256", "-a", ".", "-P", ".", str(packages)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert process.poll() is None and time.monotonic() < deadline, (folder / "log").read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/simple/"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_pip_installs_through_a_proxy_of_a_peer_server(server, pypiserver, clients):
    server.api("POST", "repositories/", {"name": "e2e-pypiserver-proxy", "format": "pypi",
                                         "kind": "proxy", "visibility": "public",
                                         "upstream": {"url": pypiserver}}, expect=(201,))
    python = clients.venv()
    clients.pip("install", "--index-url", server.index_url("e2e-pypiserver-proxy"), "peer-app",
                python=python, check=True)
    assert installed(clients, python, "peer_app") == "1.0"
    assert installed(clients, python, "peer_lib") == "1.0"


def test_cached_packages_install_with_the_upstream_stopped(server, upstream, proxies, clients):
    # Cached before the stop: the index pages (revalidated every time, max age 0) and files.
    index = server.index_url(proxies["public"])
    upstream.stop()
    python = clients.venv()
    result = clients.pip("install", "--index-url", index, "proxied-app", python=python, check=True)
    assert installed(clients, python, "proxied_app") == "1.0"
    stale = server.request("GET", f"/repository/{proxies['public']}/simple/proxied-app/",
                           headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert stale.status == 200 and stale.headers["Warning"].startswith('110 - "Response is Stale')

    venv = clients.tmp / "uv-venv"
    clients.uv("venv", "--python", sys.executable, venv, check=True)
    result = clients.uv("pip", "install", "--python", venv / "bin" / "python", "--index-url",
                        server.index_url(proxies["private"], server.user_tokens["read"]),
                        "proxied-app", check=True)
    assert "+ proxied-app==1.0" in result.output

    # Never cached: a 502 (pip retries it, then gives up), with the reason in the body.
    missing = clients.pip("download", "-vv", "--no-deps", "--dest", clients.tmp / "d",
                          "--index-url", index, "never-cached")
    assert not missing.ok
    assert re.search(r'never-cached/ HTTP/1.1" 50[24]', missing.output), str(missing)[:4000]
    answer = server.request("GET", f"/repository/{proxies['public']}/simple/never-cached/")
    assert answer.status in (502, 504) and "Nothing is cached for simple/never-cached/" in answer.text
    health = server.api("GET", f"repositories/{proxies['public']}/").json()["upstream"]["health"]
    assert health["status"] == "down" and health["consecutive_failures"] >= 3, health
