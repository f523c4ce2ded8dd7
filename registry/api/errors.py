from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.errors import RegistryError
from registry.http import REALM


def exception_handler(exc, context):
    """RegistryError from the services → the same JSON shape DRF uses: {"detail": …}."""
    if isinstance(exc, RegistryError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        response = Response(body, status=exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = REALM
        return response
    return drf_exception_handler(exc, context)
