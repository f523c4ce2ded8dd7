"""npm end to end: the real npm, pnpm and yarn (classic) against the live server.

Each test has an npm repository of its own (named after the test). alice publishes with her
write token and installs with her read token; she is the repository's admin where a test needs
the owner (unpublish). Every client run is sealed: HOME, caches and `.npmrc` in the test's
temporary folder, none of this machine's npm configuration. What a client prints is checked, and
so is what the server then serves (packuments and tarballs fetched over HTTP).
"""

import json
import re
import time

import pytest

from .conftest import USER, _find_client
from .npm_clients import (
    NpmClients,
    access_log_lines,
    create_npm_repository,
    download,
    install_node_tools,
    packument,
    read_npmrc,
    sri_sha512,
)

pytestmark = pytest.mark.e2e

UTIL = "@acme/util"
APP = "app-b"
UTIL_SOURCE = 'exports.hello = (who) => "hello " + who + " from @acme/util 1.0.0";\n'
APP_SOURCE = 'console.log("app-b 1.0.0 says: " + require("@acme/util").hello("app-b"));\n'
APP_OUTPUT = "app-b 1.0.0 says: hello app-b from @acme/util 1.0.0"
# The registry's answer to a republish, in the npm registry's words (npm prints it).
REFUSED = "You cannot publish over the previously published versions: {}."

# People of this module, made once with manage.py: carol logs in with her password, olivia has
# no role anywhere (her token's scope is admin: only her missing role keeps her out).
LOGIN_USER = "npm-carol"
LOGIN_PASSWORD = "carol-npm-e2e-Passw0rd"
OUTSIDER = "npm-olivia"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_tools():
    """pnpm 9 and yarn 1 from the npm registry, installed once under var/test-clients/node."""
    return install_node_tools()


@pytest.fixture(scope="session")
def npm_people(server):
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model; User = get_user_model(); "
        f"User.objects.create_user({LOGIN_USER!r}, 'carol@example.com', {LOGIN_PASSWORD!r}); "
        f"User.objects.create_user({OUTSIDER!r}, 'olivia@example.com', 'olivia-unused-pw-0')"
    ))
    return {"outsider_token": server.create_token(OUTSIDER, "e2e-npm-outsider", "admin")}


@pytest.fixture
def npm_clients(server, tmp_path):
    return NpmClients(server, tmp_path)


@pytest.fixture
def node_clients(server, tmp_path, node_tools):
    return NpmClients(server, tmp_path, tools=node_tools)


@pytest.fixture
def npm_repo(server, repo_name):
    """A private npm repository where alice may write."""
    create_npm_repository(server, repo_name, "private")
    server.grant(repo_name, USER, "write")
    return repo_name


# --- helpers -----------------------------------------------------------------------------------


def publish(clients, folder, *extra, check=True):
    return clients.npm("publish", *extra, cwd=folder, check=check)


def publish_app_b(server, clients, repository):
    """@acme/util 1.0.0 and app-b 1.0.0 (which needs @acme/util@^1.0.0), published by alice."""
    clients.write_npmrc(repository, server.user_tokens["write"])
    util = clients.make_package(UTIL, "1.0.0", source=UTIL_SOURCE, description="acme helpers")
    app = clients.make_package(APP, "1.0.0", source=APP_SOURCE, description="the app b",
                               dependencies={UTIL: "^1.0.0"})
    for folder, name in ((util, UTIL), (app, APP)):
        result = publish(clients, folder)
        assert f"+ {name}@1.0.0" in result.output, f"{result}"
        where = f"Publishing to {clients.registry(repository)} with tag latest"
        assert where in result.output, f"{result}"


def dist_of(server, repository, name, version):
    document = packument(server, repository, name)
    assert document is not None, f"{name} is not in {repository}"
    assert version in document["versions"], f"{document}"
    return document["versions"][version]["dist"]


def assert_integrity_is_the_servers(server, repository, name, version, recorded, context):
    """The integrity a client recorded is sha512 of the bytes the server serves, and what the
    packument says."""
    dist = dist_of(server, repository, name, version)
    served = sri_sha512(download(server, dist["tarball"]))
    assert recorded == served, f"{name}@{version}: recorded {recorded}, served {served}\n{context}"
    assert dist["integrity"] == served, f"{name}@{version}: packument says {dist['integrity']}"
    return dist


