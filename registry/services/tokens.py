"""API tokens: created with a secret shown once, stored as a hash, checked in constant time."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from registry.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from registry.models import ApiToken, Repository, Role
from registry.services import access, audit

PREFIX_LENGTH = 12
# last_used is a hint for people, not a log: write it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret):
    # The secret carries 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(user, name, *, scope=Role.READ, repositories=(), expires_days=None, expires=None):
    """Returns (token, secret). The secret exists only in this return value. No check of who
    asks: `issue` makes the checks for a request, this is for the operator's command too."""
    if scope not in Role.values:
        raise ValueError(f"scope must be one of {', '.join(Role.values)}")
    secret = settings.TOKEN_PREFIX + secrets.token_urlsafe(32)
    if expires is None and expires_days:
        expires = timezone.now() + timedelta(days=expires_days)
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


def require_manager(actor):
    """Only a browser session or an admin-scope token lists, creates or revokes tokens: a
    token made for reading or publishing must not be able to make, see or cancel others."""
    if not actor.is_authenticated:
        raise Unauthorized("Log in to manage tokens.")
    if actor.token is not None and actor.token.scope != Role.ADMIN:
        raise Forbidden(
            f"Managing tokens needs a browser session or a token with the admin scope; "
            f"this token's scope is {actor.token.scope}."
        )


def manageable(actor):
    """The tokens `actor` may list and revoke: all of its user's for a session or an admin token
    without a repository limit; for a token limited to repositories, those of its user limited
    to some of the same (the others would name repositories outside its limit)."""
    require_manager(actor)
    mine = ApiToken.objects.filter(user=actor.user)
    limit = access.restricted_to(actor.token) if actor.token is not None else frozenset()
    if limit:
        links = ApiToken.repositories.through.objects
        mine = mine.filter(pk__in=links.values("apitoken_id")).exclude(
            pk__in=links.exclude(repository_id__in=limit).values("apitoken_id"))
    return mine


def check_within(actor, scope, repositories, expires):
    """Refuse a new token that would reach further than the token of the request asking for it:
    its scope, its repositories and its expiry must each be within that token's own."""
    own = actor.token
    if own is None:
        return
    if Role.rank(scope) > Role.rank(own.scope):
        raise Forbidden(f"A token with scope {own.scope} cannot create a {scope} token.")
    limit = access.restricted_to(own)
    if limit and not repositories:
        raise Forbidden("This token is limited to repositories: a token it creates must be limited "
                        "to some of them (name them in repositories).")
    outside = sorted(r.name for r in repositories if limit and r.pk not in limit)
    if outside:
        raise Forbidden(f"This token is not limited to {', '.join(outside)}: a token it creates "
                        "may only be limited to repositories within its own limit.")
    if own.expires is not None and (expires is None or expires > own.expires):
        left = (own.expires - timezone.now()).days
        most = f"expires_days of at most {left}" if left >= 1 else "it has less than a day left"
        raise Forbidden(f"This token expires at {own.expires:%Y-%m-%d %H:%M} UTC; a token it "
                        f"creates must expire no later ({most}).")


def own_repositories(actor):
    """The repositories the request's token is limited to ([]: none, or no token)."""
    if actor.token is None:
        return []
    return list(Repository.objects.filter(pk__in=access.restricted_to(actor.token)).order_by("name"))


def issue(actor, name, *, scope=Role.READ, repositories=(), expires_days=None):
    """A new token of the actor's own user, audited: (token, secret). Only a session or an
    admin-scope token issues tokens, never one reaching further than its own (check_within), and
    naming only repositories the request may read (others answer like missing ones)."""
    require_manager(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("Give the token a name (at most 100 characters).", field="name")
    if scope not in Role.values:
        raise InvalidInput(f"scope must be one of {', '.join(Role.values)}", field="scope")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise InvalidInput("A token expires after 1 to 3650 days (or never).", field="expires_days")
    readable = access.readable_repositories(actor)
    for repository in repositories:
        if not readable.filter(pk=repository.pk).exists():
            raise InvalidInput(f"No repository {repository.name!r}.", field="repositories")
    expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
    check_within(actor, scope, repositories, expires)
    with transaction.atomic():
        token, secret = create_token(actor.user, name, scope=scope, repositories=repositories,
                                     expires=expires)
        audit.record(actor, "token.create", name=token.name, prefix=token.prefix, scope=token.scope,
                     repositories=[r.name for r in repositories])
    return token, secret


def issue_shaped(actor, name, *, scope, repositories, expires, **detail):
    """A new token whose limits the server chooses, not the client (npm's login and `token
    create` have no words for them), audited: (token, secret). As `issue`, only a session or an
    admin-scope token may ask; its expiry is brought back to the asking token's own when later,
    and its scope and repositories must be within that token's (check_within)."""
    require_manager(actor)
    own = actor.token
    if own is not None and own.expires is not None and (expires is None or expires > own.expires):
        expires = own.expires
    check_within(actor, scope, repositories, expires)
    with transaction.atomic():
        token, secret = create_token(actor.user, name, scope=scope, repositories=repositories,
                                     expires=expires)
        audit.record(actor, "token.create", name=token.name, prefix=token.prefix, scope=token.scope,
                     **detail)
    return token, secret


def repository_deleting(sender, instance, **kwargs):
    """pre_delete of a Repository, however it is deleted: revoke the tokens limited to it alone.
    Its rows in their limit go with it, and a token whose limit is empty has no limit at all."""
    repository = instance
    links = ApiToken.repositories.through.objects
    only_there = ApiToken.objects.filter(
        revoked__isnull=True, pk__in=links.filter(repository_id=repository.pk).values("apitoken_id"),
    ).exclude(pk__in=links.exclude(repository_id=repository.pk).values("apitoken_id"))
    for token in only_there.select_related("user"):
        revoke(token)
        # The event names the repository without linking it: the row is about to go.
        audit.record(None, "token.revoke", name=token.name, prefix=token.prefix,
                     owner=token.user.get_username(), reason=f"repository {repository.name} deleted")


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


def withdraw(actor, token, **detail):
    """Revoke a token the actor may manage (`manageable`), audited."""
    if not manageable(actor).filter(pk=token.pk).exists():
        raise NotFound("No such token.")
    revoke(token)
    audit.record(actor, "token.revoke", name=token.name, prefix=token.prefix, **detail)
