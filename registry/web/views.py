"""The web pages: the repositories you may read, their client set-up, your tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registry import plugins
from registry.errors import RegistryError
from registry.models import ApiToken, Role
from registry.services import access, audit, signing_keys, tokens


def home(request):
    actor = access.actor_from(request)
    repositories = access.readable_repositories(actor).order_by("name")
    return render(request, "registry/home.html", {"repositories": repositories})


def repository_page(request, name):
    actor = access.actor_from(request)
    try:
        repository = access.get_repository(actor, name, Role.READ)
    except RegistryError:
        # People get a plain 404 (or the login page) rather than a Basic challenge.
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        raise Http404("No such repository") from None
    plugin = plugins.get(repository.format)
    packages = repository.packages.order_by("normalized_name")[:500]
    return render(
        request,
        "registry/repository.html",
        {
            "repository": repository,
            "plugin": plugin,
            "packages": packages,
            "base_url": request.build_absolute_uri(f"/repository/{repository.name}/"),
            "host": request.get_host(),
            "can_write": access.can(actor, repository, Role.WRITE),
            "signing_keys": signing_keys.active_keys(repository) if plugin.publishes else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    actor = access.actor_from(request)
    new_secret = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token = ApiToken.objects.filter(user=request.user, pk=request.POST["revoke"]).first()
            if token is not None:
                tokens.revoke(token)
                audit.record(actor, "token.revoke", name=token.name, prefix=token.prefix)
                messages.success(request, f"Revoked {token.name}.")
            return redirect("web:tokens")
        name = request.POST.get("name", "").strip()
        scope = request.POST.get("scope", Role.READ)
        expires = request.POST.get("expires_days") or None
        if not name or scope not in Role.values or (expires and not expires.isdigit()):
            messages.error(request, "Give a name, a scope and (optionally) a number of days.")
        else:
            token, new_secret = tokens.create_token(
                request.user, name[:100], scope=scope, expires_days=int(expires) if expires else None
            )
            audit.record(actor, "token.create", name=token.name, prefix=token.prefix, scope=scope)
    return render(
        request,
        "registry/tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user),
            "new_secret": new_secret,
            "scopes": Role.values,
        },
    )
