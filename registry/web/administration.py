"""A repository's administration in the browser: description, visibility, format settings,
members and their roles, signing keys, the audit log. Admins only; the same services as the
REST API make every change (checked and audited there)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from registry import plugins
from registry.errors import InvalidInput, RegistryError
from registry.models import AuditEvent, Repository, Role
from registry.proxy import configuration, documents
from registry.services import access, repositories, signing_keys

from . import lookup, settings_form

EVENTS_PER_PAGE = 50


def _administered(request, name):
    actor = access.actor_from(request)
    repository = lookup.repository(request, actor, name)
    if not access.can(actor, repository, Role.ADMIN):
        raise Http404("No such page")
    return actor, repository


@require_http_methods(["GET", "POST"])
@lookup.sends_to_login
def repository_settings(request, name):
    actor, repository = _administered(request, name)
    plugin = plugins.get(repository.format)
    if request.method == "POST":
        try:
            done = _change(actor, repository, plugin, request.POST)
        except RegistryError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
        return redirect(f"/ui/repositories/{repository.name}/settings/")
    keys = repository.keys.select_related("key").order_by("-added") if plugin.publishes else []
    return render(request, "registry/repository_settings.html", {
        "repository": repository,
        "plugin": plugin,
        "visibilities": Repository.Visibility.values,
        "format_settings": settings_form.initial(plugin.settings_fields, repository.settings),
        "roles": repository.roles.select_related("user", "group").order_by("group__name", "user__username"),
        "role_choices": Role.values,
        "keys": keys,
        "signing_fingerprints": {key.fingerprint for key in signing_keys.active_keys(repository)}
        if plugin.publishes else set(),
        "upstream": configuration.describe(repository) if repository.kind == Repository.Kind.PROXY else None,
    })


def _change(actor, repository, plugin, form):
    """Carry out one form of the settings page; the message to show."""
    section = form.get("section")
    if section == "general":
        repositories.update(actor, repository, {"description": form.get("description", "").strip(),
                                                "visibility": form.get("visibility", "")})
        return "Saved."
    if section == "format":
        settings = settings_form.read(plugin.settings_fields, form, repository.settings)
        repositories.update(actor, repository, {"settings": settings})
        return f"Saved the {plugin.label} settings."
    if section == "upstream":
        repositories.update(actor, repository, {"upstream": _upstream_form(form)})
        return "Saved the upstream settings."
    if section == "invalidate":
        package = form.get("package", "").strip()
        dropped = documents.invalidate(actor, repository, package or None)
        return f"Forgot {dropped} cached index document{'s' if dropped != 1 else ''}."
    if section == "grant":
        who = form.get("who", "").strip()
        is_group = form.get("holder") == "group"
        held = repositories.grant(actor, repository, form.get("role", ""),
                                  username=None if is_group else who, group_name=who if is_group else None)
        return f"{'Group' if is_group else 'User'} {who} has the {held.role} role."
    if section == "revoke":
        role_id = form.get("role_id", "")
        if not role_id.isdigit() or not repositories.revoke(actor, repository, int(role_id)):
            raise RegistryError("No such role.")
        return "Role removed."
    raise RegistryError("Unknown form.")


def _upstream_form(form):
    """The settings form as registry.proxy.configuration.clean takes it."""
    data = {"url": form.get("url", "").strip(), "username": form.get("username", "").strip(),
            "offline": form.get("offline") == "on"}
    for name, kind in (("metadata_max_age", int), ("negative_max_age", int),
                       ("connect_timeout", float), ("read_timeout", float)):
        try:
            data[name] = kind(form.get(name, ""))
        except ValueError:
            raise InvalidInput(f"{name.replace('_', ' ').capitalize()} must be a number.") from None
    secret = form.get("secret", "")
    if form.get("remove_credentials") == "on":
        data["token"] = ""
    elif secret:
        data["password" if data["username"] else "token"] = secret
    else:
        del data["username"]  # credentials unchanged
    return configuration.clean(data, creating=False)


@require_safe
@lookup.sends_to_login
def audit_log(request, name):
    _actor, repository = _administered(request, name)
    events = AuditEvent.objects.filter(repository=repository).order_by("-created", "-id")
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action=action)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/audit_log.html", {
        "repository": repository, "page": page, "action": action,
        "actions": AuditEvent.objects.filter(repository=repository).order_by("action")
        .values_list("action", flat=True).distinct(),
    })
