"""End-to-end fixtures: one live server for the session, real clients in a sealed environment.

The server is what `make run` starts: gunicorn over registry.wsgi, in a subprocess with its own
VAR_DIR (SQLite database, blobs, secret key). When the tests run with DATABASE_URL pointing at
PostgreSQL, the server gets a fresh database of its own on that server instead, dropped at the end.
Users, tokens and repositories are made the way a person would: manage.py commands and the REST API.

Clients (pip, twine, uv) run with a scrubbed environment: no pip/uv configuration of this machine,
no caches shared between tests, HOME in a temporary folder, installs into throwaway venvs.
"""

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The virtualenv running the tests: gunicorn, twine, uv and pip come from it.
BIN = Path(sys.executable).parent
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SERVER_START_TIMEOUT = 60
CLIENT_TIMEOUT = 180

ADMIN = "e2e-admin"
ADMIN_PASSWORD = "e2e-admin-password-0"
USER = "alice"

# Server settings that must come from this fixture only, never from the caller's environment.
SERVER_SETTINGS = (
    "DATABASE_URL", "VAR_DIR", "BLOB_ROOT", "CACHE_URL", "STORAGE_BACKEND", "SERVE_MODE",
    "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
    "MAX_UPLOAD_SIZE", "DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR", "METRICS_TOKEN",
)


