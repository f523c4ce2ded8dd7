"""The production topology as processes on one machine: nginx with TLS (the deployment's own
site template, a test CA) in front of two gunicorn web nodes, two Celery workers, the
machine's PostgreSQL and Redis, and moto's S3 server. Real clients go through nginx over
HTTPS — pip and twine with --cert, npm with cafile, apt with the CA, dnf with sslcacert. Then
one web node and one worker are killed: the clients keep working and the next publication
completes on the worker left."""

import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

from tests.fixtures.debs import build_deb
from tests.fixtures.deployment import shared_settings
from tests.fixtures.dists import build_wheel
from tests.fixtures.rpms import build_rpm
from tests.fixtures.s3_server import CREDENTIALS, REGION, moto_server

from .apt_clients import AptRoot, find_apt
from .conftest import (
    ADMIN, ADMIN_PASSWORD, BIN, CLIENT_TIMEOUT, LiveServer, PostgresDatabase, _server_environment,
    client_environment, fail_or_skip,
)
from .dnf_clients import DnfRoot, find_dnf
from .processes import Nginx, Worker, certificate_authority

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)
MACHINE_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def _reachable(address):
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Topology:
    nginx: Nginx
    web: list
    workers: list
    ca: object
    token: str

    @property
    def url(self):
        return self.nginx.url

    def request(self, method, path, body=None, *, token=None, headers=None):
        """(status, body) of a request through nginx over HTTPS, trusting only the test CA."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        context = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(request, timeout=60, context=context) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def api(self, method, path, document=None, expect=(200, 201)):
        status, body = self.request(method, "/api/v1/" + path, json.dumps(document).encode() if document else None,
                                    token=self.token, headers={"Content-Type": "application/json"})
        assert status in expect, (status, body[:500])
        return json.loads(body) if body else None

    def logs(self):
        parts = [f"--- nginx ---\n{self.nginx.error_log()}"]
        parts += [f"--- web {n} ---\n{node.log(60)}" for n, node in enumerate(self.web, 1)]
        parts += [f"--- worker {n} ---\n{worker.log()}" for n, worker in enumerate(self.workers, 1)]
        return "\n".join(parts)


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    find_apt()
    find_dnf()
    if not _reachable(REDIS):
        fail_or_skip("Redis is not reachable on 127.0.0.1:6379")
    if not _reachable(("127.0.0.1", 5432)):
        fail_or_skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    base = tmp_path_factory.mktemp("topology")
    ca, certificate, key = certificate_authority(base / "tls")
    caller_database = os.environ.get("DATABASE_URL", "")
    database = PostgresDatabase(caller_database if caller_database.startswith("postgres") else MACHINE_POSTGRES)
    run = uuid.uuid4().hex[:8]
    with moto_server() as s3:
        bucket = f"registry-{run}"
        boto3.client("s3", endpoint_url=s3, region_name=REGION, config=Config(s3={"addressing_style": "path"}),
                     **CREDENTIALS).create_bucket(Bucket=bucket)
        database.create()
        # What every node shares: the names docker-compose.yml and its env file set.
        shared = shared_settings(database_url=database.url, redis=f"{REDIS[0]}:{REDIS[1]}", s3_endpoint=s3,
                                 bucket=bucket, region=REGION, credentials=CREDENTIALS, run=run)

        def node_environment(name):
            # Each node its own VAR_DIR: nothing is shared through local files.
            return {**_server_environment(base / name / "var"), **shared}

        web = [LiveServer(base / name, node_environment(name), database) for name in ("web1", "web2")]
        for node in web:
            node.base_dir.mkdir(exist_ok=True)
        workers = [Worker(node_environment(name), base / f"{name}.log") for name in ("worker1", "worker2")]
        nginx = None
        try:
            for node in web:
                node.spawn()
            web[0].manage("createsuperuser", "--noinput", extra_env={
                "DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
                "DJANGO_SUPERUSER_EMAIL": "admin@example.com"})
            token = web[0].create_token(ADMIN, "topology-admin", "admin")
            for node in web:
                node.wait_until_ready()
            for worker in workers:
                worker.start()
            nginx = Nginx(base / "nginx", upstreams=[node.host for node in web], certificate=certificate,
                          key=key, s3_endpoint=s3)
            shared["CSRF_TRUSTED_ORIGINS"] = nginx.url
            nginx.start()
            yield Topology(nginx=nginx, web=web, workers=workers, ca=ca, token=token)
        finally:
            if nginx is not None:
                nginx.stop()
            for process in [*workers, *web]:
                process.stop()
            database.drop()


def wait_for(predicate, what, topology, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{topology.logs()}")


def run(command, env, cwd=None, check=True):
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}"
    return result


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Clients:
    """pip, twine, npm, apt and dnf set up for the topology's HTTPS URL and CA."""

    def __init__(self, topology, folder):
        self.topology, self.folder = topology, folder
        self.host = topology.url.removeprefix("https://")
        self.home = folder / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = client_environment(self.home)
        self.token = topology.token

    def twine_upload(self, repository, path):
        run([str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar",
             "--repository-url", f"{self.topology.url}/repository/{repository}/", "--cert", str(self.topology.ca),
             "-u", "__token__", "-p", self.token, str(path)], self.env)

    def pip_download(self, repository, requirement, folder):
        index = f"https://__token__:{self.token}@{self.host}/repository/{repository}/simple/"
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--dest", str(folder),
             "--index-url", index, "--cert", str(self.topology.ca), requirement], self.env)

    def npm(self, repository, *args, cwd):
        npmrc = self.folder / f"{repository}.npmrc"
        npmrc.write_text(f"registry={self.topology.url}/repository/{repository}/\n"
                         f"//{self.host}/repository/{repository}/:_authToken={self.token}\n"
                         f"cafile={self.topology.ca}\n")
        env = {**self.env, "npm_config_userconfig": str(npmrc), "npm_config_cache": str(self.home / ".npm"),
               "npm_config_update_notifier": "false", "npm_config_audit": "false", "npm_config_fund": "false"}
        npm = __import__("shutil").which("npm") or fail_or_skip("npm is not installed")
        return run([npm, *args], env, cwd=cwd)

    def apt_root(self, repository, name):
        root = AptRoot(self.folder / name)
        keyring = root.root / "etc/apt/keyrings" / f"{repository}.asc"
        status, key = self.topology.request("GET", f"/repository/{repository}/key.asc", token=self.token)
        assert status == 200
        keyring.write_bytes(key)
        base = f"{self.topology.url}/repository/{repository}/"
        (root.root / "etc/apt/sources.list.d" / f"{repository}.list").write_text(
            f"deb [signed-by={keyring}] {base} stable main\n")
        auth = root.root / "etc/apt/auth.conf.d" / f"{repository}.conf"
        auth.write_text(f"machine {base}\nlogin __token__\npassword {self.token}\n")
        auth.chmod(0o600)
        with root.config.open("a") as config:
            config.write(f'Acquire::https::CaInfo "{self.topology.ca}";\n')
        return root

    def dnf_root(self, repository, name):
        root = DnfRoot(self.folder / name)
        status, text = self.topology.request("GET", f"/repository/{repository}/{repository}.repo", token=self.token)
        assert status == 200
        repo = text.decode()
        assert f"baseurl={self.topology.url}/repository/{repository}/" in repo  # https, from the proxy
        root.add_repo(repository, repo + f"sslcacert={self.topology.ca}\n")
        return root


