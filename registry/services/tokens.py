"""API tokens: created with a secret shown once, stored as a hash, checked in constant time."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from registry.errors import Forbidden, InvalidInput
from registry.models import ApiToken, Role
from registry.services import access, audit

PREFIX_LENGTH = 12
# last_used is a hint for people, not a log: write it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret):
    # The secret carries 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(user, name, *, scope=Role.READ, repositories=(), expires_days=None):
    """Returns (token, secret). The secret exists only in this return value."""
    if scope not in Role.values:
        raise ValueError(f"scope must be one of {', '.join(Role.values)}")
    secret = settings.TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        scope=scope,
        expires=expires,
    )
    if repositories:
        token.repositories.set(repositories)
    return token, secret


def authenticate(secret):
    """The active token whose secret this is, or None."""
    if not secret or not secret.startswith(settings.TOKEN_PREFIX):
        return None
    digest = hash_secret(secret)
    token = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


def revoke(token):
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])


def issue(actor, name, *, scope=Role.READ, repositories=(), expires_days=None):
    """A new token of the actor's own user, audited: (token, secret). A token may not mint a
    stronger one, and may name only repositories its user may read."""
    if not actor.is_authenticated:
        raise Forbidden("Log in to create tokens.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("Give the token a name (at most 100 characters).", field="name")
    if scope not in Role.values:
        raise InvalidInput(f"scope must be one of {', '.join(Role.values)}", field="scope")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("A token expires after 1 to 3650 days (or never).", field="expires_days")
    if actor.token is not None and Role.rank(scope) > Role.rank(actor.token.scope):
        raise Forbidden(f"A token with scope {actor.token.scope} cannot create a {scope} token")
    readable = access.readable_repositories(actor)
    for repository in repositories:
        if not readable.filter(pk=repository.pk).exists():
            raise InvalidInput(f"No repository {repository.name!r}.", field="repositories")
    with transaction.atomic():
        token, secret = create_token(actor.user, name, scope=scope, repositories=repositories,
                                     expires_days=expires_days)
        audit.record(actor, "token.create", name=token.name, prefix=token.prefix, scope=token.scope,
                     repositories=[r.name for r in repositories])
    return token, secret


def remove_expired(retention_days):
    """Delete tokens revoked or expired more than `retention_days` ago (their audit events keep
    the prefix); returns how many."""
    cutoff = timezone.now() - timedelta(days=retention_days)
    stale = ApiToken.objects.filter(models.Q(revoked__lt=cutoff) | models.Q(expires__lt=cutoff))
    removed = 0
    for token in stale.select_related("user"):
        with transaction.atomic():
            audit.record(None, "token.remove", name=token.name, prefix=token.prefix,
                         owner=token.user.get_username(), retention_days=retention_days)
            token.delete()
        removed += 1
    return removed


def withdraw(actor, token):
    """Revoke one of the actor's own tokens, audited."""
    if token.user_id != actor.user.pk:
        raise InvalidInput("No such token.")
    revoke(token)
    audit.record(actor, "token.revoke", name=token.name, prefix=token.prefix)
