"""Private keys at rest: sealed with a secret from the settings (Fernet: AES-128-CBC with an
HMAC-SHA256, from the `cryptography` library), so a copy of the database alone does not give
the keys away. Several secrets may be given: the first seals, all unseal (secret rotation)."""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealError(Exception):
    """The sealed key cannot be opened with any of the configured secrets."""


def _fernet(secret):
    # Any string becomes a Fernet key; HKDF keeps this key apart from other uses of the secret.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"artifact-registry signing keys").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _box(secrets):
    if not secrets:
        raise SealError("No secret to seal signing keys with.")
    return MultiFernet([_fernet(secret) for secret in secrets])


def seal(text, secrets):
    return _box(secrets).encrypt(text.encode())


def unseal(token, secrets):
    try:
        return _box(secrets).decrypt(bytes(token)).decode()
    except InvalidToken:
        raise SealError(
            "A signing key cannot be opened with the configured SIGNING_KEY_SECRETS; "
            "was the secret changed without keeping the old one?"
        ) from None


def reseal(token, secrets):
    """Seal again with the first (current) secret."""
    return _box(secrets).rotate(bytes(token))
