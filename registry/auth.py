"""Client authentication: an API token as HTTP Basic password or as a Bearer token.

Browsers use Django's session. A request that carries an Authorization header the registry
cannot accept is answered 401 at once, so a wrong token never silently reads as anonymous.
"""

import base64
import binascii

from rest_framework import authentication

from registry.errors import Unauthorized
from registry.http import REALM, text_error
from registry.services import tokens

TOKEN_USERNAME = "__token__"


def challenge(message="Authentication required"):
    return text_error(Unauthorized(message))


class BadCredentials(Exception):
    pass


def token_from_header(header):
    """The ApiToken named by an Authorization header; None when there is no header.

    Raises BadCredentials when the header is there but does not name an active token.
    """
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        token = tokens.authenticate(value)
        if token is None:
            raise BadCredentials("Invalid or expired API token")
        return token
    if scheme == "basic":
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise BadCredentials("Malformed Basic credentials") from None
        token = tokens.authenticate(password)
        if token is None:
            raise BadCredentials("Invalid or expired API token (give the token as the password)")
        if username not in (TOKEN_USERNAME, token.user.get_username()):
            raise BadCredentials(f"Use the user name {TOKEN_USERNAME} or the token owner's name")
        return token
    raise BadCredentials(f"Unsupported authorization scheme {scheme!r}; use Basic or Bearer")


OPERATIONS_PREFIX = "/-/"


class TokenAuthenticationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.api_token = None
        if request.path_info.startswith(OPERATIONS_PREFIX):
            # Health, readiness and metrics know no users; /-/metrics checks its own token.
            return self.get_response(request)
        try:
            token = token_from_header(request.headers.get("Authorization"))
        except BadCredentials as exc:
            return challenge(str(exc))
        if token is not None:
            request.api_token = token
            request.user = token.user
            # A token-authenticated client is not a browser: no CSRF cookie to check.
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)


class TokenAuthentication(authentication.BaseAuthentication):
    """DRF's view of what the middleware found."""

    def authenticate(self, request):
        token = getattr(request._request, "api_token", None)
        if token is None:
            return None
        return token.user, token

    def authenticate_header(self, request):
        return REALM
