"""The JavaScript clients of the matrix (client_matrix.py), each version against one private npm
repository of the live server, configured with the snippets of docs/clients.md.

One repository and one set of packages serve the whole module: acme-app 1.0.0 needs @acme/util
(scoped) and acme-legacy, whose only version is deprecated. alice installs with her read token
and publishes with her write token; each client publishes a package of its own.
"""

import json
import re
import shutil

import pytest

from .client_installs import installed
from .client_matrix import rows
from .conftest import USER
from .docs_snippets import TOKEN_VARIABLE, snippet
from .npm_clients import NpmClients, create_npm_repository, download, packument, sri_sha512

pytestmark = pytest.mark.e2e

REPOSITORY = "matrix-npm"
DEPRECATION = "acme-legacy is unmaintained"
APP_OUTPUT = "acme-app 1.0.0 on @acme/util 1.0.0"


# --- the shared repository ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    """The repository and its packages, published once with this machine's npm."""
    create_npm_repository(server, REPOSITORY, "private")
    server.grant(REPOSITORY, USER, "write")
    clients = NpmClients(server, tmp_path_factory.mktemp("matrix-npm-publisher"))
    clients.write_npmrc(REPOSITORY, server.user_tokens["write"])
    packages = [
        clients.make_package("@acme/util", "1.0.0",
                             source='exports.version = "@acme/util 1.0.0";\n'),
        clients.make_package("acme-legacy", "1.0.0"),
        clients.make_package("acme-app", "1.0.0",
                             dependencies={"@acme/util": "^1.0.0", "acme-legacy": "^1.0.0"},
                             source='exports.run = () => "acme-app 1.0.0 on " + '
                                    'require("@acme/util").version;\n'),
    ]
    for folder in packages:
        clients.npm("publish", cwd=folder, check=True)
    clients.npm("deprecate", "acme-legacy@1.0.0", DEPRECATION, check=True)


# --- running a client of the matrix ------------------------------------------------------------


def use(server, clients, client, token):
    """The matrix's client first on PATH under its own name, REGISTRY_TOKEN set, and its
    configuration from docs/clients.md in the test's HOME."""
    bin_folder = client.wrapper(clients.tmp / "bin")
    assert shutil.which(client.name, path=f"{bin_folder}:{clients.env['PATH']}") == str(
        bin_folder / client.name)
    clients.env.update({
        "PATH": f"{bin_folder}:{clients.env['PATH']}",
        TOKEN_VARIABLE: token,
        "YARN_ENABLE_TELEMETRY": "0",
    })
    configure(server, clients, client)
    return client


def configure(server, clients, client, with_token=True):
    """The client's configuration file from docs/clients.md (without its token lines when
    `with_token` is false)."""
    if client.row.client == "yarn-berry":
        name, path = "yarnrc", clients.home / ".yarnrc.yml"
    else:
        name = "npmrc-yarn-classic" if client.row.client == "yarn" else "npmrc"
        path = clients.npmrc
    config = snippet(name, server, REPOSITORY)
    if not with_token:
        config = "".join(line for line in config.splitlines(keepends=True)
                         if TOKEN_VARIABLE not in line and "AlwaysAuth" not in line)
    if client.row.client == "yarn-berry":
        # Plain http on the test server (docs/clients.md says so).
        config += f'unsafeHttpWhitelist:\n  - "{server.host.split(":")[0]}"\n'
    path.write_text(config)


def run_snippet(clients, name, cwd, check=True):
    script = snippet(name, clients.server, REPOSITORY)
    return clients.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, check=check)


def served_dist(server, name, version):
    document = packument(server, REPOSITORY, name)
    assert document is not None and version in document["versions"], document
    dist = document["versions"][version]["dist"]
    assert dist["integrity"] == sri_sha512(download(server, dist["tarball"])), dist
    return dist


