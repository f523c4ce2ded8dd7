"""Maven proxies end to end: the real mvn resolves and compiles a consumer project through two
proxy repositories of the live server, each named by a <mirror> in settings.xml:

- a private proxy (credentials in <servers>) whose upstream is a second instance of this
  registry, holding com.acme:greeter:1.0 in a public hosted repository (deployed with mvn);
- a public proxy whose upstream is a static tree made by `mvn deploy` to a file:// repository
  (com.acme.shout:shouter:1.0, with the .sha1/.md5 files mvn writes), served over HTTP by
  `python -m http.server`, as many mirrors are.

50 concurrent first requests for a 2 MB file of the static tree make one request for it there
(counted in http.server's log). Then both upstreams are stopped and a fresh local repository
still resolves everything from the proxies' caches. The consumer's pom.xml names the upstreams themselves; the mirrors send mvn to
the proxies instead, as in an organisation's settings.xml.
"""

import concurrent.futures
import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from xml.sax.saxutils import escape

import pytest

from .conftest import create_proxies, second_registry
from .maven_clients import DEBIAN_REPO, MavenClients, artifact_path, built_jar, maven_tools

pytestmark = pytest.mark.e2e

UPSTREAM_REPO = "upstream-mvn"
GREETER = ("com.acme", "greeter", "1.0", "Hello from greeter 1.0")
SHOUTER = ("com.acme.shout", "shouter", "1.0", "HELLO FROM SHOUTER 1.0")
MIRRORS = {"private": "proxy-private", "public": "proxy-public"}


@pytest.fixture(scope="module")
def maven():
    return maven_tools()


@pytest.fixture(scope="module")
def upstream(maven, tmp_path_factory):
    """A second registry with the public hosted Maven repository upstream-mvn, where greeter 1.0
    was deployed with mvn."""
    with second_registry(tmp_path_factory, "e2e-maven-upstream") as live:
        base_dir = live.base_dir
        live.api("POST", "repositories/", {"name": UPSTREAM_REPO, "format": "maven",
                                           "visibility": "public"}, expect=(201,))
        (base_dir / "mvn").mkdir()
        clients = MavenClients(live, base_dir / "mvn", maven)
        settings = clients.settings("deployer", {"reg": live.admin_token})
        group, artifact, version, message = GREETER
        project = clients.library("greeter", version, message, repository=UPSTREAM_REPO,
                                  group=group, artifact=artifact)
        run = clients.mvn(project, settings, "deploy")
        assert run.ok, f"mvn deploy to the upstream registry failed:\n{run}\n{live.log(40)}"
        live.jar = built_jar(project).read_bytes()
        yield live


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StaticTree:
    """`python -m http.server` over a folder, its request log in a file."""

    def __init__(self, root, log_path):
        self.root, self.log_path = root, log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(root)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"http.server did not start: {log_path.read_text()}")
                time.sleep(0.1)

    def requests(self, path):
        return self.log_path.read_text().count(f'"GET /{path} HTTP')

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def static_tree(maven, upstream, tmp_path_factory):
    """shouter 1.0 deployed by mvn to a file:// repository, served over HTTP."""
    base_dir = tmp_path_factory.mktemp("e2e-maven-static")
    root = base_dir / "tree"
    root.mkdir()
    (base_dir / "mvn").mkdir()
    clients = MavenClients(upstream, base_dir / "mvn", maven)
    settings = clients.settings("deployer")
    group, artifact, version, message = SHOUTER
    project = clients.library("shouter", version, message, repository=UPSTREAM_REPO,
                              group=group, artifact=artifact)
    # The same project, deployed to the folder instead of the registry its pom.xml names.
    run = clients.mvn(project, settings, "deploy", f"-DaltDeploymentRepository=static::{root.as_uri()}")
    assert run.ok, f"mvn deploy to file:// failed:\n{run}"
    jar_path = artifact_path(group, artifact, version, f"{artifact}-{version}.jar")
    assert (root / f"{jar_path}.sha1").is_file() and not (root / f"{jar_path}.sha256").exists()
    tree = StaticTree(root, base_dir / "http.log")
    tree.jar = built_jar(project).read_bytes()
    try:
        yield tree
    finally:
        tree.stop()


@pytest.fixture(scope="module")
def proxies(server, upstream, static_tree):
    """The private proxy of the upstream registry (alice may read it) and the public proxy of
    the static tree, on the live server."""
    names = {"private": "e2e-maven-proxy-private", "public": "e2e-maven-proxy"}
    urls = {"private": f"{upstream.url}/repository/{UPSTREAM_REPO}/", "public": static_tree.url}
    return create_proxies(server, "maven", names, urls, connect_timeout=2, read_timeout=20)


