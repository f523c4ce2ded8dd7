"""Private keys at rest: sealed with a secret from the settings (Fernet: AES-128-CBC with an
HMAC-SHA256, from the `cryptography` library), so a copy of the database alone does not give
the keys away. Several secrets may be given: the first seals, all unseal (secret rotation)."""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealError(Exception):
    """The sealed key cannot be opened with any of the configured secrets."""


SIGNING_KEYS = b"artifact-registry signing keys"
UPSTREAM_CREDENTIALS = b"artifact-registry upstream credentials"


def _fernet(secret, purpose):
    # Any string becomes a Fernet key; HKDF keeps this key apart from other uses of the secret
    # (a sealed upstream password cannot be opened as a signing key, nor the reverse).
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=purpose).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _box(secrets, purpose):
    if not secrets:
        raise SealError("No secret to seal with.")
    return MultiFernet([_fernet(secret, purpose) for secret in secrets])


def seal(text, secrets, purpose=SIGNING_KEYS):
    return _box(secrets, purpose).encrypt(text.encode())


def unseal(token, secrets, purpose=SIGNING_KEYS):
    try:
        return _box(secrets, purpose).decrypt(bytes(token)).decode()
    except InvalidToken:
        raise SealError(
            "A sealed secret cannot be opened with the configured SIGNING_KEY_SECRETS; "
            "was the secret changed without keeping the old one?"
        ) from None


def reseal(token, secrets, purpose=SIGNING_KEYS):
    """Seal again with the first (current) secret."""
    return _box(secrets, purpose).rotate(bytes(token))
