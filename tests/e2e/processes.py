"""The processes of a deployment, started by the end-to-end tests: Celery workers, nginx with
TLS from deploy/nginx/registry.conf.template, and a throwaway certificate authority."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from string import Template

from .conftest import BIN, ROOT, _answers, _free_port, fail_or_skip

NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "registry.conf.template"


class Worker:
    """`celery -A registry worker` with the given environment."""

    def __init__(self, env, log_path, *, queues=None):
        self.env, self.log_path, self.queues = env, log_path, queues
        self.process = None

    def start(self):
        self._log = open(self.log_path, "ab")
        command = [str(BIN / "celery"), "-A", "registry", "worker", "--pool", "solo", "--loglevel", "INFO",
                   "--without-heartbeat", "--without-mingle", "--without-gossip"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def kill(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]


def certificate_authority(folder):
    """A CA and a server certificate for 127.0.0.1 and localhost signed by it, made with openssl:
    (ca.pem, server.pem, server.key)."""
    openssl = shutil.which("openssl") or fail_or_skip("openssl is not installed")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, request, cert = (folder / name for name in
                                      ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    extensions = folder / "server.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n"
                          "basicConstraints = CA:FALSE\n")

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=Registry test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request),
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(extensions))
    return ca, cert, key


class Nginx:
    """nginx with the deployment's site template, rendered for local upstreams."""

    def __init__(self, folder, *, upstreams, certificate, key, s3_endpoint, max_body="1100m"):
        self.binary = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx") \
            or fail_or_skip("nginx is not installed (apt-get install nginx)")
        self.folder = Path(folder)
        self.https_port, self.http_port = _free_port(), _free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        for name in ("logs", "temp/body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        site = Template(NGINX_TEMPLATE.read_text()).safe_substitute({
            "REGISTRY_UPSTREAM_SERVERS": " ".join(f"server {host};" for host in upstreams),
            "NGINX_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "NGINX_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "NGINX_HTTPS_PORT": str(self.https_port),
            "NGINX_SERVER_NAME": "127.0.0.1 localhost",
            "NGINX_TLS_CERTIFICATE": str(certificate),
            "NGINX_TLS_KEY": str(key),
            "NGINX_MAX_BODY_SIZE": max_body,
            "S3_INTERNAL_ENDPOINT": s3_endpoint,
            "NGINX_ACCESS_LOG": str(self.folder / "logs" / "access.log"),
        })
        (self.folder / "registry.conf").write_text(site)
        temp = self.folder / "temp"
        # As root, nginx's workers would drop to nobody, who cannot enter pytest's folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.config = self.folder / "nginx.conf"
        self.config.write_text(f"""{user}worker_processes 2;
pid {self.folder}/nginx.pid;
error_log {self.folder}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {self.folder}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.folder}/registry.conf;
}}
""")
        self.process = None

    def start(self):
        check = subprocess.run([self.binary, "-t", "-c", str(self.config), "-p", str(self.folder)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen([self.binary, "-c", str(self.config), "-p", str(self.folder),
                                         "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not _answers(self.https_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start:\n" + self.error_log())
            time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def error_log(self):
        path = self.folder / "logs" / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def access_log(self):
        path = self.folder / "logs" / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""