def consumer(clients, upstream, static_tree):
    """com.acme:consumer, whose Main prints both libraries' messages; its <repositories> are the
    upstreams (ids acme-releases and acme-static), which settings.xml mirrors to the proxies."""
    folder = clients.folder("consumer")
    dependencies = "".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>\n"
        for g, a, v, _ in (GREETER, SHOUTER))
    (folder / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>com.acme</groupId><artifactId>consumer</artifactId><version>1.0</version>\n"
        "  <properties><maven.compiler.release>11</maven.compiler.release>"
        "<project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>\n"
        "  <repositories>\n"
        f"    <repository><id>acme-releases</id><url>{escape(upstream.url)}/repository/{UPSTREAM_REPO}/</url>"
        "<snapshots><enabled>false</enabled></snapshots></repository>\n"
        f"    <repository><id>acme-static</id><url>{escape(static_tree.url)}</url>"
        "<snapshots><enabled>false</enabled></snapshots></repository>\n"
        "  </repositories>\n"
        f"  <dependencies>\n{dependencies}  </dependencies>\n"
        "</project>\n")
    source = folder / "src" / "main" / "java" / "com" / "acme" / "consumer" / "Main.java"
    source.parent.mkdir(parents=True)
    source.write_text(
        "package com.acme.consumer;\n\n"
        "public final class Main {\n"
        "    public static void main(String[] args) {\n"
        "        System.out.println(com.acme.Greeter.greet() + \" / \" + com.acme.shout.Greeter.greet());\n"
        "    }\n"
        "}\n")
    return folder


def proxy_settings(clients, server, proxies, name):
    """settings.xml as docs/proxies.md gives it: a mirror per proxy, the private one's token in
    <servers>; Maven's own plugins still from Debian's repository (there is no Maven Central)."""
    folder = clients.folder(f"settings-{name}")
    local = folder / "m2"
    path = folder / "settings.xml"
    path.write_text(
        "<settings>\n"
        f"  <localRepository>{escape(str(local))}</localRepository>\n"
        "  <servers>\n"
        f"    <server><id>{MIRRORS['private']}</id><username>__token__</username>"
        f"<password>{escape(server.user_tokens['read'])}</password></server>\n"
        "  </servers>\n"
        "  <mirrors>\n"
        f"    <mirror><id>{MIRRORS['private']}</id><mirrorOf>acme-releases</mirrorOf>"
        f"<url>{escape(server.repository_url(proxies['private']))}</url></mirror>\n"
        f"    <mirror><id>{MIRRORS['public']}</id><mirrorOf>acme-static</mirrorOf>"
        f"<url>{escape(server.repository_url(proxies['public']))}</url></mirror>\n"
        "    <mirror><id>debian</id><mirrorOf>central</mirrorOf>"
        f"<url>{DEBIAN_REPO.as_uri()}</url></mirror>\n"
        "  </mirrors>\n"
        "</settings>\n")
    return path, local


def compile_and_run(clients, server, project, settings):
    run = clients.mvn(project, settings, "compile")
    assert run.ok, f"mvn compile through the proxies failed:\n{run}\n--- server log ---\n{server.log(40)}"
    local = settings[1]
    jars = [local / artifact_path(g, a, v, f"{a}-{v}.jar") for g, a, v, _ in (GREETER, SHOUTER)]
    ran = clients.java([project / "target" / "classes", *jars], "com.acme.consumer.Main")
    return jars, ran


def test_mvn_compiles_through_a_private_and_a_public_proxy_then_with_the_upstreams_stopped(
        maven, server, upstream, static_tree, proxies, tmp_path):
    clients = MavenClients(server, tmp_path, maven)
    project = consumer(clients, upstream, static_tree)
    expected = f"{GREETER[3]} / {SHOUTER[3]}"

    jars, ran = compile_and_run(clients, server, project,
                                proxy_settings(clients, server, proxies, "first"))
    assert ran.output.strip() == expected
    assert [jar.read_bytes() for jar in jars] == [upstream.jar, static_tree.jar]
    # The static tree has .sha1 and .md5 (no .sha256): the jar was verified against its .sha1
    # and fetched once.
    shouter_jar = artifact_path(*SHOUTER[:3], "shouter-1.0.jar")
    assert static_tree.requests(f"{shouter_jar}.sha1") == 1
    assert static_tree.requests(shouter_jar) == 1
    # Cached, counted and audited in each proxy.
    for name in proxies.values():
        files = server.api("GET", f"files/?repository={name}").json()["results"]
        assert any(f["filename"].endswith("-1.0.jar") for f in files), files
        events = server.api("GET", f"audit-events/?repository={name}").json()["results"]
        assert any(e["action"] == "file.cache" for e in events), events
    # Anonymous callers do not see the private proxy.
    greeter_jar = artifact_path(*GREETER[:3], "greeter-1.0.jar")
    assert server.request("GET", f"/repository/{proxies['private']}/{greeter_jar}").status == 401

    # 50 clients at once for a 2 MB file not cached yet: one request for it upstream.
    big = os.urandom(2_000_000)
    big_path = artifact_path("com.acme", "big", "1.0", "big-1.0.jar")
    (static_tree.root / big_path).parent.mkdir(parents=True)
    (static_tree.root / big_path).write_bytes(big)
    (static_tree.root / f"{big_path}.sha1").write_text(hashlib.sha1(big).hexdigest())
    url = f"{server.repository_url(proxies['public'])}{big_path}"

    def download(_):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=120) as answer:
            return answer.status, hashlib.sha256(answer.read()).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(download, range(50)))
    assert answers == [(200, hashlib.sha256(big).hexdigest())] * 50
    assert static_tree.requests(big_path) == 1

    upstream.stop()
    static_tree.stop()
    jars, ran = compile_and_run(clients, server, project,
                                proxy_settings(clients, server, proxies, "upstreams-stopped"))
    assert ran.output.strip() == expected
    # Never cached: 502 with the reason in the reason phrase mvn prints.
    missing = server.request("GET", f"/repository/{proxies['public']}/com/acme/other/1.0/other-1.0.pom")
    assert missing.status in (502, 504) and "upstream" in missing.reason, missing
