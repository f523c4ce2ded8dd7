"""apt-get in a private apt root, and the HTTP steps around it, for the end-to-end tests."""

import os
import subprocess
import urllib.request
from pathlib import Path

from tests.fixtures.tools import find_tool


def find_apt():
    find_tool("dpkg")
    find_tool("gpgv")
    return find_tool("apt-get")


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


def put(server, path, data, token):
    request = urllib.request.Request(server.url + path, data=data, method="PUT",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status


def get(server, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(server.url + path, headers=headers), timeout=60) as answer:
        return answer.read()


def configure(root, server, published, token, *, key=None):
    repository = published["repository"]
    keyring = root.root / "etc/apt/keyrings" / f"{repository}.asc"
    keyring.write_bytes(key if key is not None else get(server, f"/repository/{repository}/key.asc", token))
    sources = get(server, f"/repository/{repository}/{repository}.list", token).decode()
    sources = sources.replace(f"/etc/apt/keyrings/{repository}.asc", str(keyring))
    (root.root / "etc/apt/sources.list.d" / f"{repository}.list").write_text(sources)
    auth = root.root / "etc/apt/auth.conf.d" / f"{repository}.conf"
    auth.write_text(f"machine {server.url}/repository/{repository}/\nlogin __token__\npassword {token}\n")
    auth.chmod(0o600)
    return sources