def test_clients_over_https_survive_a_web_node_and_a_worker_dying(topology, tmp_path):
    clients = Clients(topology, tmp_path)
    for name, fmt in [("topo-py", "pypi"), ("topo-npm", "npm"), ("topo-deb", "deb"), ("topo-rpm", "rpm")]:
        topology.api("POST", "repositories/", {"name": name, "format": fmt, "visibility": "private"})

    # --- uploads through nginx ------------------------------------------------------------------
    wheel = build_wheel(tmp_path, "topo-lib", "1.0")
    clients.twine_upload("topo-py", wheel)
    from tests.fixtures.npm_packages import npm_pack

    tarball = npm_pack(tmp_path / "npm", "topo-widget", "1.0.0")
    clients.npm("topo-npm", "publish", str(tarball), cwd=tmp_path)
    deb = build_deb(tmp_path, "topo-tool", "1.0", "all", files={"usr/share/topo-tool/README": "over https\n"})
    status, _ = topology.request("PUT", f"/repository/topo-deb/{deb.name}", deb.read_bytes(), token=topology.token)
    assert status == 201
    rpm = build_rpm(tmp_path, "topo-rpm-tool", "1.0", files={"/usr/share/topo-rpm-tool/README": "over https\n"})
    status, _ = topology.request("PUT", f"/repository/topo-rpm/{rpm.name}", rpm.read_bytes(), token=topology.token)
    assert status == 201

    # --- no local state: a file put into one web node is read from the other -------------------
    (tmp_path / "direct").mkdir()
    direct = build_wheel(tmp_path / "direct", "topo-direct", "1.0")
    request = urllib.request.Request(f"{topology.web[0].url}/api/v1/repositories/topo-py/upload/", method="POST")
    boundary = "topology"
    request.data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{direct.name}\"\r\n\r\n"
                    ).encode() + direct.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {topology.token}")
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 201
    other = topology.web[1].request("GET", "/repository/topo-py/simple/topo-direct/", token=topology.token,
                                    headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert other.status == 200 and direct.name in other.body.decode()

    # --- the workers publish; the clients read through nginx ------------------------------------
    def published(repository, path, text):
        status, body = topology.request("GET", f"/repository/{repository}/{path}", token=topology.token)
        return status == 200 and text.encode() in body

    wait_for(lambda: published("topo-deb", "dists/stable/main/binary-amd64/Packages", "Package: topo-tool"),
             "the APT publication", topology)
    wait_for(lambda: published("topo-rpm", "repodata/repomd.xml", "primary"), "the RPM publication", topology)

    downloads = tmp_path / "downloads"
    clients.pip_download("topo-py", "topo-lib==1.0", downloads)
    assert sha256(downloads / wheel.name) == sha256(wheel)
    # nginx sent the bytes itself, from the bucket (X-Accel-Redirect to a presigned path).
    assert f"/repository/topo-py/packages/topo-lib/{wheel.name}" in topology.nginx.access_log()

    project = tmp_path / "project"
    project.mkdir()
    (project / "package.json").write_text('{"name": "topo-app", "version": "1.0.0", "private": true}\n')
    clients.npm("topo-npm", "install", "topo-widget@1.0.0", cwd=project)
    installed = json.loads((project / "node_modules/topo-widget/package.json").read_text())
    assert installed["version"] == "1.0.0"

    apt = clients.apt_root("topo-deb", "apt1")
    apt.run("update", check=True)
    apt.run("install", "-y", "topo-tool", check=True)
    assert (apt.root / "usr/share/topo-tool/README").read_text() == "over https\n"

    dnf = clients.dnf_root("topo-rpm", "dnf1")
    try:
        dnf.run("install", "topo-rpm-tool", check=True)
        assert (dnf.installroot / "usr/share/topo-rpm-tool/README").read_text() == "over https\n"
    finally:
        dnf.close()

    # --- one web node and one worker die ---------------------------------------------------------
    topology.web[0].process.kill()
    topology.web[0].process.wait(timeout=10)
    topology.workers[0].kill()

    again = tmp_path / "again"
    for attempt in range(2):  # every request lands on the node left, whichever nginx tried first
        clients.pip_download("topo-py", "topo-lib==1.0", again / str(attempt))
        assert sha256(again / str(attempt) / wheel.name) == sha256(wheel)
    fresh = tmp_path / "fresh-project"
    fresh.mkdir()
    (fresh / "package.json").write_text('{"name": "topo-app2", "version": "1.0.0", "private": true}\n')
    clients.npm("topo-npm", "install", "topo-widget@1.0.0", cwd=fresh)

    # The next publication completes, on the worker left.
    (tmp_path / "second").mkdir()
    second = build_deb(tmp_path / "second", "topo-second", "2.0", "all",
                       files={"usr/share/topo-second/README": "after the failures\n"})
    status, _ = topology.request("PUT", f"/repository/topo-deb/{second.name}", second.read_bytes(), token=topology.token)
    assert status == 201
    wait_for(lambda: published("topo-deb", "dists/stable/main/binary-amd64/Packages", "Package: topo-second"),
             "the publication after the failures", topology)
    apt.run("update", check=True)
    apt.run("install", "-y", "topo-second", check=True)
    assert (apt.root / "usr/share/topo-second/README").read_text() == "after the failures\n"

    rpm2 = build_rpm(tmp_path / "second", "topo-rpm-second", "1.0")
    status, _ = topology.request("PUT", f"/repository/topo-rpm/{rpm2.name}", rpm2.read_bytes(), token=topology.token)
    assert status == 201
    wait_for(lambda: published("topo-rpm", "repodata/repomd.xml", "primary")
             and _rpm_lists(topology, "topo-rpm-second"), "the RPM publication after the failures", topology)
    dnf2 = clients.dnf_root("topo-rpm", "dnf2")
    try:
        dnf2.run("install", "topo-rpm-second", check=True)
    finally:
        dnf2.close()

    # Plain HTTP is sent to HTTPS; the health check is answered over HTTP.
    with socket.create_connection(("127.0.0.1", topology.nginx.http_port), timeout=5) as sock:
        sock.sendall(b"GET /ui/search/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 301") and f"https://127.0.0.1:{topology.nginx.https_port}/ui/search/" in answer
    status, body = topology.request("GET", "/-/ready")
    assert status == 200 and json.loads(body)["status"] == "ready"


def _rpm_lists(topology, name):
    import gzip
    import re

    status, repomd = topology.request("GET", "/repository/topo-rpm/repodata/repomd.xml", token=topology.token)
    if status != 200:
        return False
    href = re.search(rb'<location href="(repodata/[0-9a-f]+-primary\.xml\.gz)"', repomd)
    if not href:
        return False
    status, primary = topology.request("GET", f"/repository/topo-rpm/{href.group(1).decode()}", token=topology.token)
    return status == 200 and f"<name>{name}</name>".encode() in gzip.decompress(primary)
