"""Client authentication: an API token as HTTP Basic password or as a Bearer token.

Browsers use Django's session. A request that carries an Authorization header the registry
cannot accept is answered 401 at once, so a wrong token never silently reads as anonymous; each
such refusal counts towards the throttle of failed authentication (registry.throttle), and past
its limits the answer is 429 with Retry-After.
"""

import base64
import binascii

from django.conf import settings
from django.http import JsonResponse
from rest_framework import authentication

from registry import throttle
from registry.errors import Unauthorized
from registry.http import REALM, client_address, text_error
from registry.services import tokens

TOKEN_USERNAME = "__token__"


class BadCredentials(Exception):
    def __init__(self, message, account=None):
        super().__init__(message)
        # Whose credential it claimed to be, for the throttle: the token's visible prefix.
        self.account = account


def _prefix(secret):
    return secret[:tokens.PREFIX_LENGTH] if secret.startswith(settings.TOKEN_PREFIX) else None


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
            raise BadCredentials("Invalid or expired API token", _prefix(value))
        return token
    if scheme == "basic":
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise BadCredentials("Malformed Basic credentials") from None
        token = tokens.authenticate(password)
        if token is None:
            raise BadCredentials("Invalid or expired API token (give the token as the password)",
                                 _prefix(password))
        if username not in (TOKEN_USERNAME, token.user.get_username()):
            raise BadCredentials(f"Use the user name {TOKEN_USERNAME} or the token owner's name")
        return token
    raise BadCredentials(f"Unsupported authorization scheme {scheme!r}; use Basic or Bearer")


OPERATIONS_PREFIX = "/-/"
API_PREFIX = "/api/"


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
            return refusal(request, exc)
        if token is not None:
            request.api_token = token
            request.user = token.user
            # A token-authenticated client is not a browser: no CSRF cookie to check.
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)


def refusal(request, exc):
    """The answer to credentials that were refused: 401, or 429 once this client address (or
    the account it tried) is over the throttle's limits. A right token is never counted."""
    address = client_address(request)
    seconds = throttle.blocked(address) or throttle.record_failure(address, exc.account)
    error = throttle.too_many(seconds, reason=str(exc)) if seconds else Unauthorized(str(exc))
    if request.path_info.startswith(API_PREFIX):
        # The REST API's own shape. Elsewhere the repository's format is not known yet (and must
        # not show for a private one), so text: every client prints the reason phrase.
        response = JsonResponse({"detail": error.message}, status=error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = REALM
    else:
        response = text_error(error)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


class TokenAuthentication(authentication.BaseAuthentication):
    """DRF's view of what the middleware found."""

    def authenticate(self, request):
        token = getattr(request._request, "api_token", None)
        if token is None:
            return None
        return token.user, token

    def authenticate_header(self, request):
        return REALM
