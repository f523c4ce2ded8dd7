"""The matrix's clients, each installed once into a folder of its own under var/test-clients/matrix/
and kept between runs; the machine's own clients are never changed.

Python clients come from the package index this machine uses, installed by the test virtualenv's
own (newest) pip: pip itself with `--target` (a test runs it with the Python of a fresh venv, so
it installs there), the others into a venv each. npm, pnpm and yarn come from the npm registry
through the machine's npm (`npm install --prefix`). A NEWEST install is replaced after a week,
so "newest" follows the releases without a download on every run.
"""

import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .client_matrix import NEWEST, NODE_CLIENTS, ClientVersion
from .conftest import BIN, ROOT, _find_client, fail_or_skip

MATRIX_CLIENTS = ROOT / "var" / "test-clients" / "matrix"
NEWEST_KEPT_SECONDS = 7 * 24 * 3600
INSTALL_TIMEOUT = 300
MARKER = "installed.json"


@dataclass(frozen=True)
class Installed:
    row: ClientVersion
    folder: Path
    version: str  # the exact release installed

    def command(self, python=None):
        """The argv that runs the client. pip needs the `python` of the environment it is to
        install into (a fresh venv of the test)."""
        if self.row.client == "pip":
            return [str(python), str(self.folder / "pip")]
        if self.row.client == "uv":
            return [str(self.folder / "bin" / "uv")]
        if self.row.client in NODE_CLIENTS:
            return _node_command(self.folder, _package(self.row), self.name)
        return [str(self.folder / "bin" / "python"), "-m", self.row.client]

    @property
    def name(self):
        """The command's name, as users type it."""
        return "yarn" if self.row.client == "yarn-berry" else self.row.client

    def wrapper(self, folder, name=None, python=None):
        """A script `folder/<name>` running this client, for a PATH that documentation snippets
        run with (`pip install …` then means this pip). Returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = name or self.name
        argv = shlex.join(self.command(python))
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        script.chmod(0o755)
        return folder


def _node_command(prefix, package, name):
    linked = prefix / "node_modules" / ".bin" / name
    if linked.exists():
        return [str(linked)]
    manifest = json.loads((prefix / "node_modules" / package / "package.json").read_text())
    entry = manifest["bin"][name] if isinstance(manifest["bin"], dict) else manifest["bin"]
    return [_find_client("node"), str(prefix / "node_modules" / package / entry)]


# --- installing ------------------------------------------------------------------------------


def installed(row):
    """The client of a matrix row, installed under var/test-clients/matrix/ (once; concurrent
    test runs wait for each other's install). Missing tools skip, or fail under CI=true."""
    ecosystem = "node" if row.client in NODE_CLIENTS else "python"
    folder = MATRIX_CLIENTS / ecosystem / row.id
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{row.id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        version = _current(row, folder)
        if version is None:
            shutil.rmtree(folder, ignore_errors=True)
            output, ok = (_install_node if ecosystem == "node" else _install_python)(row, folder)
            version = _found_version(row, folder) if ok else None
            if version is None or not _matches(row, version):
                shutil.rmtree(folder, ignore_errors=True)
                fail_or_skip(f"could not install {row} (found {version}): {output[-3000:]}")
            (folder / MARKER).write_text(json.dumps({"version": version, "at": time.time()}))
    return Installed(row, folder, version)


def _current(row, folder):
    """The version already installed in `folder` if it is still the one to use."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if row.version == NEWEST and time.time() - marker.get("at", 0) > NEWEST_KEPT_SECONDS:
        return None
    version = _found_version(row, folder)
    return version if version == marker.get("version") and _matches(row, version) else None


def _matches(row, version):
    return row.version == NEWEST or version == row.version or version.startswith(row.version + ".")


def _run(args, **kwargs):
    """An install command with the machine's own package configuration (how the registries
    are reached); (output, ok)."""
    try:
        done = subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, **kwargs)
    except subprocess.TimeoutExpired:
        return f"$ {' '.join(map(str, args))}: timed out after {INSTALL_TIMEOUT}s", False
    return done.stdout.decode("utf-8", "replace"), done.returncode == 0


def _package(row):
    return row.package or row.client


def _python_requirement(row):
    return _package(row) if row.version == NEWEST else f"{_package(row)}=={row.version}"


def _install_python(row, folder):
    pip = [str(BIN / "python"), "-m", "pip"]
    install = ["install", "--quiet", "--disable-pip-version-check", _python_requirement(row), *row.pins]
    if row.client == "pip":
        return _run([*pip, *install, "--target", folder])
    output, ok = _run([sys.executable, "-m", "venv", "--without-pip", folder])
    if ok:
        more, ok = _run([*pip, "--python", folder / "bin" / "python", *install])
        output += more
    return output, ok


def _install_node(row, folder):
    folder.mkdir(parents=True)
    package = _package(row)
    # `*` rather than the latest tag: npm then picks the newest release whose engines accept
    # this Node.js (the latest npm may need a newer Node than the machine has).
    spec = "*" if row.version == NEWEST else row.version
    return _run([_find_client("npm"), "install", "--prefix", folder, "--no-save", "--no-audit",
                 "--no-fund", "--no-package-lock", f"{package}@{spec}"])


def _found_version(row, folder):
    if row.client in NODE_CLIENTS:
        package = _package(row)
        try:
            manifest = folder / "node_modules" / package / "package.json"
            return json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None
    if row.client == "pip":
        found = [p.name for p in folder.glob("pip-*.dist-info")]
        match = re.fullmatch(r"pip-(.+)\.dist-info", found[0]) if len(found) == 1 else None
        return match.group(1) if match else None
    python = folder / "bin" / "python"
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({row.client!r}))"
    output, ok = _run([python, "-c", code],
                      env={**os.environ, "PYTHONNOUSERSITE": "1"})
    return output.strip() if ok else None
