"""Who may do what on which repository.

A role is read < write < admin. A user's role on a repository is the highest of their own and
their groups' roles (superusers are admins everywhere); public repositories give everyone read.
A token caps its user's role at its scope and, when it names repositories, to those.
A private repository that the caller may not read is answered exactly like a missing one.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from registry.errors import Forbidden, NotFound, Unauthorized
from registry.http import client_address
from registry.models import Repository, RepositoryRole, Role


@dataclass(frozen=True)
class Actor:
    """Whoever makes a request: the user (maybe anonymous), the token used, the address."""

    user: object
    token: object = None
    remote_addr: str | None = None
    # Ranks already computed for this actor (one request), by repository id: a view checks
    # early, before reading a body, and the service it calls checks again.
    _ranks: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_authenticated(self):
        return bool(self.user and self.user.is_authenticated)


def actor_from(request, *, session_allowed=True):
    """The Actor of a request. `session_allowed=False` ignores a browser session, for
    csrf-exempt client endpoints where only a token may write."""
    token = getattr(request, "api_token", None)
    user = request.user
    if token is None and not session_allowed:
        user = AnonymousUser()
    return Actor(user=user, token=token, remote_addr=client_address(request))


def user_role_rank(user, repository):
    if user is None or not user.is_authenticated or not user.is_active:
        rank = 0
    elif user.is_superuser:
        rank = Role.rank(Role.ADMIN)
    else:
        roles = RepositoryRole.objects.filter(repository=repository).filter(
            Q(user=user) | Q(group__in=user.groups.all())
        )
        rank = max((Role.rank(r) for r in roles.values_list("role", flat=True)), default=0)
    if repository.is_public:
        rank = max(rank, Role.rank(Role.READ))
    return rank


def restricted_to(token):
    """The ids of the repositories a token is restricted to (empty: not restricted).
    Kept on the token object: a request asks more than once."""
    if not hasattr(token, "_restricted_to"):
        token._restricted_to = frozenset(token.repositories.values_list("pk", flat=True))
    return token._restricted_to


def token_cap(token, repository):
    """The highest role a token allows on a repository (admin when there is no token)."""
    if token is None:
        return Role.rank(Role.ADMIN)
    restricted = restricted_to(token)
    if restricted and repository.pk not in restricted:
        return 0
    return Role.rank(token.scope)


def rank(actor, repository):
    if repository.pk not in actor._ranks:
        actor._ranks[repository.pk] = _rank(actor, repository)
    return actor._ranks[repository.pk]


def _rank(actor, repository):
    user_rank = user_role_rank(actor.user, repository)
    cap = token_cap(actor.token, repository)
    if repository.is_public:
        # A token restricted elsewhere still reads what anyone may read.
        return max(min(user_rank, cap), Role.rank(Role.READ))
    return min(user_rank, cap)


def can(actor, repository, role):
    if role == Role.READ and repository.is_public:
        return True  # anyone reads a public repository: no need to look up roles
    return rank(actor, repository) >= Role.rank(role)


def require(actor, repository, role):
    """Raise the error a client should see when `actor` may not act as `role`."""
    if role == Role.READ and repository.is_public:
        return
    have = rank(actor, repository)
    if have >= Role.rank(role):
        return
    if have == 0:
        # Not even read: the repository must look as if it did not exist.
        raise Unauthorized("Authentication required") if not actor.is_authenticated else NotFound(
            f"Repository {repository.name!r} not found"
        )
    if not actor.is_authenticated:
        raise Unauthorized("Authentication required")
    if actor.token is not None and Role.rank(actor.token.scope) < Role.rank(role):
        raise Forbidden(
            f"This token's scope is {actor.token.scope}; {role} access is needed for this"
        )
    raise Forbidden(f"You do not have {role} access to repository {repository.name!r}")


def get_repository(actor, name, role=Role.READ):
    """The named repository if `actor` may act on it as `role`.

    A missing repository is answered like an unreadable one: 401 for anonymous callers
    (so pip and apt send their credentials), 404 for everyone else.
    """
    repository = find_repository(name)
    if repository is None:
        raise missing_repository(actor, name)
    require(actor, repository, role)
    return repository


def find_repository(name):
    """The repository of that name, or None; no access check (callers make one)."""
    # get(), not first(): no ORDER BY to compile on the path of every client request.
    try:
        return Repository.objects.get(name=name)
    except Repository.DoesNotExist:
        return None


def missing_repository(actor, name):
    """The error for a repository that does not exist, the same as for one `actor` may not read."""
    if not actor.is_authenticated:
        return Unauthorized("Authentication required")
    return NotFound(f"Repository {name!r} not found")


def readable_repositories(actor):
    """A queryset of the repositories `actor` may read."""
    public = Q(visibility=Repository.Visibility.PUBLIC)
    user = actor.user
    if user is None or not user.is_authenticated:
        return Repository.objects.filter(public)
    if user.is_superuser:
        # Everything (a bare Q() would vanish when OR-ed with `public`: only public ones).
        mine = Q(pk__isnull=False)
    else:
        mine = Q(roles__user=user) | Q(roles__group__in=user.groups.all())
    if actor.token is not None:
        restricted = restricted_to(actor.token)
        if restricted:
            mine &= Q(pk__in=restricted)
    return Repository.objects.filter(public | mine).distinct()


def administered_repositories(actor):
    """A queryset of the repositories where `actor` acts as admin: the user's admin role
    (or superuser), capped by the token's scope and repository limit like every other right."""
    user = actor.user
    if user is None or not user.is_authenticated or not user.is_active:
        return Repository.objects.none()
    if actor.token is not None and actor.token.scope != Role.ADMIN:
        return Repository.objects.none()
    repositories = Repository.objects.all()
    if not user.is_superuser:
        roles = RepositoryRole.objects.filter(Q(user=user) | Q(group__in=user.groups.all()), role=Role.ADMIN)
        repositories = repositories.filter(pk__in=roles.values("repository_id"))
    if actor.token is not None and (restricted := restricted_to(actor.token)):
        repositories = repositories.filter(pk__in=restricted)
    return repositories
