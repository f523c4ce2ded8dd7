"""dnf in a private configuration and installroot, for the end-to-end tests: its own repos
folder, cache, keyring and rpm database; nothing of the machine's own dnf or rpm is read."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.fixtures.tools import find_tool


def find_dnf():
    find_tool("rpm")
    find_tool("rpmbuild")
    return find_tool("dnf")


class DnfRoot:
    """A dnf.conf and installroot in a temporary folder; `run()` calls dnf with them."""

    def __init__(self, root):
        self.root = Path(root)
        self.installroot = self.root / "installroot"
        self.repos = self.root / "repos"
        for folder in (self.installroot, self.repos, self.root / "cache", self.root / "log",
                       self.root / "persist", self.root / "downloads"):
            folder.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "dnf.conf"
        self.config.write_text(f"""[main]
cachedir={self.root}/cache
logdir={self.root}/log
persistdir={self.root}/persist
reposdir={self.repos}
plugins=0
install_weak_deps=0
keepcache=0
metadata_expire=0
retries=1
timeout=30
skip_if_unavailable=0
""")

    def add_repo(self, name, text):
        (self.repos / f"{name}.repo").write_text(text)

    def run(self, *args, check=None):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update({"LC_ALL": "C.UTF-8", "HOME": str(self.root), "NO_PROXY": "127.0.0.1,localhost"})
        command = [find_dnf(), "-y", "--config", str(self.config), "--installroot", str(self.installroot),
                   "--setopt", f"reposdir={self.repos}", "--releasever", "1", "--noplugins", *args]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=self.root)
        output = result.stdout + result.stderr
        if check is True:
            assert result.returncode == 0, output
        if check is False:
            assert result.returncode != 0, output
        return result.returncode, output

    def downloaded(self, filename):
        return self.root / "downloads" / filename

    def close(self):
        """Stop the gpg-agents librepo started for its repository keyrings (it leaves them
        running after dnf exits)."""
        gpgconf = shutil.which("gpgconf")
        if gpgconf is None:
            return
        for keyring in self.root.rglob("pubring"):
            if keyring.is_dir():
                subprocess.run([gpgconf, "--homedir", str(keyring), "--kill", "gpg-agent"],
                               capture_output=True, timeout=30)
