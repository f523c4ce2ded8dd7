"""The tokens page: create one (scope, repositories, expiry; the secret shown once), list yours
(prefix, scope, last use, expiry), revoke. Through services.tokens, as the REST API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registry.errors import RegistryError
from registry.models import Role
from registry.services import access, tokens


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    actor = access.actor_from(request)
    try:
        # A page reached with a token (not a browser) is held to the same rule as the REST API.
        mine = tokens.manageable(actor)
    except RegistryError as exc:
        raise PermissionDenied(str(exc)) from None
    readable = access.readable_repositories(actor).order_by("name")
    new_secret = None
    if request.method == "POST":
        if "revoke" in request.POST:
            revoke = request.POST["revoke"]
            token = mine.filter(pk=revoke).first() if revoke.isdigit() else None
            if token is not None:
                tokens.withdraw(actor, token)
                messages.success(request, f"Revoked {token.name}.")
            return redirect("web:tokens")
        try:
            expires = request.POST.get("expires_days", "").strip()
            if expires and not expires.isdigit():
                raise RegistryError("Expiry is a number of days (or empty: never).")
            names = request.POST.getlist("repositories")
            chosen = list(readable.filter(name__in=names))
            if len(chosen) != len(set(names)):
                raise RegistryError("Choose among the repositories you may read.")
            token, new_secret = tokens.issue(
                actor, request.POST.get("name", ""), scope=request.POST.get("scope", Role.READ),
                repositories=chosen, expires_days=int(expires) if expires else None,
            )
        except RegistryError as exc:
            messages.error(request, str(exc))
    return render(request, "registry/tokens.html", {
        "tokens": mine.prefetch_related("repositories").order_by("-created"),
        "new_secret": new_secret,
        "scopes": Role.values,
        "repositories": readable,
    })
