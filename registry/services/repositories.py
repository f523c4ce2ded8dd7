"""Changes an admin makes to a repository: its description, visibility and format settings,
and who holds which role. Checked, audited; the REST API and the web pages both call these."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from registry import plugins
from registry.errors import InvalidInput
from registry.models import Repository, RepositoryRole, Role
from registry.proxy import configuration
from registry.services import access, audit, publications

CHANGEABLE = ("description", "visibility", "settings", "kind", "upstream")


def clean_settings(repository_format, settings):
    """The format's own check of its settings (defaults filled in); InvalidInput otherwise."""
    if not isinstance(settings, dict):
        raise InvalidInput("settings must be an object", field="settings")
    try:
        return plugins.get(repository_format).clean_settings(settings)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="settings") from None


def update(actor, repository, changes):
    """Apply `changes` ({field: value}, fields of CHANGEABLE) to `repository` as `actor` (admin)."""
    access.require(actor, repository, Role.ADMIN)
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    if "visibility" in changes and changes["visibility"] not in Repository.Visibility.values:
        raise InvalidInput(f"visibility must be one of {', '.join(Repository.Visibility.values)}",
                           field="visibility")
    if "settings" in changes:
        changes = {**changes, "settings": clean_settings(repository.format, changes["settings"])}
    upstream = changes.pop("upstream", None)
    if upstream is not None and repository.kind != Repository.Kind.PROXY:
        raise InvalidInput("Only proxy repositories have an upstream.", field="upstream")
    changed = {field: value for field, value in changes.items() if getattr(repository, field) != value}
    if not changed and not upstream:
        return repository
    with transaction.atomic():
        for field, value in changed.items():
            setattr(repository, field, value)
        if changed:
            repository.save(update_fields=[*changed, "updated"])
        if upstream:
            # Credentials appear in the audit as "set"/"removed", never as themselves.
            upstream_changes = configuration.apply(repository, upstream)
            if upstream_changes:
                changed["upstream"] = upstream_changes
        if not changed:
            return repository
        repository.bump_revision()
        audit.record(actor, "repository.update", repository=repository, changes=changed)
        if plugins.get(repository.format).publishes and repository.kind != repository.Kind.PROXY:
            # Settings and the description are in the signed metadata (distributions,
            # architectures, Valid-Until, Origin…): publish them.
            publications.request_publish(repository)
    return repository


def grant(actor, repository, role, *, username=None, group_name=None):
    """Give a user or a group `role` on `repository` (replacing the one they held)."""
    access.require(actor, repository, Role.ADMIN)
    if role not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}", field="role")
    if bool(username) == bool(group_name):
        raise InvalidInput("Give either a user or a group.")
    if username:
        holder = {"user": get_user_model().objects.filter(username=username).first()}
        if holder["user"] is None:
            raise InvalidInput(f"No user {username!r}.", field="user")
    else:
        holder = {"group": Group.objects.filter(name=group_name).first()}
        if holder["group"] is None:
            raise InvalidInput(f"No group {group_name!r}.", field="group")
    with transaction.atomic():
        granted, _ = RepositoryRole.objects.update_or_create(repository=repository, **holder,
                                                             defaults={"role": role})
        audit.record(actor, "role.grant", repository=repository, **describe(granted))
    return granted


def revoke(actor, repository, role_id):
    """Take back the role `role_id` of `repository`; False when there is no such role."""
    access.require(actor, repository, Role.ADMIN)
    held = repository.roles.select_related("user", "group").filter(pk=role_id).first()
    if held is None:
        return False
    with transaction.atomic():
        audit.record(actor, "role.revoke", repository=repository, **describe(held))
        held.delete()
    return True


def describe(held):
    """A role as the audit log and the API show it."""
    return {"id": held.pk, "user": held.user.username if held.user_id else None,
            "group": held.group.name if held.group_id else None, "role": held.role}
