"""Schemathesis over every operation of the REST API's OpenAPI schema, in-process (the WSGI
application, the real database), authenticated with a superuser's admin token.

Each operation is one test: a fresh world (repositories of every format, made through the API,
a package uploaded, a spare token, a role), then generated requests, valid and invalid ones,
some aimed at the world's real objects. Every answer must be below 500, carry a status code
the schema documents, and match the schema's body for that code.

`make test` runs a fixed, small number of examples per operation (derandomized: the same
requests every run); `make fuzz` sets FUZZ_EXAMPLES higher and lets Hypothesis roam.
"""

import os

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.models import (
    ApiToken,
    AuditEvent,
    Package,
    PackageFile,
    PackageVersion,
    RepositoryRole,
)
from registry.services import tokens
from tests.fixtures.dists import build_wheel

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 0)
FORMATS = ("pypi", "npm", "maven", "deb", "rpm")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]

# The schema the server serves (the same generator as /api/schema/); no database needed.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
schema.config.generation.update(
    max_examples=EXAMPLES or 25,
    deterministic=not EXAMPLES,
    # The token is sent by the test; generated credentials would only test the 401 path.
    with_security_parameters=False,
    database="none",
)


class World:
    """What the requests can be aimed at: names and ids of real rows, by path parameter."""

    def __init__(self, token, own_token_id):
        self.headers = {"Authorization": f"Bearer {token}"}
        self.own_token_id = own_token_id

    def candidates(self, path, parameter):
        if parameter == "name":
            return [f"fuzz-{fmt}" for fmt in FORMATS]
        if parameter == "role_id":
            return [str(pk) for pk in RepositoryRole.objects.values_list("pk", flat=True)]
        model = {"packages": Package, "versions": PackageVersion, "files": PackageFile,
                 "tokens": ApiToken, "audit-events": AuditEvent}.get(path.split("/")[3])
        if parameter != "id" or model is None:
            return []
        # The test's own token stays: revoking it would turn the rest of the run into 401s.
        return [str(pk) for pk in model.objects.exclude(pk=self.own_token_id if model is ApiToken else None)
                .values_list("pk", flat=True)[:20]]

    def aim(self, case, data):
        """Point some generated path parameters (and ?repository=) at existing objects. The
        draws do not depend on which objects exist (a DELETE removes some): Hypothesis replays
        a case by replaying its draws."""
        for parameter in list(case.path_parameters or {}):
            aimed, index = data.draw(st.tuples(st.booleans(), st.integers(0, 19)), label=f"aim {parameter}")
            known = self.candidates(case.operation.path, parameter)
            if aimed and known:
                case.path_parameters[parameter] = known[index % len(known)]
        if case.query and "repository" in case.query:
            aimed, index = data.draw(st.tuples(st.booleans(), st.integers(0, 19)), label="aim ?repository")
            if aimed:
                names = self.candidates("", "name")
                case.query["repository"] = names[index % len(names)]


@pytest.fixture
def world(transactional_db, client, django_user_model, settings, tmp_path):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    admin = django_user_model.objects.create_superuser("fuzzer", "fuzzer@example.com", "pw-fuzzer")
    own, secret = tokens.create_token(admin, "fuzz", scope="admin")
    tokens.create_token(admin, "spare", scope="read")
    member = django_user_model.objects.create_user("member", "member@example.com", "pw-member")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    for fmt in FORMATS:
        response = client.post("/api/v1/repositories/", {
            "name": f"fuzz-{fmt}", "format": fmt, "kind": "hosted",
            "visibility": "private" if fmt == "pypi" else "public",
        }, content_type="application/json", **auth)
        assert response.status_code == 201, response.content
    response = client.post("/api/v1/repositories/fuzz-pypi/roles/", {"user": member.username, "role": "read"},
                           content_type="application/json", **auth)
    assert response.status_code == 201, response.content
    wheel = build_wheel(tmp_path, "fuzz-demo", "1.0")
    response = client.post("/api/v1/repositories/fuzz-pypi/upload/",
                           {"file": SimpleUploadedFile(wheel.name, wheel.read_bytes())}, **auth)
    assert response.status_code == 201, response.content
    return World(secret, own.pk)


@schema.parametrize()
@schema.given(data=st.data())
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation_answers_as_its_schema_says(case, data, world):
    world.aim(case, data)
    case.call_and_validate(headers=world.headers, checks=CHECKS)
