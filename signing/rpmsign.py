"""RPM package signatures with the real `rpmsign`, using a key opened in a temporary keyring
(signing.gpg) for the one call. Plain Python: no Django, no registry imports."""

import os
import shutil
import subprocess

from .gpg import SigningError, keyring

TIMEOUT_SECONDS = 120


def available():
    return shutil.which("rpmsign") is not None and shutil.which("gpg") is not None


def sign_in_place(path, private_armored):
    """Add an OpenPGP signature by `private_armored` (no passphrase) to the RPM at `path`."""
    if not available():
        raise SigningError("rpmsign is not installed on this server (Debian/Ubuntu: apt-get install rpm).")
    with keyring() as gpg:
        imported = gpg.import_keys(private_armored, extra_args=["--pinentry-mode", "loopback",
                                                                "--passphrase", ""])
        if not imported.fingerprints:
            raise SigningError("The signing key could not be read.")
        home = gpg.gnupghome
        command = [
            "rpmsign", "--addsign",
            # rpm's default %__gpg is gpg2, which many systems do not have under that name.
            "--define", f"__gpg {shutil.which('gpg')}",
            "--define", f"_gpg_path {home}",
            "--define", f"_gpg_name {imported.fingerprints[0]}",
            "--define", "_gpg_digest_algo sha256",
            str(path),
        ]
        # HOME points into the keyring folder: no ~/.rpmmacros of the server's user applies.
        env = {**os.environ, "HOME": home, "GNUPGHOME": home, "LC_ALL": "C"}
        env.pop("GPG_TTY", None)
        result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=TIMEOUT_SECONDS)
        if result.returncode != 0:
            raise SigningError(f"rpmsign failed: {(result.stderr or result.stdout).strip()[-500:]}")
