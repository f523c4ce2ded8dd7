"""npm, pnpm and yarn (classic) as a user runs them, sealed like the PyPI clients.

Every client run gets HOME in the test's temporary folder, a `.npmrc` written by the test there
(npm's user config, which pnpm and yarn read too), its caches and stores under that HOME, and none
of this machine's npm configuration: no NPM_CONFIG_*/npm_config_* variables, no global npmrc.
pnpm and yarn are installed once under var/test-clients/node from the npm registry this machine
uses (that install is the only thing that sees the machine's npm configuration).
"""

import base64
import hashlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path


from .conftest import ANSI, CLIENT_TIMEOUT, ROOT, Clients, Run, _find_client, fail_or_skip

NODE_CLIENTS = ROOT / "var" / "test-clients" / "node"
# The tools and the major version of each the tests are written for (yarn 1 is yarn classic).
NODE_TOOLS = {"pnpm": "9", "yarn": "1"}
TOOL_INSTALL_TIMEOUT = 300

_SPINNER = re.compile(r"[\u2800-\u28ff]")


# --- the tools ---------------------------------------------------------------------------------


def _installed_version(tool):
    manifest = NODE_CLIENTS / "node_modules" / tool / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _tools_present():
    for tool, major in NODE_TOOLS.items():
        version = _installed_version(tool)
        binary = NODE_CLIENTS / "node_modules" / ".bin" / tool
        if version is None or version.split(".")[0] != major or not binary.exists():
            return False
    return True


def install_node_tools():
    """pnpm and yarn classic under var/test-clients/node (kept between runs): {tool: path}."""
    if not _tools_present():
        npm = _find_client("npm")
        shutil.rmtree(NODE_CLIENTS, ignore_errors=True)
        NODE_CLIENTS.mkdir(parents=True)
        wanted = [f"{tool}@{major}" for tool, major in NODE_TOOLS.items()]
        # The machine's own npm configuration on purpose: it is how the npm registry is reached.
        try:
            installed = subprocess.run(
                [npm, "install", "--prefix", str(NODE_CLIENTS), "--no-save", "--no-audit",
                 "--no-fund", "--no-package-lock", *wanted],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=TOOL_INSTALL_TIMEOUT,
            )
            output, failed = installed.stdout.decode("utf-8", "replace"), installed.returncode != 0
        except subprocess.TimeoutExpired:
            output, failed = f"timed out after {TOOL_INSTALL_TIMEOUT}s", True
        if failed or not _tools_present():
            shutil.rmtree(NODE_CLIENTS, ignore_errors=True)
            fail_or_skip(f"could not install {' '.join(wanted)} with npm: {output[-2000:]}")
    return {tool: str(NODE_CLIENTS / "node_modules" / ".bin" / tool) for tool in NODE_TOOLS}


# --- the server side ---------------------------------------------------------------------------


def create_npm_repository(server, name, visibility="private"):
    """An npm repository made by the administrator through the REST API (the conftest helper
    makes PyPI ones)."""
    server.api("POST", "repositories/", {"name": name, "format": "npm", "visibility": visibility},
               expect=(201,))
    return name


def package_path(repository, name):
    """The packument's path: npm's own spelling of a scoped name (`@scope%2fname`)."""
    return f"/repository/{repository}/{urllib.parse.quote(name, safe='@')}"


def packument(server, repository, name, token=None):
    """The full packument as JSON, or None when the server answers 404."""
    response = server.request("GET", package_path(repository, name),
                              token=token or server.admin_token)
    if response.status == 404:
        return None
    assert response.status == 200, response
    return response.json()


def sri_sha512(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download(server, url, token=None):
    response = server.request("GET", url, token=token or server.admin_token)
    assert response.status == 200, f"GET {url}: {response!r}"
    return response.body


def access_log_lines(server, fragment):
    """The gunicorn access-log lines naming `fragment` (the whole log, not only its tail)."""
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if fragment in line]


# --- the clients -------------------------------------------------------------------------------


def _dropped(key):
    lowered = key.lower()
    return (lowered.startswith(("npm_config_", "yarn_", "pnpm_", "npm_package_", "npm_lifecycle_"))
            or key in ("NPM_TOKEN", "NODE_AUTH_TOKEN", "PREFIX"))


