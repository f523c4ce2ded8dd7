"""OpenPGP keys and signatures through the real `gpg` (python-gnupg), each operation in a
private, temporary keyring that is deleted afterwards.

Nothing here keeps key material on the machine: callers pass armored keys in (from the
database, decrypted) and get armored keys and signatures out, so every worker on every machine
can sign. Plain Python: no Django, no registry imports.
"""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

import gnupg

ALGORITHMS = ("ed25519", "rsa4096")


class SigningError(Exception):
    """gpg refused: a bad key, a failed signature. The message says what gpg said."""


@dataclass(frozen=True)
class KeyMaterial:
    fingerprint: str
    uid: str
    algorithm: str
    public_armored: str
    private_armored: str
    created: int  # seconds since the epoch, as gpg reports it
    expires: int | None


@contextmanager
def keyring():
    """A gpg home of our own, mode 0700, removed with its agent when done."""
    home = tempfile.mkdtemp(prefix="registry-gpg-")
    os.chmod(home, 0o700)
    try:
        gpg = gnupg.GPG(gnupghome=home)
        gpg.encoding = "utf-8"
        yield gpg
    finally:
        # The agent gpg started for this home would outlive it otherwise.
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(home, ignore_errors=True)


def generate(name, email, algorithm="ed25519"):
    """A new signing key (no passphrase: it is protected by encryption at rest instead)."""
    if algorithm == "ed25519":
        params = {"key_type": "EDDSA", "key_curve": "ed25519"}
    elif algorithm == "rsa4096":
        params = {"key_type": "RSA", "key_length": 4096}
    else:
        raise SigningError(f"Unknown key algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}.")
    with keyring() as gpg:
        spec = gpg.gen_key_input(name_real=name, name_email=email, key_usage="sign",
                                 expire_date=0, no_protection=True, **params)
        result = gpg.gen_key(spec)
        if not result.fingerprint:
            raise SigningError(f"gpg could not generate a key: {result.stderr.strip()[-500:]}")
        return _material(gpg, result.fingerprint)


def import_private(armored):
    """Read an armored private key (one primary key, no passphrase)."""
    with keyring() as gpg:
        result = gpg.import_keys(armored, extra_args=["--pinentry-mode", "loopback", "--passphrase", ""])
        secret = [f for f in gpg.list_keys(secret=True)]
        if not result.fingerprints or len(secret) != 1:
            raise SigningError(
                "Expected exactly one armored private key without a passphrase"
                + (f" (gpg: {result.stderr.strip()[-300:]})" if result.stderr else "")
            )
        if "s" not in secret[0].get("cap", "").lower():
            raise SigningError("That key cannot sign.")
        return _material(gpg, secret[0]["fingerprint"])


def _material(gpg, fingerprint):
    [key] = [k for k in gpg.list_keys(secret=True) if k["fingerprint"] == fingerprint]
    public = gpg.export_keys(fingerprint, armor=True)
    private = gpg.export_keys(fingerprint, secret=True, armor=True, passphrase="",
                              expect_passphrase=False)
    if not public or not private:
        raise SigningError(f"gpg could not export key {fingerprint}.")
    return KeyMaterial(
        fingerprint=fingerprint,
        uid=(key.get("uids") or [""])[0],
        algorithm=_algorithm_name(key),
        public_armored=public,
        private_armored=private,
        created=int(key["date"]),
        expires=int(key["expires"]) if key.get("expires") else None,
    )


def _algorithm_name(key):
    # gpg's public-key algorithm ids: 1 RSA, 22 EdDSA.
    algo = str(key.get("algo"))
    if algo == "22":
        return "ed25519"
    if algo == "1":
        return f"rsa{key.get('length')}"
    return f"algo{algo}"


class Signer:
    """Signs with every key of one temporary keyring; see signer()."""

    def __init__(self, gpg, fingerprints):
        self._gpg = gpg
        self._extra = ["--pinentry-mode", "loopback", "--passphrase", "", "--digest-algo", "SHA512"]
        # One --local-user per key: gpg makes one signature with each. (--default-key, which
        # python-gnupg's keyid sets, would be overridden by them.)
        for fingerprint in fingerprints:
            self._extra += ["--local-user", fingerprint]

    def clearsign(self, data):
        """`data` (bytes) clearsigned by every key, as InRelease is."""
        return self._sign(data, clearsign=True, detach=False)

    def detached_signature(self, data):
        """An armored detached signature of `data` by every key, as Release.gpg and repomd.xml.asc."""
        return self._sign(data, clearsign=False, detach=True)

    def _sign(self, data, *, clearsign, detach):
        signed = self._gpg.sign(data, clearsign=clearsign, detach=detach, binary=False,
                                extra_args=self._extra)
        if not signed.data:
            raise SigningError(f"gpg could not sign: {signed.stderr.strip()[-500:]}")
        return signed.data


@contextmanager
def signer(private_keys):
    """A Signer for the armored `private_keys`, imported once into one temporary keyring: a
    publication signs many files with one set-up."""
    if not private_keys:
        raise SigningError("No signing key.")
    with keyring() as gpg:
        fingerprints = []
        for armored in private_keys:
            imported = gpg.import_keys(armored, extra_args=["--pinentry-mode", "loopback", "--passphrase", ""])
            if not imported.fingerprints:
                raise SigningError("A signing key could not be read.")
            fingerprints.append(imported.fingerprints[0])
        yield Signer(gpg, fingerprints)


def clearsign(data, private_keys):
    with signer(private_keys) as sign:
        return sign.clearsign(data)


def detached_signature(data, private_keys):
    with signer(private_keys) as sign:
        return sign.detached_signature(data)


def public_key_info(armored):
    """(fingerprint, uid) of each public key in an armored block, for showing to people."""
    with keyring() as gpg:
        gpg.import_keys(armored)
        return [(k["fingerprint"], (k.get("uids") or [""])[0]) for k in gpg.list_keys()]

