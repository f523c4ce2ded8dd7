"""Keys and signatures with the real gpg, in throwaway keyrings; private keys sealed at rest."""

import glob
import os
import tempfile

import pytest

from signing import gpg, sealing
from tests.fixtures.gpg_verify import good_signers


@pytest.fixture(scope="module")
def ed25519():
    return gpg.generate("Test Repo", "repo@example.com", "ed25519")


@pytest.fixture(scope="module")
def rsa():
    return gpg.generate("Test RSA", "rsa@example.com", "rsa4096")


def test_generated_keys(ed25519, rsa):
    assert ed25519.algorithm == "ed25519" and rsa.algorithm == "rsa4096"
    assert ed25519.uid == "Test Repo <repo@example.com>"
    assert len(ed25519.fingerprint) == 40
    assert ed25519.public_armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert ed25519.private_armored.startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    assert gpg.public_key_info(ed25519.public_armored) == [(ed25519.fingerprint, ed25519.uid)]


def test_import_gives_the_same_key(ed25519):
    again = gpg.import_private(ed25519.private_armored)
    assert again.fingerprint == ed25519.fingerprint
    assert again.public_armored == ed25519.public_armored


@pytest.mark.parametrize("armored", ["not a key", ""])
def test_import_refuses_what_is_not_a_private_key(armored):
    with pytest.raises(gpg.SigningError):
        gpg.import_private(armored)


def test_import_refuses_a_public_key_alone(ed25519):
    with pytest.raises(gpg.SigningError, match="private key"):
        gpg.import_private(ed25519.public_armored)


def test_clearsign_verified_by_gpgv(ed25519):
    signed = gpg.clearsign(b"Origin: test\nSuite: stable\n", [ed25519.private_armored])
    assert signed.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: test\n")
    assert good_signers(signed, ed25519.public_armored) == {ed25519.fingerprint}


def test_two_keys_sign_one_message(ed25519, rsa):
    data = b"Origin: test\n"
    signed = gpg.clearsign(data, [ed25519.private_armored, rsa.private_armored])
    both = ed25519.public_armored + rsa.public_armored
    assert good_signers(signed, both) == {ed25519.fingerprint, rsa.fingerprint}
    # A client that trusts only the old key still finds its good signature.
    assert good_signers(signed, rsa.public_armored) == {rsa.fingerprint}


def test_detached_signature(ed25519):
    data = b"<repomd/>"
    signature = gpg.detached_signature(data, [ed25519.private_armored])
    assert signature.startswith(b"-----BEGIN PGP SIGNATURE-----")
    assert good_signers(signature, ed25519.public_armored, detached_data=data) == {ed25519.fingerprint}
    assert good_signers(signature, ed25519.public_armored, detached_data=b"<tampered/>") == set()


def test_a_signature_by_another_key_is_not_trusted(ed25519, rsa):
    signed = gpg.clearsign(b"x\n", [rsa.private_armored])
    assert good_signers(signed, ed25519.public_armored) == set()


def test_no_keyring_is_left_behind(ed25519):
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "registry-gpg-*")))
    gpg.clearsign(b"x\n", [ed25519.private_armored])
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "registry-gpg-*")))
    assert after <= before


def test_sealing_round_trip_and_rotation():
    sealed = sealing.seal("-----BEGIN PGP PRIVATE KEY BLOCK-----", ["old secret"])
    assert b"PRIVATE KEY" not in sealed
    assert sealing.unseal(sealed, ["old secret"]) == "-----BEGIN PGP PRIVATE KEY BLOCK-----"
    # A new secret first, the old one kept: old seals still open; resealing moves them over.
    resealed = sealing.reseal(sealed, ["new secret", "old secret"])
    assert sealing.unseal(resealed, ["new secret"]) == "-----BEGIN PGP PRIVATE KEY BLOCK-----"
    with pytest.raises(sealing.SealError, match="SIGNING_KEY_SECRETS"):
        sealing.unseal(sealed, ["new secret"])
