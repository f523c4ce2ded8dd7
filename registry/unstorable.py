"""Refuse a URL that carries a NUL character (`%00`) in its path or query, before any view.

No database text column holds NUL (PostgreSQL refuses it in the query itself), so such a URL
can name no repository, package or file, and a filter given it can match nothing: without this
every lookup and `?search=` would have to check on its own, or fail with a 500. JSON bodies are
checked by registry.bounded_json, form bodies of the REST API by its parsers.
"""

from django.http import JsonResponse

from registry.errors import InvalidInput
from registry.http import text_error

MESSAGE = "The URL contains a NUL character (%00); no name or value of this registry has one."


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": MESSAGE}, status=400)
            return text_error(InvalidInput(MESSAGE))
        return self.get_response(request)
