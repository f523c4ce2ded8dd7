"""`/repository/<name>/…`: resolve the repository and the caller's rights, then hand the rest
of the path to the repository's format plugin."""

from functools import cache

from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern
from django.views.decorators.csrf import csrf_exempt

from registry import plugins
from registry.errors import NotFound, RegistryError
from registry.http import text_error
from registry.models import Role
from registry.services import access

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@cache
def _resolver(format_name):
    plugin = plugins.get(format_name)
    return URLResolver(RegexPattern(r"^"), plugin.urlpatterns())


# Exempt from CSRF because a browser session never counts for a write here (see below):
# clients authenticate writes with a token in the Authorization header.
@csrf_exempt
def dispatch(request, repository_name, rest):
    writing = request.method not in SAFE_METHODS
    actor = access.actor_from(request, session_allowed=not writing)
    request.actor = actor
    repository = access.find_repository(repository_name)
    if repository is None:
        return text_error(access.missing_repository(actor, repository_name))
    request.registry_format = repository.format  # the area its request is counted under
    plugin = plugins.get(repository.format)
    try:
        match = _resolver(repository.format).resolve(rest)
    except Resolver404:
        match = None
    if match is None or not getattr(match.func, "checks_access_itself", False):
        try:
            access.require(actor, repository, Role.READ)
        except RegistryError as exc:
            return text_error(exc)
    try:
        if match is None:
            raise NotFound(
                f"Not found: /repository/{repository.name}/{rest} is not a {plugin.label} "
                "endpoint of this repository"
            )
        return match.func(request, repository, *match.args, **match.kwargs)
    except RegistryError as exc:
        return plugin.error_response(request, exc)
