from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.views import defaults
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.errors import InvalidInput, RegistryError, TooLarge
from registry.http import REALM


def exception_handler(exc, context):
    """RegistryError from the services → the same JSON shape DRF uses: {"detail": …}. Django's
    refusals of a body too large to read (raised while DRF reads it) likewise."""
    if isinstance(exc, RequestDataTooBig):
        exc = TooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = InvalidInput(str(exc))
    if isinstance(exc, RegistryError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        response = Response(body, status=exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = REALM
        return response
    return drf_exception_handler(exc, context)


def page_not_found(request, exception):
    """Django's 404 for a path no URL pattern matches: under /api/ in the API's own shape (a
    client of the API reads JSON, whatever path it got wrong), elsewhere the site's page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
