"""The live server as `make run` starts it (gunicorn with registry.gunicorn_conf, the access log
on stdout, Django's log on stderr): secrets never reach a log line while the requests still do,
and failed authentication is counted across its workers (the embedded mode's counts are files
under VAR_DIR, which every worker sees).

The throttle tests come from other loopback addresses (127.0.0.2 …) so that the session's
other tests, from 127.0.0.1, are not throttled."""

import base64
import http.client
import socket
import ssl
import time

import pytest

from .conftest import USER
from .processes import Nginx, certificate_authority

pytestmark = pytest.mark.e2e


def wait_for_log(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log_path.read_text(errors="replace")
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never reached the log:\n{server.log(60)}")


def test_secrets_stay_out_of_every_log_line(server):
    repository = "e2e-log-redaction"
    server.api("POST", "repositories/", {"name": repository, "format": "npm", "visibility": "public"},
               expect=(201,))
    # npm login and logout: the logout puts the token in the URL path.
    login = server.request("PUT", f"/repository/{repository}/-/user/org.couchdb.user:{USER}",
                           body={"name": USER, "password": f"pw-{USER}-e2e"})
    assert login.status == 201, login
    secret = login.json()["token"]
    logout = server.request("DELETE", f"/repository/{repository}/-/user/token/{secret}", token=secret)
    assert logout.status == 200, logout
    # A logout of a token that is not there: Django logs "<reason>: <path>" as a warning.
    unknown = "reg_" + "Q" * 43
    missing = server.request("DELETE", f"/repository/{repository}/-/user/token/{unknown}",
                             token=server.admin_token)
    assert missing.status == 404, missing
    # A token in the query string, credentials in a Referer and the token as the Basic user name
    # (gunicorn's access log prints the Basic user).
    marker = f"/repository/{repository}/-/ping?token={server.admin_token}"
    server.request("GET", marker, basic=(server.admin_token, ""),
                   headers={"Referer": "https://bob:hunter2@elsewhere.example/page"})

    log = wait_for_log(server, f"/repository/{repository}/-/ping?token=")
    log = wait_for_log(server, "no such token.: /repository/")
    for leaked in (secret, unknown, server.admin_token, "hunter2"):
        assert leaked not in log, f"{leaked[:16]}… is in the log:\n{server.log(30)}"
    # The requests are still there, with each token's public prefix to say which it was.
    assert f'"DELETE /repository/{repository}/-/user/token/{secret[:12]}[redacted] HTTP/1.1" 200' in log
    assert f"no such token.: /repository/{repository}/-/user/token/{unknown[:12]}[redacted]" in log
    assert f"{server.admin_token[:12]}[redacted] [" in log  # the Basic user name
    assert f"GET /repository/{repository}/-/ping?token=[redacted] HTTP/1.1" in log
    assert "https://[redacted]@elsewhere.example/page" in log


def test_nginx_logs_no_secret_either(server, tmp_path):
    """The deployment's nginx (deploy/nginx/registry.conf.template) in front of the server."""
    ca, certificate, key = certificate_authority(tmp_path / "tls")
    nginx = Nginx(tmp_path / "nginx", upstreams=[server.host], certificate=certificate, key=key,
                  s3_endpoint="http://127.0.0.1:9")
    nginx.start()
    try:
        context = ssl.create_default_context(cafile=str(ca))
        secret = server.admin_token
        connection = http.client.HTTPSConnection("127.0.0.1", nginx.https_port, context=context, timeout=30)
        basic = base64.b64encode(f"{secret}:".encode()).decode()
        for path in (f"/repository/e2e-nginx-log/-/user/token/{secret}", f"/repository/e2e-nginx-log/-/ping?token={secret}"):
            connection.request("GET", path, headers={"Authorization": f"Basic {basic}",
                                                     "Referer": "https://bob:hunter2@elsewhere.example/"})
            connection.getresponse().read()
        connection.close()
        deadline = time.monotonic() + 10
        while "/-/ping" not in nginx.access_log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = nginx.access_log()
    finally:
        nginx.stop()
    assert secret not in log and "hunter2" not in log, log
    assert f'"GET /repository/e2e-nginx-log/-/user/token/{secret[:12]}[redacted] HTTP/1.1" 401' in log, log
    assert '"GET /repository/e2e-nginx-log/-/ping HTTP/1.1"' in log, log


def request_from(server, address, path, authorization):
    """One request whose TCP connection comes from `address` (another loopback address)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                            source_address=(address, 0))
    try:
        connection.request("GET", path, headers={"Authorization": authorization})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


class HeldWorker:
    """A connection that sends half a request: the sync worker that accepts it waits for the
    rest, so the next requests go to the other worker."""

    def __init__(self, server):
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.socket.sendall(b"GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)  # until a worker has accepted it

    def release(self):
        self.socket.close()
        time.sleep(0.3)


def test_failed_tokens_are_counted_across_workers(server):
    """The live server has two workers. Half the failures go to each (the other is held by a
    half-sent request), and the one after the limit is still refused: the count is shared."""
    limit = 20  # the default THROTTLE_ADDRESS_FAILURES
    path = "/repository/e2e-throttle-missing/simple/"
    wrong = [f"Bearer reg_{n:08d}{'x' * 35}" for n in range(limit + 1)]
    first = HeldWorker(server)
    answers = [request_from(server, "127.0.0.2", path, header).status for header in wrong[:limit // 2]]
    second = HeldWorker(server)  # the worker that answered so far
    first.release()
    answers += [request_from(server, "127.0.0.2", path, header).status for header in wrong[limit // 2:limit]]
    second.release()
    assert answers == [401] * limit
    throttled = request_from(server, "127.0.0.2", path, wrong[limit])
    assert throttled.status == 429
    assert 0 < int(throttled.getheader("Retry-After")) <= 300
    assert "Too many failed authentication attempts" in throttled.reason
    # Right tokens are never refused, from that address or another; another address is not blocked.
    right = f"Bearer {server.admin_token}"
    assert request_from(server, "127.0.0.2", "/api/v1/repositories/", right).status == 200
    assert request_from(server, "127.0.0.3", "/api/v1/repositories/", right).status == 200
    assert request_from(server, "127.0.0.3", path, wrong[0]).status == 401
    basic = "Basic " + base64.b64encode(f"__token__:{server.admin_token}".encode()).decode()
    assert request_from(server, "127.0.0.2", "/api/v1/repositories/", basic).status == 200
