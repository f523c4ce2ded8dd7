"""The access matrix: every route of the URL configuration (each format's, the REST API's, the
UI's, the rest) × personas × methods, against a private repository of each format.

- Whoever may not read a private repository gets, for every request, exactly the answer (status,
  headers, body) the same request gets once the private repositories are gone: a private
  repository is indistinguishable from a missing one.
- Whoever may not write changes nothing: no row of the registry moves (their own tokens aside),
  and a write to a repository is refused. A writer changes no repository's administration
  (roles, visibility, keys, upstream).
- Nobody gets a server error.

Routes are read from the URL configuration (tests/fixtures/access_matrix.py), so a new route joins
the matrix by existing; one whose parameters no sample fills fails the test.
"""

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import path, re_path

from registry import plugins
from registry import urls as root_urls
from registry.auth import OPERATIONS_PREFIX
from registry.models import Repository
from registry.services import tokens
from tests.fixtures import access_matrix as matrix

pytestmark = pytest.mark.django_db

# A proxy whose upstream cannot be reached says so (its upstream is offline on purpose).
UPSTREAM_FAILURES = (502, 504)
# A CSRF token (in a form, or in the API docs' script) is new in every answer; its value says
# nothing about a repository.
CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value="|X-CSRFToken"\] = ")[A-Za-z0-9]+(")')
# Headers whose value is the time of the answer.
CLOCK_HEADERS = ("Date", "Expires")
# Readers, writers and admins are asked what changes or breaks; those who may not read, every
# method (how a refusal answers HEAD or OPTIONS must not tell either).
READER_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
# A read and a write, for requests refused in one place whatever the route: Django's own views
# (the admin site, the login page) check access for the whole site and know nothing of
# repositories; a revoked or expired token is refused before any URL is resolved.
READ_AND_WRITE = ("GET", "POST")
REFUSED_AT_THE_DOOR = ("revoked", "expired")
# Those who may not read are refused before a format looks at the rest of the path (but for
# views that check access themselves): two paths of a route are enough for them.
PATHS_FOR_OUTSIDERS = 2


@pytest.fixture
def world(client, tmp_path, django_capture_on_commit_callbacks, settings, monkeypatch):
    # Thousands of refused credentials on purpose: the throttle has tests of its own (and its
    # counts stay in memory here, not in files).
    settings.THROTTLE_ADDRESS_FAILURES = 0
    settings.THROTTLE_ACCOUNT_FAILURES = 0
    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "matrix-throttle"}}
    folder = tmp_path / "packages"
    folder.mkdir()
    built = matrix.build_world(client, folder, django_capture_on_commit_callbacks)
    # Each token was used once; every request is rolled back, so without this each would write
    # its token's last use again.
    monkeypatch.setattr(tokens, "LAST_USED_RESOLUTION", timedelta(days=1))
    # Django logs every 4xx as a warning: tens of thousands of them here, all expected.
    logging.disable(logging.WARNING)
    yield built
    logging.disable(logging.NOTSET)


@dataclass(frozen=True)
class Request:
    route: matrix.Route
    persona: str
    method: str
    path: str
    repository: str | None  # the private repository the request is about, if one
    body: matrix.Body

    def __str__(self):
        size = f" ({len(self.body.data)} bytes {self.body.content_type.split(';')[0]})" if self.body.data else ""
        return f"{self.persona}: {self.method} /{self.path}{size}  [{self.route.key}]"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple
    body: bytes

    def __str__(self):
        return f"{self.status} {dict(self.headers)} {self.body[:300]!r}"


