"""The OpenAPI schema says what the API does: how tokens authenticate, which lists are paged,
which status codes answer. (tests/fuzz/test_api_schema.py holds every answer to it.)"""

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_valid_openapi_and_generated_without_warnings(tmp_path):
    # --fail-on-warn: an authenticator, path parameter or serializer drf-spectacular cannot
    # read would otherwise silently become "string" or be left out.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_token_authentication_is_in_the_schema(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenBasic"]["type"] == "http" and schemes["tokenBasic"]["scheme"] == "basic"
    assert "__token__" in schemes["tokenBasic"]["description"]
    assert schemes["tokenBearer"]["type"] == "http" and schemes["tokenBearer"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method in set(item) & set(OPERATIONS):
            security = item[method]["security"]
            # Either header form suffices: two alternatives, not one requirement of both.
            assert {"tokenBasic": []} in security and {"tokenBearer": []} in security, (method, path)


def responses(schema, path, method):
    return schema["paths"][path][method]["responses"]


def json_schema(response):
    return response["content"]["application/json"]["schema"]


@pytest.mark.parametrize("path, item", [
    ("/api/v1/repositories/{name}/roles/", "#/components/schemas/Role"),
    ("/api/v1/repositories/{name}/signing-keys/", "#/components/schemas/RepositoryKey"),
])
def test_roles_and_signing_keys_are_plain_arrays(schema, path, item):
    get = responses(schema, path, "get")
    assert json_schema(get["200"]) == {"type": "array", "items": {"$ref": item}}
    parameters = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
    assert not parameters & {"limit", "offset"}
    post = responses(schema, path, "post")
    assert "200" not in post and "201" in post


def test_a_granted_role_answers_201_with_the_role(schema):
    created = json_schema(responses(schema, "/api/v1/repositories/{name}/roles/", "post")["201"])
    assert created == {"$ref": "#/components/schemas/Role"}
    keys = json_schema(responses(schema, "/api/v1/repositories/{name}/signing-keys/", "post")["201"])
    assert keys == {"type": "array", "items": {"$ref": "#/components/schemas/RepositoryKey"}}


def test_every_operation_documents_its_error_answers(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in schema["paths"].items():
        for method in set(item) & set(OPERATIONS):
            answers = item[method]["responses"]
            for code in ("401", "403", "404", "429"):
                assert json_schema(answers[code]) == error, (method, path, code)
            assert "400" in answers
            if method in ("post", "put", "patch"):
                assert json_schema(answers["413"]) == error
    upload = responses(schema, "/api/v1/repositories/{name}/upload/", "post")
    assert {"200", "201", "409"} <= set(upload)


def test_lists_say_their_page_cap(schema):
    [limit] = [p for p in schema["paths"]["/api/v1/packages/"]["get"]["parameters"] if p["name"] == "limit"]
    assert "at most 500" in limit["description"]


def test_the_roles_and_keys_answers_match_the_schema(client, personas, repositories):
    """What the schema above says, as the server answers it."""
    owner = personas["owner"]
    listed = client.get("/api/v1/repositories/private-py/roles/", **owner.auth)
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    granted = client.post("/api/v1/repositories/private-py/roles/", {"user": "outsider", "role": "read"},
                          content_type="application/json", **owner.auth)
    assert granted.status_code == 201
    assert set(granted.json()) == {"id", "user", "group", "role"}