def printed(run):
    """What npm printed as its answer: the output less npm's own log lines (warn, notice)."""
    return "\n".join(
        line for line in run.output.splitlines() if not re.match(r"npm (warn|notice|WARN) ", line)
    ).strip()


def dist_tag_lines(run):
    return {line.strip() for line in run.output.splitlines() if re.match(r"^[\w.-]+: \S+$", line)}


def wait_for_log(server, fragment, status=r"\d{3}", timeout=5.0):
    """The access-log lines of `fragment` once one with `status` is there (gunicorn writes a
    line just after it answers, so it may come a moment after the client exits)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = access_log_lines(server, fragment)
        if any(re.search(rf'" {status} ', line) for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


# --- publish and install -----------------------------------------------------------------------


def test_npm_publish_scoped_and_unscoped_then_install_and_run(server, npm_clients, npm_repo):
    clients = npm_clients
    publish_app_b(server, clients, npm_repo)

    util = packument(server, npm_repo, UTIL)
    app = packument(server, npm_repo, APP)
    assert util["dist-tags"] == {"latest": "1.0.0"}, f"{util}"
    assert list(util["versions"]) == ["1.0.0"], f"{util}"
    assert app["dist-tags"] == {"latest": "1.0.0"}, f"{app}"
    assert list(app["versions"]) == ["1.0.0"], f"{app}"
    assert app["versions"]["1.0.0"]["dependencies"] == {UTIL: "^1.0.0"}, f"{app}"
    assert "Version 1.0.0." in util["readme"], f"{util}"

    # A fresh project installs app-b (and so @acme/util) with alice's read token.
    clients.write_npmrc(npm_repo, server.user_tokens["read"])
    consumer = clients.consumer()
    install = clients.npm("install", "--no-fund", "--prefer-online", APP, cwd=consumer, check=True)
    assert "added 2 packages" in install.output, f"{install}"
    ran = clients.node('require("app-b")', cwd=consumer)
    assert ran.output.strip() == APP_OUTPUT, f"{ran}"

    lock = json.loads((consumer / "package-lock.json").read_text())
    for name in (APP, UTIL):
        entry = lock["packages"].get(f"node_modules/{name}")
        assert entry is not None, f"{name} not in package-lock.json: {lock}"
        assert entry["version"] == "1.0.0", f"{entry}"
        dist = assert_integrity_is_the_servers(server, npm_repo, name, "1.0.0", entry["integrity"],
                                               install)
        assert entry["resolved"] == dist["tarball"], f"{entry}"
        assert entry["resolved"].startswith(clients.registry(npm_repo)), f"{entry}"


def test_npm_republish_is_refused_and_a_beta_tag_leaves_latest(server, npm_clients, npm_repo):
    clients = npm_clients
    clients.write_npmrc(npm_repo, server.user_tokens["write"])
    folder = clients.make_package("pkg-b", "1.0.0")
    publish(clients, folder)
    first = dist_of(server, npm_repo, "pkg-b", "1.0.0")

    # Changed code under the same version: refused with npm's own words, nothing replaced.
    (folder / "index.js").write_text("exports.changed = true;\n")
    again = publish(clients, folder, check=False)
    assert REFUSED.format("1.0.0") in again.output, f"{again}"
    assert dist_of(server, npm_repo, "pkg-b", "1.0.0") == first, f"the tarball changed\n{again}"

    # A prerelease published under `beta`: latest stays on 1.0.0.
    manifest = json.loads((folder / "package.json").read_text())
    (folder / "package.json").write_text(json.dumps({**manifest, "version": "1.1.0-beta.1"}))
    beta = publish(clients, folder, "--tag", "beta")
    assert "+ pkg-b@1.1.0-beta.1" in beta.output and "with tag beta" in beta.output, f"{beta}"

    tags = clients.npm("dist-tag", "ls", "pkg-b", check=True)
    assert dist_tag_lines(tags) == {"beta: 1.1.0-beta.1", "latest: 1.0.0"}, f"{tags}"
    document = packument(server, npm_repo, "pkg-b")
    assert document["dist-tags"] == {"latest": "1.0.0", "beta": "1.1.0-beta.1"}, f"{document}"
    assert set(document["versions"]) == {"1.0.0", "1.1.0-beta.1"}, f"{document}"
    latest = clients.npm("view", "pkg-b", "version", "--prefer-online", check=True)
    assert printed(latest) == "1.0.0", f"{latest}"


def test_npm_dist_tags_and_deprecate(server, npm_clients, npm_repo):
    clients = npm_clients
    clients.write_npmrc(npm_repo, server.user_tokens["write"])
    for version in ("1.0.0", "2.0.0"):
        publish(clients, clients.make_package("pkg-c", version))

    added = clients.npm("dist-tag", "add", "pkg-c@1.0.0", "stable", check=True)
    assert "+stable: pkg-c@1.0.0" in added.output, f"{added}"
    tags = packument(server, npm_repo, "pkg-c")["dist-tags"]
    assert tags == {"latest": "2.0.0", "stable": "1.0.0"}, f"{tags}\n{added}"
    listed = clients.npm("dist-tag", "ls", "pkg-c", check=True)
    assert dist_tag_lines(listed) == {"latest: 2.0.0", "stable: 1.0.0"}, f"{listed}"

    removed = clients.npm("dist-tag", "rm", "pkg-c", "stable", check=True)
    assert "-stable: pkg-c@1.0.0" in removed.output, f"{removed}"
    tags = packument(server, npm_repo, "pkg-c")["dist-tags"]
    assert tags == {"latest": "2.0.0"}, f"{tags}\n{removed}"
    listed = clients.npm("dist-tag", "ls", "pkg-c", check=True)
    assert dist_tag_lines(listed) == {"latest: 2.0.0"}, f"{listed}"
    # `latest` can only be moved, and npm says why.
    refused = clients.npm("dist-tag", "rm", "pkg-c", "latest", check=False)
    assert "The 'latest' dist-tag cannot be removed" in refused.output, f"{refused}"
    tags = packument(server, npm_repo, "pkg-c")["dist-tags"]
    assert tags == {"latest": "2.0.0"}, f"{tags}\n{refused}"

    deprecated = clients.npm("deprecate", "pkg-c@1.0.0", "use 2.x please", check=True)
    assert "deprecating pkg-c@1.0.0" in deprecated.output, f"{deprecated}"
    shown = clients.npm("view", "pkg-c@1.0.0", "deprecated", "--prefer-online", check=True)
    assert printed(shown) == "use 2.x please", f"{shown}"
    versions = packument(server, npm_repo, "pkg-c")["versions"]
    assert versions["1.0.0"].get("deprecated") == "use 2.x please", f"{versions}"
    assert not versions["2.0.0"].get("deprecated"), f"{versions}"
    # An installer sees it too.
    consumer = clients.consumer()
    install = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "pkg-c@1.0.0",
                          cwd=consumer, check=True)
    assert "deprecated pkg-c@1.0.0: use 2.x please" in install.output, f"{install}"

    undeprecated = clients.npm("deprecate", "pkg-c@1.0.0", "", check=True)
    assert "undeprecating pkg-c@1.0.0" in undeprecated.output, f"{undeprecated}"
    shown = clients.npm("view", "pkg-c@1.0.0", "deprecated", "--prefer-online", check=True)
    assert printed(shown) == "", f"{shown}"
    versions = packument(server, npm_repo, "pkg-c")["versions"]
    assert not versions["1.0.0"].get("deprecated"), f"{versions}"


def test_npm_unpublish_needs_an_admin_scope_token(server, npm_clients, repo_name):
    # alice owns this repository (admin role): her admin token unpublishes, her write token may not.
    create_npm_repository(server, repo_name, "private")
    server.grant(repo_name, USER, "admin")
    clients = npm_clients
    clients.write_npmrc(repo_name, server.user_tokens["write"])
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        publish(clients, clients.make_package("pkg-d", version))
    gone = dist_of(server, repo_name, "pkg-d", "2.0.0")

    refused = clients.npm("unpublish", "pkg-d@2.0.0", check=False)
    assert "E403" in refused.output, f"{refused}"
    assert "This token's scope is write; admin access is needed" in refused.output, f"{refused}"
    refused_all = clients.npm("unpublish", "pkg-d", "--force", check=False)
    assert "E403" in refused_all.output, f"{refused_all}"
    document = packument(server, repo_name, "pkg-d")
    assert set(document["versions"]) == {"1.0.0", "1.1.0", "2.0.0"}, f"{document}"

    # The owner's token: one version goes (the latest: npm moves `latest` to the next highest).
    clients.write_npmrc(repo_name, server.user_tokens["admin"])
    one = clients.npm("unpublish", "pkg-d@2.0.0", check=True)
    assert "- pkg-d@2.0.0" in one.output, f"{one}"
    document = packument(server, repo_name, "pkg-d")
    assert set(document["versions"]) == {"1.0.0", "1.1.0"}, f"{document}"
    assert document["dist-tags"] == {"latest": "1.1.0"}, f"{document}"
    tarball = server.request("GET", gone["tarball"], token=server.admin_token)
    assert tarball.status == 404, f"{tarball!r}\n{one}"
    shown = clients.npm("view", "pkg-d", "version", "--prefer-online", check=True)
    assert printed(shown) == "1.1.0", f"{shown}"
    # The unpublished version can never come back.
    clients.write_npmrc(repo_name, server.user_tokens["write"])
    back = publish(clients, clients.make_package("pkg-d", "2.0.0"), check=False)
    assert REFUSED.format("2.0.0") in back.output, f"{back}"

    # The whole package.
    clients.write_npmrc(repo_name, server.user_tokens["admin"])
    everything = clients.npm("unpublish", "pkg-d", "--force", check=True)
    assert "- pkg-d" in everything.output, f"{everything}"
    assert packument(server, repo_name, "pkg-d") is None, f"still served after\n{everything}"
    view = clients.npm("view", "pkg-d", "--prefer-online", check=False)
    assert "E404" in view.output, f"{view}"


def test_npm_view_whoami_ping_search(server, npm_clients, npm_repo):
    clients = npm_clients
    clients.write_npmrc(npm_repo, server.user_tokens["write"])
    publish(clients, clients.make_package("pkg-e", "1.2.3", description="frobnicates widgets"))
    publish(clients, clients.make_package("other-e", "0.1.0", description="unrelated tool"))

    clients.write_npmrc(npm_repo, server.user_tokens["read"])
    view = clients.npm("view", "pkg-e", "--json", "--prefer-online", check=True)
    shown = json.loads(printed(view))
    served = packument(server, npm_repo, "pkg-e")
    assert shown["name"] == "pkg-e" and shown["version"] == "1.2.3", f"{view}"
    assert shown["description"] == "frobnicates widgets", f"{view}"
    assert shown["dist-tags"] == served["dist-tags"] == {"latest": "1.2.3"}, f"{view}"
    assert shown["dist"]["tarball"] == served["versions"]["1.2.3"]["dist"]["tarball"], f"{view}"
    assert shown["dist"]["integrity"] == served["versions"]["1.2.3"]["dist"]["integrity"], f"{view}"

    whoami = clients.npm("whoami", check=True)
    assert printed(whoami) == USER, f"{whoami}"
    ping = clients.npm("ping", check=True)
    assert "PONG" in ping.output and clients.registry(npm_repo) in ping.output, f"{ping}"

    search = clients.npm("search", "--json", "frobnicates", check=True)
    found = json.loads(printed(search))
    assert [entry["name"] for entry in found] == ["pkg-e"], f"{search}"
    assert found[0]["version"] == "1.2.3", f"{search}"
    assert found[0]["description"] == "frobnicates widgets", f"{search}"
    text = clients.npm("search", "pkg-e", check=True)
    assert "pkg-e" in text.output and "other-e" not in text.output, f"{text}"


def test_npm_login_with_username_and_password_then_logout(server, npm_clients, npm_people,
                                                           npm_repo):
    clients = npm_clients
    server.grant(npm_repo, LOGIN_USER, "write")
    clients.write_npmrc(npm_repo)  # the registry only: no token yet
    npm = [_find_client("npm"), "login"]

    # A wrong password: refused, nothing written.
    wrong = clients.run_in_tty(npm, [("Username:", LOGIN_USER), ("Password:", "not-the-password")])
    assert not wrong.ok and "E401" in wrong.output, f"{wrong}"
    assert clients.auth_key(npm_repo) not in read_npmrc(clients.npmrc), (
        f"{wrong}\n.npmrc:\n{clients.npmrc.read_text()}")

    login = clients.run_in_tty(npm, [("Username:", LOGIN_USER), ("Password:", LOGIN_PASSWORD)])
    assert login.ok, f"{login}"
    assert f"Logged in on {clients.registry(npm_repo)}" in login.output, f"{login}"
    assert LOGIN_PASSWORD not in login.output, f"the password was echoed:\n{login}"
    # npm tried its web login first; the refusal (any 4xx: 401 here, before the view's 404, as
    # the repository is private) sent it to the username/password exchange.
    web = wait_for_log(server, f"POST /repository/{npm_repo}/-/v1/login")
    assert web and all(re.search(r'" 4\d\d ', line) for line in web), "\n".join(web)
    couch = wait_for_log(server, f"PUT /repository/{npm_repo}/-/user/org.couchdb.user:{LOGIN_USER}",
                         status="201")
    assert [line for line in couch if '" 201 ' in line], "\n".join(couch)
    token = read_npmrc(clients.npmrc).get(clients.auth_key(npm_repo), "")
    assert token.startswith("reg_"), f"{login}\n.npmrc:\n{clients.npmrc.read_text()}"
    assert LOGIN_PASSWORD not in clients.npmrc.read_text(), "the password was written to .npmrc"

    whoami = clients.npm("whoami", check=True)
    assert printed(whoami) == LOGIN_USER, f"{whoami}"
    answer = server.request("GET", f"/repository/{npm_repo}/-/whoami", token=token)
    assert answer.status == 200 and answer.json() == {"username": LOGIN_USER}, f"{answer}"
    # The token has carol's rights here: she may publish.
    published = publish(clients, clients.make_package("pkg-f", "1.0.0"))
    assert "+ pkg-f@1.0.0" in published.output, f"{published}"
    publisher = packument(server, npm_repo, "pkg-f")["versions"]["1.0.0"]["_npmUser"]
    assert publisher["name"] == LOGIN_USER, f"{publisher}\n{published}"

    logout = clients.npm("logout", check=True)
    assert clients.auth_key(npm_repo) not in read_npmrc(clients.npmrc), (
        f"{logout}\n{clients.npmrc.read_text()}")
    after = clients.npm("whoami", check=False)
    assert "ENEEDAUTH" in after.output, f"{after}"
    # The server revoked the token: it is refused even when sent by hand.
    revoked = server.request("GET", f"/repository/{npm_repo}/-/whoami", token=token)
    assert revoked.status == 401, f"{revoked}"


def test_npm_against_a_private_repository(server, npm_clients, npm_people, npm_repo):
    clients = npm_clients
    clients.write_npmrc(npm_repo, server.user_tokens["write"])
    publish(clients, clients.make_package("pkg-g", "1.0.0"))

    # No token: 401.
    clients.write_npmrc(npm_repo)
    anonymous = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "pkg-g",
                            cwd=clients.consumer(), check=False)
    assert "E401" in anonymous.output, f"{anonymous}"

    # alice's read token: installed.
    clients.write_npmrc(npm_repo, server.user_tokens["read"])
    consumer = clients.consumer()
    reader = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "pkg-g",
                         cwd=consumer, check=True)
    assert "added 1 package" in reader.output, f"{reader}"
    ran = clients.node('console.log(require("pkg-g").version)', cwd=consumer)
    assert ran.output.strip() == "1.0.0", f"{ran}"
    missing = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "no-such-pkg-g",
                          cwd=clients.consumer(), check=False)
    assert "E404" in missing.output, f"{missing}"

    # A user without a role: the package is as absent as one that does not exist.
    clients.write_npmrc(npm_repo, npm_people["outsider_token"])
    outsider = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "pkg-g",
                           cwd=clients.consumer(), check=False)
    assert "E404" in outsider.output, f"{outsider}"
    nothing = clients.npm("install", "--no-fund", "--no-audit", "--prefer-online", "no-such-pkg-g",
                          cwd=clients.consumer(), check=False)
    assert "E404" in nothing.output, f"{nothing}"

    # A read-only token cannot publish: npm shows the server's reason.
    clients.write_npmrc(npm_repo, server.user_tokens["read"])
    refused = publish(clients, clients.make_package("pkg-g", "2.0.0"), check=False)
    assert "This token's scope is read; write access is needed" in refused.output, f"{refused}"
    versions = set(packument(server, npm_repo, "pkg-g")["versions"])
    assert versions == {"1.0.0"}, f"{versions}\n{refused}"


def test_npm_install_from_a_public_repository_claims_no_audit(server, npm_clients, repo_name):
    create_npm_repository(server, repo_name, "public")
    server.grant(repo_name, USER, "write")
    clients = npm_clients
    publish_app_b(server, clients, repo_name)

    # Anonymous, and a plain `npm install` with npm's audit left on.
    clients.write_npmrc(repo_name)
    consumer = clients.consumer({APP: "^1.0.0"})
    install = clients.npm("install", "--no-fund", cwd=consumer, check=True)
    assert "added 2 packages" in install.output, f"{install}"
    assert "found 0 vulnerabilities" not in install.output, f"{install}"
    assert "vulnerabilit" not in install.output, f"{install}"
    ran = clients.node('require("app-b")', cwd=consumer)
    assert ran.output.strip() == APP_OUTPUT, f"{ran}"
    # npm did ask (so the silence is the server's 404, not a disabled audit).
    asked = wait_for_log(server, f"POST /repository/{repo_name}/-/npm/v1/security/advisories/bulk")
    assert asked and all('" 404 ' in line for line in asked), "\n".join(asked)

    audit = clients.npm("audit", cwd=consumer, check=False)
    assert "no security advisory database" in audit.output, f"{audit}"
    assert "found 0 vulnerabilities" not in audit.output, f"{audit}"


# --- pnpm and yarn classic ---------------------------------------------------------------------


def test_pnpm_install_from_a_private_repository(server, node_clients, npm_repo):
    clients = node_clients
    publish_app_b(server, clients, npm_repo)
    clients.write_npmrc(npm_repo, server.user_tokens["read"])
    consumer = clients.consumer({APP: "^1.0.0"})

    # --no-frozen-lockfile: under CI=true pnpm would insist on a lockfile there is none of yet.
    install = clients.pnpm("install", "--no-frozen-lockfile", cwd=consumer, check=True)
    assert re.search(r"\+ app-b 1\.0\.0", install.output), f"{install}"
    ran = clients.node('require("app-b")', cwd=consumer)
    assert ran.output.strip() == APP_OUTPUT, f"{ran}"

    lock = (consumer / "pnpm-lock.yaml").read_text()
    for name in (APP, UTIL):
        found = re.search(
            rf"^  '?{re.escape(name)}@1\.0\.0'?:\n    resolution: {{integrity: (sha512-[^}},]+)}}",
            lock, re.MULTILINE,
        )
        assert found, f"no resolution for {name}@1.0.0 in pnpm-lock.yaml:\n{lock}"
        assert_integrity_is_the_servers(server, npm_repo, name, "1.0.0", found.group(1),
                                        f"{install}\n{lock}")


def test_yarn_classic_install_from_a_private_repository(server, node_clients, npm_repo):
    clients = node_clients
    publish_app_b(server, clients, npm_repo)
    # yarn 1 sends the token with every request to the registry only with always-auth (without
    # it, only for scoped packages: app-b would be a 401). npm 11 warns about the key; yarn
    # reads it.
    clients.write_npmrc(npm_repo, server.user_tokens["read"], extra=["always-auth=true"])
    consumer = clients.consumer({APP: "^1.0.0"})

    install = clients.yarn("install", "--non-interactive", "--no-progress", cwd=consumer,
                           check=True)
    assert "success Saved lockfile." in install.output, f"{install}"
    ran = clients.node('require("app-b")', cwd=consumer)
    assert ran.output.strip() == APP_OUTPUT, f"{ran}"

    lock = (consumer / "yarn.lock").read_text()
    for name in (APP, UTIL):
        found = re.search(
            rf'^"?{re.escape(name)}@\^1\.0\.0"?:\n  version "1\.0\.0"\n'
            r'  resolved "([^"#]+)#(\w+)"\n  integrity (sha512-\S+)$',
            lock, re.MULTILINE,
        )
        assert found, f"no entry for {name}@^1.0.0 in yarn.lock:\n{lock}"
        resolved, sha1, integrity = found.groups()
        dist = assert_integrity_is_the_servers(server, npm_repo, name, "1.0.0", integrity,
                                               f"{install}\n{lock}")
        assert resolved == dist["tarball"] and sha1 == dist["shasum"], f"{lock}"