class Runner:
    def __init__(self, world):
        self.world = world
        self.snapshot = matrix.Snapshot()
        # Every request is rolled back: each starts from this state.
        self.baseline = self.snapshot.take()
        self.clients = {}
        for persona in world.personas.values():
            client = Client(raise_request_exception=False)
            if persona.session:
                client.force_login(persona.user)
            self.clients[persona.name] = client

    def send(self, request, *, watch):
        """The Answer, and {table: (gone, new)} when `watch`. Every request is rolled back."""
        persona = self.world.personas[request.persona]
        client = self.clients[persona.name]
        cookies = client.cookies
        client.cookies = type(cookies)(cookies)  # a logout must not log the next request out
        changed = None
        writes = []
        with transaction.atomic(), connection.execute_wrapper(_writes_into(writes)):
            response = client.generic(request.method, "/" + request.path, data=request.body.data,
                                      content_type=request.body.content_type, **persona.headers())
            # Read to the end, a streamed answer is closed by the test client itself (closing it
            # by hand would also close a PostgreSQL test connection).
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if watch and response.status_code < 500:
                # Reading every table only when a statement wrote: most requests write nothing.
                changed = matrix.changes(self.baseline, self.snapshot.take()) if writes else {}
            transaction.set_rollback(True)
        client.cookies = cookies
        if request.method not in matrix.SAFE:
            cache.clear()  # pages cached in a rolled-back world would outlive it
        headers = tuple(sorted((k, "<clock>" if k in CLOCK_HEADERS else v) for k, v in response.headers.items()))
        return Answer(response.status_code, headers, CSRF_VALUE.sub(rb"\1-\2", body)), changed


