"""Every write leaves an AuditEvent."""

from registry.models import AuditEvent


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