# --- the live server -------------------------------------------------------------------------


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PostgresDatabase:
    """A fresh database on the PostgreSQL server named by the tests' DATABASE_URL."""

    def __init__(self, url):
        self.name = f"registry_e2e_{uuid.uuid4().hex[:12]}"
        parts = urllib.parse.urlsplit(url)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        # CREATE/DROP DATABASE run from the maintenance database (the one in DATABASE_URL may
        # not exist yet: pytest-django creates only test_<name>).
        self.candidates = [urllib.parse.urlunsplit(parts._replace(path="/postgres")), url]

    def _execute(self, sql):
        import psycopg

        errors = []
        for url in self.candidates:
            try:
                connection = psycopg.connect(url, autocommit=True)
            except psycopg.OperationalError as exc:
                errors.append(f"{url}: {exc}")
                continue
            with connection:
                connection.execute(sql)
            return
        raise RuntimeError("Cannot reach PostgreSQL to run " + sql + ":\n" + "\n".join(errors))

    def create(self):
        self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        # WITH (FORCE): a worker killed mid-request may leave a connection behind.
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def count_users(self):
        import psycopg

        with psycopg.connect(self.url) as connection:
            return connection.execute("SELECT count(*) FROM auth_user").fetchone()[0]


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason}: {self.text[:500]!r}>"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class LiveServer:
    def __init__(self, base_dir, env, database=None):
        self.base_dir = base_dir
        self.env = env
        self.database = database
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.log_path = base_dir / "gunicorn.log"
        self.process = None
        self.admin_token = None
        self.user_tokens = {}

    # processes

    def manage(self, *args, check=True, extra_env=None):
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT, env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def manage_concurrently(self, *commands):
        """Several manage.py commands at once (each is mostly Django's start-up time)."""
        with ThreadPoolExecutor(len(commands)) as pool:
            futures = [pool.submit(self.manage, *args, **kwargs) for args, kwargs in commands]
            return [future.result() for future in futures]

    def spawn(self):
        """Migrate and collect the static files (as `make run` does), then start gunicorn;
        `wait_until_ready` waits for it to answer."""
        self.manage_concurrently((["migrate", "--noinput", "-v", "0"], {}),
                                 (["collectstatic", "--noinput", "-v", "0"], {}))
        command = [
            str(BIN / "gunicorn"), "registry.wsgi:application", "--config", "python:registry.gunicorn_conf",
            "--bind", self.host, "--workers", "2", "--timeout", "120",
            "--access-logfile", "-", "--error-logfile", "-", "--no-control-socket",
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_until_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode} before answering:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not answer on {self.url} within {SERVER_START_TIMEOUT}s:\n"
                    f"{self.log()}"
                )
            time.sleep(0.1)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            self._log.close()

    def log(self, tail=200):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no gunicorn log)"
        return "\n".join(lines[-tail:])

    # HTTP

    def request(self, method, path, *, body=None, token=None, basic=None, headers=None):
        """One request; returns a Response whatever the status (redirects are not followed)."""
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if basic is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
        url = path if path.startswith("http") else self.url + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=60) as answer:
                return Response(answer.status, answer.reason, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.reason, error.headers, error.read())

    def api(self, method, path, body=None, *, token=None, expect=(200, 201, 204)):
        response = self.request(method, "/api/v1/" + path.lstrip("/"), body=body,
                                token=token or self.admin_token)
        if expect and response.status not in expect:
            raise AssertionError(f"{method} /api/v1/{path}: {response!r}")
        return response

    # people and repositories, the way an administrator makes them

    @staticmethod
    def token_command(user, name, scope, repositories=()):
        args = ["create_token", user, "--name", name, "--scope", scope]
        for repository in repositories:
            args += ["--repository", repository]
        return args

    def create_token(self, user, name, scope, repositories=()):
        """`manage.py create_token`: the secret is the last line of its output."""
        result = self.manage(*self.token_command(user, name, scope, repositories))
        return result.stdout.strip().splitlines()[-1]

    @staticmethod
    def user_command(username):
        return ["shell", "-c", (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({username!r}, {username + '@example.com'!r}, "
            f"{'pw-' + username + '-e2e'!r})"
        )]

    def api_token(self, owner_token, name, scope):
        """A token made through the REST API by its owner (POST /api/v1/tokens/)."""
        response = self.api("POST", "tokens/", {"name": name, "scope": scope}, token=owner_token,
                            expect=(201,))
        return response.json()["token"]

    def create_repository(self, name, visibility="private"):
        self.api("POST", "repositories/", {"name": name, "format": "pypi", "visibility": visibility},
                 expect=(201,))

    def grant(self, repository, user, role):
        self.api("POST", f"repositories/{repository}/roles/", {"user": user, "role": role},
                 expect=(201,))

    def version_id(self, repository, package, version):
        query = urllib.parse.urlencode({"repository": repository, "package": package,
                                        "version": version})
        results = self.api("GET", f"versions/?{query}").json()["results"]
        assert len(results) == 1, results
        return results[0]["id"]

    # the PyPI endpoints

    def repository_url(self, repository):
        return f"{self.url}/repository/{repository}/"

    def index_url(self, repository, token=None, username="__token__"):
        if token is None:
            return f"{self.url}/repository/{repository}/simple/"
        credentials = f"{urllib.parse.quote(username, safe='')}:{urllib.parse.quote(token, safe='')}"
        return f"http://{credentials}@{self.host}/repository/{repository}/simple/"

    def simple_page(self, repository, project, *, token=None, accept=SIMPLE_JSON):
        return self.request("GET", f"/repository/{repository}/simple/{project}/",
                            token=token or self.admin_token, headers={"Accept": accept})

    def simple_json(self, repository, project, token=None):
        response = self.simple_page(repository, project, token=token)
        assert response.status == 200, response
        return response.json()

    def filenames(self, repository, project):
        """The files the index lists for a project ({} when the project does not exist)."""
        response = self.simple_page(repository, project)
        if response.status == 404:
            return {}
        assert response.status == 200, response
        return {f["filename"]: f for f in response.json()["files"]}


def _server_environment(var_dir):
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    env.update({
        "VAR_DIR": str(var_dir),
        # As `make run`: the workers' metrics added up at /-/metrics.
        "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    })
    return env


def own_database(env):
    """When the tests run on PostgreSQL, a fresh database there for a live server (set into
    `env`); None on SQLite, where the server keeps its own file under VAR_DIR."""
    caller_database = os.environ.get("DATABASE_URL", "")
    if not caller_database.startswith(("postgres://", "postgresql://")):
        return None
    database = PostgresDatabase(caller_database)
    database.create()
    env["DATABASE_URL"] = database.url
    return database


@contextlib.contextmanager
def second_registry(tmp_path_factory, label):
    """Another instance of this registry (gunicorn with its own var/ and, on PostgreSQL, its own
    database), with the administrator and an admin token: the upstream proxy tests point at."""
    base_dir = tmp_path_factory.mktemp(label)
    env = _server_environment(base_dir / "var")
    database = own_database(env)
    live = LiveServer(base_dir, env, database)
    try:
        live.spawn()
        live.manage("createsuperuser", "--noinput", extra_env={
            "DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com"})
        live.admin_token = live.create_token(ADMIN, "upstream-admin", "admin")
        live.wait_until_ready()
        yield live
    finally:
        live.stop()
        if database is not None:
            database.drop()


def create_proxies(server, format_name, names, urls, **upstream):
    """Proxy repositories on the live server, {visibility: name} of {visibility: upstream URL},
    with `upstream` settings besides the URL; alice may read the private one."""
    for visibility, name in names.items():
        server.api("POST", "repositories/", {
            "name": name, "format": format_name, "kind": "proxy", "visibility": visibility,
            "upstream": {"url": urls[visibility], **upstream},
        }, expect=(201,))
    server.grant(names["private"], USER, "read")
    return names


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The live registry: gunicorn with 2 workers, a superuser with an admin token, and a user
    `alice` with a write and a read token (her rights come from roles on each repository)."""
    base_dir = tmp_path_factory.mktemp("e2e-server")
    env = _server_environment(base_dir / "var")
    database = own_database(env)
    live = LiveServer(base_dir, env, database)
    try:
        live.spawn()
        # While gunicorn's workers start: the administrator and alice, then a token for each.
        live.manage_concurrently(
            (["createsuperuser", "--noinput"], {"extra_env": {
                "DJANGO_SUPERUSER_USERNAME": ADMIN,
                "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
                "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
            }}),
            (LiveServer.user_command(USER), {}),
        )
        admin, alice = live.manage_concurrently(
            (LiveServer.token_command(ADMIN, "e2e-admin", "admin"), {}),
            (LiveServer.token_command(USER, "e2e-alice", "admin"), {}),
        )
        live.admin_token = admin.stdout.strip().splitlines()[-1]
        alice_admin = alice.stdout.strip().splitlines()[-1]
        live.wait_until_ready()
        # The server really uses the database meant for it.
        if database is not None:
            assert database.count_users() == 2
        else:
            assert (base_dir / "var" / "registry.sqlite3").exists()
        # alice's everyday tokens, made with her own through the API. Her rights on a
        # repository come from the role she is given there; a token only caps them.
        live.user_tokens = {
            "admin": alice_admin,
            "write": live.api_token(alice_admin, "e2e-write", "write"),
            "read": live.api_token(alice_admin, "e2e-read", "read"),
        }
        yield live
    finally:
        live.stop()
        if database is not None:
            database.drop()


@pytest.fixture(autouse=True)
def _no_failed_logins_of_earlier_tests(request):
    """Each test starts with no failed authentication counted at the shared server, as it starts
    with repositories of its own: every client here comes from 127.0.0.1, so the refusals that
    earlier tests provoke on purpose would otherwise add up to the throttle's limit and answer
    later tests 429. The production limits themselves are exercised, from addresses of their
    own, in test_logs_and_throttling_live.py."""
    if "server" in request.fixturenames:
        live = request.getfixturevalue("server")
        shutil.rmtree(Path(live.env["VAR_DIR"]) / "throttle", ignore_errors=True)
    yield


# --- repositories per test -------------------------------------------------------------------


@pytest.fixture
def repo_name(request):
    """A repository name of this test's own (letters, digits and dashes from the test name)."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return f"e2e-{name}"[:90].rstrip("-")


@pytest.fixture
def private_repo(server, repo_name):
    """A private repository where alice may write."""
    server.create_repository(repo_name, "private")
    server.grant(repo_name, USER, "write")
    return repo_name


# --- clients ---------------------------------------------------------------------------------


# Colour codes some clients print even when told not to.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def fail_or_skip(message):
    """A client that is missing: skipped locally, a failure under CI=true."""
    if in_ci():
        pytest.fail(message + "; CI=true needs every client", pytrace=False)
    pytest.skip(message)


def _find_client(name):
    candidate = BIN / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    fail_or_skip(f"{name} is not installed (looked in {BIN} and on PATH)")


_DROPPED = ("NETRC", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "KEYRING_PROPERTY_BACKEND")
_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def client_environment(home):
    """The environment a client runs in: only our server, no configuration of this machine."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "TWINE_"))
        and key not in _DROPPED
        and key.lower() not in _PROXIES
    }
    cache = home / ".cache"
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(cache),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_CACHE_DIR": str(cache / "pip"),
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(cache / "uv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "NO_PROXY": "127.0.0.1,localhost",
        "NO_COLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


@dataclass
class Run:
    args: list
    returncode: int
    output: str

    @property
    def ok(self):
        return self.returncode == 0

    def __str__(self):
        return f"$ {' '.join(map(str, self.args))}\n(exit {self.returncode})\n{self.output}"


class Clients:
    """pip, twine and uv as a user runs them, in a sealed environment (HOME is a temp folder)."""

    def __init__(self, server, tmp_path):
        self.server = server
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.env = client_environment(self.home)
        self._venvs = 0

    def run(self, args, *, check=None, cwd=None):
        """Run a client; `check=True` asserts success, `False` asserts failure. Output is stdout
        and stderr together, and goes into the assertion message along with the server log."""
        completed = subprocess.run(
            [str(a) for a in args], cwd=cwd or self.tmp, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=CLIENT_TIMEOUT,
        )
        result = Run(list(args), completed.returncode, completed.stdout.decode("utf-8", "replace"))
        if check is True:
            assert result.ok, f"{result}\n--- server log ---\n{self.server.log(40)}"
        elif check is False:
            assert not result.ok, f"expected a failure:\n{result}"
        return result

    # tools

    def pip(self, *args, python=None, check=None):
        pip = _find_client("pip")
        target = ["--python", str(python)] if python else []
        return self.run([pip, *target, *args, "--no-cache-dir", "--no-input",
                         "--keyring-provider", "disabled", "--disable-pip-version-check"],
                        check=check)

    def twine_upload(self, repository, *files, token, extra=(), check=None, twine=None):
        twine = twine or _find_client("twine")
        return self.run([
            twine, "upload", "--non-interactive", "--disable-progress-bar",
            "--repository-url", self.server.repository_url(repository),
            "--username", "__token__", "--password", token, *extra, *files,
        ], check=check)

    def uv(self, *args, check=None):
        return self.run([_find_client("uv"), *args], check=check)

    # places

    def venv(self):
        """A fresh virtualenv (without pip: pip and uv install into it from outside)."""
        self._venvs += 1
        path = self.tmp / f"venv{self._venvs}"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                       env=self.env)
        return path / "bin" / "python"

    def python(self, python, code):
        return self.run([python, "-c", code], check=True).output.strip()

    def write_netrc(self, login, password, machine="127.0.0.1"):
        netrc = self.home / ".netrc"
        netrc.write_text(f"machine {machine}\nlogin {login}\npassword {password}\n")
        netrc.chmod(0o600)
        return netrc


# twine 6.1 stopped offering --skip-existing for any index but PyPI's; the last release that
# offers it everywhere shows that the server's "File already exists" answer lets it skip.
SKIP_EXISTING_TWINE = "twine==6.0.1"


@pytest.fixture(scope="session")
def twine_with_skip_existing():
    """A twine that still offers --skip-existing for private indexes, in its own venv under
    var/ (kept between runs), installed from the package registry this machine uses."""
    venv = ROOT / "var" / "test-clients" / SKIP_EXISTING_TWINE.replace("==", "-")
    twine = venv / "bin" / "twine"
    if not twine.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        installed = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
             SKIP_EXISTING_TWINE],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        if installed.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            message = f"could not install {SKIP_EXISTING_TWINE}: {installed.stdout.decode()[-2000:]}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return twine


@pytest.fixture
def clients(server, tmp_path):
    return Clients(server, tmp_path)


@pytest.fixture
def dists(tmp_path):
    folder = tmp_path / "dist"
    folder.mkdir()
    return folder


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