def _writes_into(found):
    """A database execute wrapper that notes the statements that write."""

    def spy(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            found.append(sql)
        return execute(sql, params, many, context)

    return spy


def requests_of(world, route, persona):
    """The requests of one route for one persona: every concrete path × method (× body)."""
    if route.key.startswith("django.") or persona.name in REFUSED_AT_THE_DOOR:
        methods = READ_AND_WRITE
    else:
        methods = matrix.METHODS if not persona.may_read else READER_METHODS
    paths = matrix.paths_for(world, route, persona)
    if route.format is not None and not persona.may_read:
        paths = paths[:PATHS_FOR_OUTSIDERS]
    for path, repository in paths:
        for method in methods:
            for body in matrix.bodies(world, route, repository, persona, method, path):
                yield Request(route, persona.name, method, path, repository.name if repository else None, body)


def searches(world, request):
    """A list or search page this persona may see, asked about each private repository's package."""
    for fmt in sorted(world.repositories):
        yield Request(request.route, request.persona, "GET", f"{request.path}?{matrix.queries(world, fmt)}",
                      None, matrix.Body())


class Findings:
    """What went wrong, one example per route, persona and method (with how many paths)."""

    def __init__(self):
        self.cases = defaultdict(dict)

    def add(self, what, request, detail):
        key = (request.route.key, request.persona, request.method)
        first, count = self.cases[what].get(key, (f"{request}\n      {detail}", 0))
        self.cases[what][key] = (first, count + 1)

    def report(self):
        parts = []
        for what, cases in self.cases.items():
            shown = [f"{first}" + (f"\n      (and {count - 1} more paths)" if count > 1 else "")
                     for first, count in list(cases.values())[:40]]
            parts.append(f"\n{what} ({len(cases)} routes × personas × methods):\n  " + "\n  ".join(shown))
        return "\n".join(parts)


def check(runner, findings, request, hidden):
    world = runner.world
    persona = world.personas[request.persona]
    writing = request.method not in matrix.SAFE
    answer, changed = runner.send(request, watch=writing and request.persona != "admin")
    if answer.status >= 500 and answer.status not in UPSTREAM_FAILURES:
        findings.add("a server error", request, f"→ {answer}")
    own = matrix.own_account_change(runner.snapshot, persona.user, changed)
    if not persona.may_read and not own:
        # (Minting or revoking one's own token answers with a new secret and id every time.)
        hidden.append((request, answer))
    if writing and not persona.may_write and changed is not None:
        if changed and not own:
            findings.add("a write by someone who may not write changed rows", request,
                         f"→ {answer.status}, changed {sorted(changed)}")
        elif request.repository is not None and 200 <= answer.status < 300 and not own:
            findings.add("a write by someone who may not write was not refused", request, f"→ {answer}")
    if writing and request.persona == "write" and changed:
        administration = matrix.administration_changes(runner.snapshot, changed)
        if administration:
            findings.add("a writer changed a repository's administration", request,
                         f"→ {answer.status}, changed {administration}")
    return answer


def same_for_operations(answer, missing, secrets):
    """Health, readiness and metrics describe the running process (timings, counters since it
    started), never the same twice: their status and header names must agree, and their body
    must name no private repository or package."""
    return (answer.status == missing.status
            and [k for k, _v in answer.headers] == [k for k, _v in missing.headers]
            and not any(secret.encode() in answer.body for secret in secrets))


def test_access_matrix(world):
    runner = Runner(world)
    findings = Findings()
    unfilled, hidden = [], []
    for route in matrix.routes():
        for persona in world.personas.values():
            try:
                requests = list(requests_of(world, route, persona))
            except LookupError as exc:
                unfilled.append(str(exc))
                break
            for request in requests:
                answer = check(runner, findings, request, hidden)
                if (request.method == "GET" and request.repository is None and "?" not in request.path
                        and 200 <= answer.status < 300):
                    for search in searches(world, request):
                        check(runner, findings, search, hidden)
    assert not unfilled, "routes the matrix cannot fill:\n" + "\n".join(unfilled)
    # The same requests once the private repositories never existed.
    with transaction.atomic():
        matrix.remove_private_repositories(world)
        secrets = world.private_names + [matrix.PACKAGE]
        for request, answer in hidden:
            missing, _changed = runner.send(request, watch=False)
            if missing == answer or (("/" + request.path).startswith(OPERATIONS_PREFIX)
                                     and same_for_operations(answer, missing, secrets)):
                continue
            findings.add("a private repository answers unlike a missing one", request,
                         f"private: {answer}\n      missing: {missing}")
        transaction.set_rollback(True)
    assert not findings.cases, findings.report()


# --- the matrix finds new routes by itself ------------------------------------------------------


def _fresh_view(request, *args, **kwargs):
    return HttpResponse("fresh")


# The project's URLs and two more, for the test below (ROOT_URLCONF points here).
urlpatterns = root_urls.urlpatterns[:-1] + [
    path("ui/fresh/<str:name>/", _fresh_view),
    path("ui/odd/<str:mystery>/", _fresh_view),
    root_urls.urlpatterns[-1],
]


def test_new_routes_join_the_matrix_and_unfillable_ones_fail(db, settings, monkeypatch):
    settings.ROOT_URLCONF = __name__
    plugin = plugins.get("pypi")
    own = plugin.urlpatterns()
    monkeypatch.setattr(plugin, "urlpatterns", lambda: own + [
        re_path(r"^-/fresh/(?P<project>[^/]+)$", _fresh_view),
        re_path(r"^-/odd/(?P<mystery>[^/]+)$", _fresh_view),
    ])
    repository = Repository.objects.create(name="secret-pypi", format="pypi", visibility="private")
    world = matrix.World(repositories={"pypi": repository}, proxies={}, elsewhere=None, personas={})
    anonymous = matrix.Persona("anonymous")
    found = {(route.format, route.route): route for route in matrix.routes()}

    fresh = found[("pypi", r"^-/fresh/(?P<project>[^/]+)$")]
    assert matrix.paths_for(world, fresh, anonymous) == [("repository/secret-pypi/-/fresh/hiddenpkg", repository)]
    assert matrix.paths_for(world, found[(None, "ui/fresh/<str:name>/")], anonymous) == [
        ("ui/fresh/secret-pypi/", repository)]
    for odd in (found[("pypi", r"^-/odd/(?P<mystery>[^/]+)$")], found[(None, "ui/odd/<str:mystery>/")]):
        with pytest.raises(LookupError, match="mystery"):
            matrix.paths_for(world, odd, anonymous)
