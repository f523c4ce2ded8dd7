"""`/repository/<name>/…`: resolve the repository and the caller's rights, then hand the rest
of the path to the repository's format plugin."""

from functools import cache

from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern
from django.views.decorators.csrf import csrf_exempt

from registry import plugins
from registry.errors import NotFound, RegistryError
from registry.http import text_error
from registry.models import Repository, Role
from registry.services import access

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@cache
def _resolver(format_name, proxy=False):
    plugin = plugins.get(format_name)
    patterns = plugin.proxy_urlpatterns() if proxy else plugin.urlpatterns()
    return URLResolver(RegexPattern(r"^"), patterns or [])


# Exempt from CSRF because a browser session never counts for a write here (see below):
# clients authenticate writes with a token in the Authorization header.
@csrf_exempt
def dispatch(request, repository_name, rest):
    writing = request.method not in SAFE_METHODS
    actor = access.actor_from(request, session_allowed=not writing)
    request.actor = actor
    repository = access.find_repository(repository_name)
    if repository is None:
        return _as_missing(actor, repository_name)
    plugin = plugins.get(repository.format)
    try:
        match = _resolver(repository.format, repository.kind == Repository.Kind.PROXY).resolve(rest)
    except Resolver404:
        match = None
    visible = access.can(actor, repository, Role.READ)
    checks_itself = match is not None and getattr(match.func, "checks_access_itself", False)
    if not visible and not checks_itself:
        return _as_missing(actor, repository_name)
    if visible:
        request.registry_format = repository.format  # the area its request is counted under
    try:
        if match is None:
            raise NotFound(
                f"Not found: /repository/{repository.name}/{rest} is not a {plugin.label} "
                "endpoint of this repository"
            )
        response = match.func(request, repository, *match.args, **match.kwargs)
    except RegistryError as exc:
        response = plugin.error_response(request, exc)
    if not visible and not 200 <= response.status_code < 300:
        # A view that decides access itself (npm's login) refused a caller who may not read
        # the repository: whatever its reason, the answer must not differ from a missing one's.
        return _as_missing(actor, repository_name)
    # Counted under its format only after that: a refusal must not tell which format it refused.
    request.registry_format = repository.format
    return response


def _as_missing(actor, repository_name):
    """The answer for a repository that does not exist, and for one `actor` may not read."""
    return text_error(access.missing_repository(actor, repository_name))
