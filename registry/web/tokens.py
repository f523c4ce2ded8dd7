"""The tokens page: create (the secret shown once), list and revoke your API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from registry.models import ApiToken, Role
from registry.services import access, audit, tokens


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
