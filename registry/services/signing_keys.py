"""Repository signing keys: generate or import, rotate with a transition period, and sign with
every active key. Key material lives sealed in the database (signing.sealing) and is opened
only in a temporary keyring for one operation (signing.gpg), on whichever worker runs it."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.errors import InvalidPackage
from registry.models import RepositoryKey, SigningKey
from registry.services import audit
from signing import gpg, sealing


def _store(material):
    key, _created = SigningKey.objects.get_or_create(
        fingerprint=material.fingerprint,
        defaults={
            "uid": material.uid,
            "algorithm": material.algorithm,
            "public_armored": material.public_armored,
            "private_sealed": sealing.seal(material.private_armored, settings.SIGNING_KEY_SECRETS),
        },
    )
    return key


def generate_key(repository, algorithm=None):
    material = gpg.generate(
        f"{repository.name} repository signing key",
        f"{repository.name}@{settings.SIGNING_KEY_EMAIL_DOMAIN}",
        algorithm or settings.SIGNING_KEY_ALGORITHM,
    )
    return _store(material)


def import_key(armored_private):
    try:
        material = gpg.import_private(armored_private)
    except gpg.SigningError as exc:
        raise InvalidPackage(f"Cannot use that key: {exc}") from None
    return _store(material)


@transaction.atomic
def make_primary(actor, repository, key, transition_days=0):
    """Sign with `key` from now on. The previous primary key keeps signing beside it for
    `transition_days` (0: retired at once), so clients that trust only the old key keep
    working while they fetch the new one."""
    previous = list(RepositoryKey.objects.select_for_update()
                    .filter(repository=repository, state=RepositoryKey.State.PRIMARY)
                    .exclude(key=key))
    for use in previous:
        if transition_days:
            use.state = RepositoryKey.State.TRANSITION
            use.retire_after = timezone.now() + timedelta(days=transition_days)
        else:
            use.state = RepositoryKey.State.RETIRED
            use.retire_after = None
        use.save(update_fields=["state", "retire_after"])
    RepositoryKey.objects.update_or_create(
        repository=repository, key=key,
        defaults={"state": RepositoryKey.State.PRIMARY, "retire_after": None},
    )
    repository.bump_revision()
    audit.record(actor, "signing_key.primary", repository=repository, fingerprint=key.fingerprint,
                 previous=[use.key.fingerprint for use in previous], transition_days=transition_days)


def ensure_key(actor, repository):
    """The repository's primary key, generated on first need."""
    use = RepositoryKey.objects.filter(repository=repository, state=RepositoryKey.State.PRIMARY).first()
    if use is not None:
        return use.key
    key = generate_key(repository)
    make_primary(actor, repository, key)
    return key


def active_keys(repository):
    """The keys that sign now: the primary, then any still in their transition period."""
    uses = (RepositoryKey.objects.filter(repository=repository)
            .filter(Q(state=RepositoryKey.State.PRIMARY)
                    | Q(state=RepositoryKey.State.TRANSITION, retire_after__gt=timezone.now()))
            .select_related("key"))
    return [use.key for use in sorted(uses, key=lambda u: u.state != RepositoryKey.State.PRIMARY)]


def public_keys(repository):
    """The armored public keys clients should trust now (all active keys, primary first)."""
    return "".join(key.public_armored for key in active_keys(repository))


def _private(keys):
    return [sealing.unseal(key.private_sealed, settings.SIGNING_KEY_SECRETS) for key in keys]


def primary_private(actor, repository):
    """The armored private key of the repository's primary key (generated on first need), for
    signatures made by another tool than gpg (rpmsign). Never leaves the process."""
    return _private([ensure_key(actor, repository)])[0]


def signer(repository):
    """A context manager giving a gpg.Signer with every active key of the repository, opened
    once for all the files a publication signs."""
    return gpg.signer(_private(active_keys(repository)))


def clearsign(repository, data):
    with signer(repository) as sign:
        return sign.clearsign(data)


def detached_signature(repository, data):
    with signer(repository) as sign:
        return sign.detached_signature(data)


def reseal_all():
    """Seal every private key with the current (first) secret; returns how many."""
    count = 0
    for key in SigningKey.objects.all():
        key.private_sealed = sealing.reseal(key.private_sealed, settings.SIGNING_KEY_SECRETS)
        key.save(update_fields=["private_sealed"])
        count += 1
    return count
