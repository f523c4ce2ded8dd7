"""Repository keys: generated on first need, sealed in the database, rotated with a transition
period during which both keys sign, and usable on any worker that has the secret."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import AuditEvent, RepositoryKey, SigningKey
from registry.services import signing_keys
from registry.services.access import Actor
from signing import gpg, sealing
from tests.fixtures.gpg_verify import good_signers

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(personas):
    return Actor(user=personas["owner"].user)


def test_a_key_on_first_need_sealed_at_rest(repositories, owner, settings):
    repository = repositories["private"]
    key = signing_keys.ensure_key(owner, repository)
    assert signing_keys.ensure_key(owner, repository) == key  # once
    assert key.algorithm == settings.SIGNING_KEY_ALGORITHM == "ed25519"
    assert key.uid == "private-py repository signing key <private-py@registry.invalid>"
    stored = SigningKey.objects.get(pk=key.pk)
    assert b"PRIVATE KEY" not in bytes(stored.private_sealed)
    assert "PRIVATE" not in stored.public_armored
    assert AuditEvent.objects.filter(action="signing_key.primary", repository=repository).exists()

    signed = signing_keys.clearsign(repository, b"Origin: x\n")
    assert good_signers(signed, signing_keys.public_keys(repository)) == {key.fingerprint}


def test_rotation_with_a_transition_period(repositories, owner):
    repository = repositories["public"]
    old = signing_keys.ensure_key(owner, repository)
    new = signing_keys.generate_key(repository, algorithm="rsa4096")
    signing_keys.make_primary(owner, repository, new, transition_days=30)

    assert [k.fingerprint for k in signing_keys.active_keys(repository)] == [new.fingerprint, old.fingerprint]
    published = signing_keys.public_keys(repository)
    assert {fp for fp, _uid in gpg.public_key_info(published)} == {old.fingerprint, new.fingerprint}
    signed = signing_keys.clearsign(repository, b"Origin: x\n")
    # Clients that know only the old key, and clients that already have the new one, both verify.
    assert good_signers(signed, old.public_armored) == {old.fingerprint}
    assert good_signers(signed, new.public_armored) == {new.fingerprint}

    # After the transition the old key stops signing and leaves the key file.
    RepositoryKey.objects.filter(key=old).update(retire_after=timezone.now() - timedelta(seconds=1))
    assert [k.fingerprint for k in signing_keys.active_keys(repository)] == [new.fingerprint]
    assert RepositoryKey.objects.get(key=old).current_state == RepositoryKey.State.RETIRED
    signed = signing_keys.clearsign(repository, b"Origin: x\n")
    assert good_signers(signed, old.public_armored + new.public_armored) == {new.fingerprint}


def test_rotation_without_transition_retires_at_once(repositories, owner):
    repository = repositories["public"]
    old = signing_keys.ensure_key(owner, repository)
    new = signing_keys.generate_key(repository)
    signing_keys.make_primary(owner, repository, new)
    assert signing_keys.active_keys(repository) == [new]
    assert RepositoryKey.objects.get(key=old).state == RepositoryKey.State.RETIRED


def test_an_imported_key_signs(repositories, owner):
    material = gpg.generate("Imported", "imported@example.com")
    key = signing_keys.import_key(material.private_armored)
    assert key.fingerprint == material.fingerprint
    signing_keys.make_primary(owner, repositories["private"], key)
    signature = signing_keys.detached_signature(repositories["private"], b"data")
    assert good_signers(signature, material.public_armored, detached_data=b"data") == {material.fingerprint}


def test_importing_garbage_is_a_clear_error():
    from registry.errors import InvalidPackage

    with pytest.raises(InvalidPackage, match="Cannot use that key"):
        signing_keys.import_key("-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope\n")


def test_secret_rotation(repositories, owner, settings):
    repository = repositories["private"]
    settings.SIGNING_KEY_SECRETS = ["first secret"]
    key = signing_keys.ensure_key(owner, repository)
    settings.SIGNING_KEY_SECRETS = ["second secret", "first secret"]
    assert signing_keys.reseal_all() == 1
    settings.SIGNING_KEY_SECRETS = ["second secret"]
    signed = signing_keys.clearsign(repository, b"x\n")
    assert good_signers(signed, key.public_armored) == {key.fingerprint}
    settings.SIGNING_KEY_SECRETS = ["a secret nobody configured"]
    with pytest.raises(sealing.SealError):
        signing_keys.clearsign(repository, b"x\n")