class NpmClients(Clients):
    """npm, pnpm and yarn in a sealed environment; `.npmrc` in the temporary HOME."""

    def __init__(self, server, tmp_path, tools=None):
        super().__init__(server, tmp_path)
        self.tools = tools or {}
        home = self.home
        self.npmrc = home / ".npmrc"
        self.env = {key: value for key, value in self.env.items() if not _dropped(key)}
        self.env.update({
            "npm_config_userconfig": str(self.npmrc),
            # No global npmrc of this machine (npm and pnpm); yarn looks in $PREFIX/etc/npmrc.
            "npm_config_globalconfig": str(home / "global-npmrc"),
            "PREFIX": str(home / "prefix"),
            "npm_config_cache": str(home / ".npm-cache"),
            "npm_config_update_notifier": "false",
            "YARN_CACHE_FOLDER": str(home / ".yarn-cache"),
        })
        self._folders = 0

    # configuration

    def registry(self, repository):
        return self.server.repository_url(repository)

    def auth_key(self, repository):
        """The `.npmrc` key that holds the token for a repository (the registry URL less scheme)."""
        return f"//{self.server.host}/repository/{repository}/:_authToken"

    def write_npmrc(self, repository, token=None, extra=()):
        lines = [f"registry={self.registry(repository)}"]
        if token is not None:
            lines.append(f"{self.auth_key(repository)}={token}")
        lines.extend(extra)
        self.npmrc.write_text("\n".join(lines) + "\n")
        return self.npmrc

    # running

    def npm(self, *args, cwd=None, check=None):
        return self.run([_find_client("npm"), *args], cwd=cwd, check=check)

    def pnpm(self, *args, cwd=None, check=None):
        return self.run([self.tools["pnpm"], *args], cwd=cwd, check=check)

    def yarn(self, *args, cwd=None, check=None):
        return self.run([self.tools["yarn"], *args], cwd=cwd, check=check)

    def node(self, code, cwd, check=True):
        return self.run([_find_client("node"), "-e", code], cwd=cwd, check=check)

    def run_in_tty(self, args, answers, *, cwd=None, timeout=CLIENT_TIMEOUT):
        """Run a client on a pseudo-terminal and answer its prompts: `answers` is a list of
        (prompt, reply); each reply is typed once, when its prompt has appeared. The output
        comes back without terminal escapes; the replies are not echoed for passwords."""
        master, slave = pty.openpty()
        try:
            process = subprocess.Popen(
                [str(a) for a in args], cwd=cwd or self.tmp, env=self.env, stdin=slave,
                stdout=slave, stderr=slave, close_fds=True, start_new_session=True,
            )
        finally:
            os.close(slave)
        raw = b""
        pending = list(answers)
        answered = 0
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(
                        f"$ {' '.join(map(str, args))} did not finish within {timeout}s:\n"
                        + _clean(raw)
                    )
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:  # EIO: the child closed the terminal
                        chunk = b""
                    if not chunk:
                        break
                    raw += chunk
                    text = _clean(raw)
                    # Each prompt is looked for after the previous one answered.
                    while pending and pending[0][0] in text[answered:]:
                        prompt, reply = pending.pop(0)
                        answered = text.index(prompt, answered) + len(prompt)
                        os.write(master, reply.encode() + b"\n")
                elif process.poll() is not None:
                    break
            returncode = process.wait(timeout=30)
        finally:
            os.close(master)
            if process.poll() is None:
                process.kill()
                process.wait()
        return Run(list(args), returncode, _clean(raw))

    # places

    def folder(self, name):
        self._folders += 1
        path = self.tmp / f"{self._folders:02d}-{name.replace('/', '-').lstrip('@')}"
        path.mkdir()
        return path

    def make_package(self, name, version, *, dependencies=None, source=None, description=None,
                     readme=None):
        """A package folder as a developer has it: package.json, index.js, README.md."""
        folder = self.folder(f"{name}-{version}")
        manifest = {
            "name": name,
            "version": version,
            "description": description or f"{name} for the end-to-end tests",
            "main": "index.js",
            "license": "MIT",
        }
        if dependencies:
            manifest["dependencies"] = dependencies
        (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (folder / "index.js").write_text(
            source or f"exports.version = {json.dumps(version)};\n"
        )
        (folder / "README.md").write_text(readme or f"# {name}\n\nVersion {version}.\n")
        return folder

    def consumer(self, dependencies=None):
        """A fresh project folder that installs packages."""
        folder = self.folder("consumer")
        manifest = {"name": "e2e-consumer", "version": "0.0.0", "private": True}
        if dependencies:
            manifest["dependencies"] = dependencies
        (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return folder


def _clean(raw):
    text = raw.decode("utf-8", "replace")
    return _SPINNER.sub("", ANSI.sub("", text)).replace("\r", "")


def read_npmrc(path):
    """The key=value lines of an .npmrc."""
    values = {}
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith((";", "#")):
                values[key.strip()] = value.strip()
    return values
