"""Check an upstream's signatures the way apt does: `gpgv` against a keyring holding only the
keys the admin trusts, in a temporary folder removed afterwards. Plain Python, no Django."""

import subprocess
import tempfile
from pathlib import Path

from .gpg import SigningError

TIMEOUT = 60


def verify_clearsigned(signed, public_armored):
    """The text a good signature in `signed` (a clearsigned message, bytes) covers, exactly as
    gpgv read it, so nothing outside the signature is ever taken. SigningError otherwise."""
    with tempfile.TemporaryDirectory(prefix="registry-gpgv-") as folder:
        folder = Path(folder)
        message = folder / "message.asc"
        message.write_bytes(signed)
        output = folder / "message.txt"
        _gpgv(folder, public_armored, ["--output", str(output), str(message)])
        return output.read_bytes()


def verify_detached(data, signature, public_armored):
    """SigningError unless `signature` (bytes) is a good signature of `data` by a trusted key."""
    with tempfile.TemporaryDirectory(prefix="registry-gpgv-") as folder:
        folder = Path(folder)
        (folder / "data").write_bytes(data)
        (folder / "signature").write_bytes(signature)
        _gpgv(folder, public_armored, [str(folder / "signature"), str(folder / "data")])


def _gpgv(folder, public_armored, args):
    keyring = folder / "trusted.gpg"
    dearmored = subprocess.run(
        ["gpg", "--homedir", str(folder), "--batch", "--dearmor", "--output", str(keyring)],
        input=public_armored.encode(), capture_output=True, timeout=TIMEOUT, check=False)
    if dearmored.returncode != 0:
        raise SigningError("the upstream public key cannot be read")
    result = subprocess.run(
        ["gpgv", "--homedir", str(folder), "--status-fd", "1", "--keyring", str(keyring), *args],
        capture_output=True, text=True, timeout=TIMEOUT, check=False)
    valid = [line for line in result.stdout.splitlines() if line.startswith("[GNUPG:] VALIDSIG")]
    if result.returncode != 0 or not valid:
        said = (result.stderr.strip().splitlines() or ["no good signature"])[-1]
        raise SigningError(f"no good signature by the configured upstream key (gpgv: {said[:200]})")
