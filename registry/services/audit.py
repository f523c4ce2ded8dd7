"""Every write leaves an AuditEvent; who may read which."""

from django.db.models import Q

from registry.models import AuditEvent, Role
from registry.services import access


def record(actor, action, *, repository=None, package_name="", version="", **detail):
    user = actor.user if actor is not None and actor.is_authenticated else None
    token = actor.token if actor is not None else None
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        token=token,
        token_prefix=token.prefix if token else "",
        action=action,
        repository=repository,
        repository_name=repository.name if repository else "",
        package_name=package_name,
        version=version,
        detail=detail,
        remote_addr=actor.remote_addr if actor is not None else None,
    )


def visible_to(actor):
    """The events `actor` may read, under the same caps as every other right:
    - of a repository it administers (access.administered_repositories: a token's scope and
      repository limit apply, a superuser's too);
    - its user's own, in a repository it may read;
    - with no repository (its tokens' creation and revocation, a deleted repository's events):
      its user's own, and everyone's for a superuser, but only to a session or an admin-scope
      token without a repository limit, as they may name any repository."""
    if not actor.is_authenticated:
        return AuditEvent.objects.none()
    user = actor.user
    visible = Q(repository__in=access.administered_repositories(actor)) | Q(
        user=user, repository__in=access.readable_repositories(actor))
    token = actor.token
    if token is None or (token.scope == Role.ADMIN and not access.restricted_to(token)):
        visible |= Q(repository__isnull=True) if user.is_superuser else Q(repository__isnull=True, user=user)
    return AuditEvent.objects.filter(visible)
