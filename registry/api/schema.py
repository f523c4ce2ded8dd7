"""What drf-spectacular cannot see by itself in the OpenAPI schema: how an API token is sent,
and the error answers every operation can give.

REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS names this module's AutoSchema, so the module (and the
token scheme registered by defining its extension) is loaded before any schema is built.
"""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """registry.auth.TokenAuthentication reads either header form; each is its own scheme and
    either one suffices."""

    target_class = "registry.auth.TokenAuthentication"
    name = ["tokenBasic", "tokenBearer"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "An API token as the password; the user name is `__token__` "
                               "or the token owner's.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <API token>`.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"tokenBasic": []}, {"tokenBearer": []}]


ERROR = inline_serializer("Error", {
    "detail": serializers.CharField(),
    "field": serializers.CharField(required=False, help_text="The input the message is about."),
})
# DRF's validation errors map each field to its messages; other 400s are {"detail": …}.
BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Bad input: {"detail": …} or {"<field>": ["<message>", …]}.',
)
# Every operation: bad input, no or bad credentials, not allowed, missing (which is also the
# answer for a private repository you may not read), and throttled after failed credentials.
ALWAYS = {
    "400": BAD_REQUEST,
    "401": OpenApiResponse(ERROR, description="No credentials, or credentials that are not valid."),
    "403": OpenApiResponse(ERROR, description="Not allowed with these credentials."),
    "404": OpenApiResponse(ERROR, description="Not found (or not readable by you)."),
    "429": OpenApiResponse(ERROR, description="Too many failed authentications from this address "
                                              "or for this account; see Retry-After."),
}
WITH_BODY = {"413": OpenApiResponse(ERROR, description="The request body is too large.")}
UPLOAD = {"409": OpenApiResponse(ERROR, description="The file exists with other content.")}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with the error answers documented beside each success."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(WITH_BODY)
        if self.map_parsers() == ["multipart/form-data"]:
            errors.update(UPLOAD)  # an operation taking only files: an upload
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
