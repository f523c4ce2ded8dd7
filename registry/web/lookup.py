"""What a page is about, if the visitor may see it: the repository, package and version of the
URL, answered like a missing one otherwise (anonymous visitors are sent to log in)."""

import functools

from django.http import Http404
from django.shortcuts import redirect

from registry import plugins
from registry.errors import RegistryError
from registry.models import Role
from registry.services import access


class LoginFirst(Exception):
    """An anonymous visitor asked for something only a signed-in user might see."""

    def __init__(self, request):
        self.response = redirect(f"/accounts/login/?next={request.get_full_path()}")


def repository(request, actor, name, role=Role.READ):
    try:
        return access.get_repository(actor, name, role)
    except RegistryError:
        if not actor.is_authenticated:
            raise LoginFirst(request) from None
        raise Http404("No such repository") from None


def package(repository, name):
    plugin = plugins.get(repository.format)
    found = repository.packages.filter(normalized_name=plugin.normalize_name(name)).first()
    if found is None:
        raise Http404("No such package")
    return found


def version(package, version_id):
    found = package.versions.filter(pk=version_id).first() if str(version_id).isdigit() else None
    if found is None:
        raise Http404("No such version")
    return found


def sends_to_login(view):
    """A page view whose LoginFirst becomes the redirect to the login page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except LoginFirst as exc:
            return exc.response

    return wrapper