def locked_integrities(client, folder):
    """{name: integrity} the client's lockfile recorded for the shared packages (yarn 4 records
    a checksum of its own cache archive instead: {name: resolution})."""
    names = ("acme-app", "@acme/util", "acme-legacy")
    if client == "npm":
        lock = json.loads((folder / "package-lock.json").read_text())
        return {name: lock["packages"][f"node_modules/{name}"]["integrity"] for name in names}
    text = (folder / {"pnpm": "pnpm-lock.yaml", "yarn": "yarn.lock",
                      "yarn-berry": "yarn.lock"}[client]).read_text()
    found = {}
    for name in names:
        quoted = re.escape(name)
        pattern = {
            # lockfile v6 (pnpm 8) names packages "/name@version", v9 "name@version".
            "pnpm": rf"^  '?/?{quoted}@1\.0\.0'?:\n    resolution: {{integrity: (sha512-[^}},]+)}}",
            "yarn": rf'^"?{quoted}@\^?1\.0\.0"?:\n  version "1\.0\.0"\n  resolved "[^"]+"\n'
                    r"  integrity (sha512-\S+)$",
            "yarn-berry": rf'^"{quoted}@npm:\^?1\.0\.0":\n  version: 1\.0\.0\n'
                          rf'  resolution: "({quoted}@npm:1\.0\.0)"',
        }[client]
        match = re.search(pattern, text, re.MULTILINE)
        assert match, f"no entry for {name}@1.0.0 in the lockfile:\n{text}"
        found[name] = match.group(1)
    return found


INSTALL = {"npm": "npm-install", "pnpm": "pnpm-install", "yarn": "yarn-classic-install",
           "yarn-berry": "yarn-berry-install"}
PUBLISH = {"npm": "npm-publish", "pnpm": "pnpm-publish", "yarn": "yarn-classic-publish",
           "yarn-berry": "yarn-berry-publish"}
# What each prints when the registry answers 401 (yarn 1 reports it as a missing package).
REFUSED = {"npm": r"E401", "pnpm": r"ERR_PNPM_FETCH_401|401 Authentication required",
           "yarn": r"Couldn't find package \"acme-app\"",
           "yarn-berry": r"YN0041: Invalid authentication"}
# What installing a package with a deprecated dependency prints (yarn 4 prints nothing).
DEPRECATED = re.compile(r"deprecated.*acme-legacy@1\.0\.0|acme-legacy@1\.0\.0.*deprecated|"
                        + re.escape(f"acme-legacy@1.0.0: {DEPRECATION}"), re.IGNORECASE)


@pytest.mark.parametrize("row", rows("npm", "pnpm", "yarn", "yarn-berry"), ids=str)
def test_node_client(server, tmp_path, published, row):
    clients = NpmClients(server, tmp_path)
    client = use(server, clients, installed(row), server.user_tokens["read"])
    kind = row.client

    # No token first (before anything is cached: pnpm would fall back on its metadata cache):
    # refused, and the client says so. (Not a wrong token: the server throttles those, and this
    # machine is every test's client address.)
    configure(server, clients, client, with_token=False)
    other = clients.consumer()
    if kind == "yarn-berry":
        (other / "yarn.lock").touch()
    refused = run_snippet(clients, INSTALL[kind], cwd=other, check=False)
    assert not refused.ok and re.search(REFUSED[kind], refused.output), refused
    configure(server, clients, client)

    # Install acme-app and its dependencies with the read token; run it.
    consumer = clients.consumer()
    if kind == "yarn-berry":
        (consumer / "yarn.lock").touch()  # the project's root, for yarn 4
    install = run_snippet(clients, INSTALL[kind], cwd=consumer)
    runner = ["yarn", "node"] if kind == "yarn-berry" else ["node"]
    ran = clients.run([*runner, "-e", 'console.log(require("acme-app").run())'], cwd=consumer,
                      check=True)
    assert ran.output.strip().splitlines()[-1] == APP_OUTPUT, ran
    recorded = locked_integrities(kind, consumer)
    for name, value in recorded.items():
        dist = served_dist(server, name, "1.0.0")
        if kind != "yarn-berry":
            assert value == dist["integrity"], (name, value, dist)
    if kind == "yarn-berry":
        assert not DEPRECATED.search(install.output), install
    else:
        assert DEPRECATED.search(install.output), install

    # Publish a package of its own with the write token.
    clients.env[TOKEN_VARIABLE] = server.user_tokens["write"]
    name = f"acme-{row.id}".replace(".", "-")
    folder = clients.make_package(name, "1.0.0")
    if kind == "yarn-berry":
        # yarn 4 publishes from a project with a lockfile (under CI it would refuse to write one).
        clients.run(["yarn", "install", "--no-immutable"], cwd=folder, check=True)
    run_snippet(clients, PUBLISH[kind], cwd=folder)
    document = packument(server, REPOSITORY, name)
    assert document is not None and document["dist-tags"] == {"latest": "1.0.0"}, document
    assert document["versions"]["1.0.0"]["_npmUser"]["name"] == USER, document
    served_dist(server, name, "1.0.0")
