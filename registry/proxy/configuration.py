"""A proxy's upstream settings as an admin gives them (the REST API's `upstream` object): checked,
completed with defaults, the secret sealed, and shown back without the secret."""

from urllib.parse import urlsplit

from django.conf import settings

from registry.errors import InvalidInput, UpstreamFailed
from registry.models import Upstream
from signing import gpg, sealing

from . import health

DAY = 86400
# name: (type, lowest, highest)
NUMBERS = {
    "metadata_max_age": (int, 0, 365 * DAY),
    "negative_max_age": (int, 0, 30 * DAY),
    "connect_timeout": (float, 0.1, 120),
    "read_timeout": (float, 0.1, 3600),
}
KNOWN = {"url", "username", "password", "token", "offline", "public_key", *NUMBERS}
MAX_PUBLIC_KEY = 64 * 1024


def clean(data, *, creating):
    """The settings in `data` checked: {name: value}, with "secret" (str, or "" to remove the
    credentials) when credentials were given. InvalidInput for anything else."""
    if not isinstance(data, dict):
        raise InvalidInput("upstream must be an object", field="upstream")
    unknown = set(data) - KNOWN
    if unknown:
        raise InvalidInput(f"upstream has no setting {', '.join(sorted(unknown))}; "
                           f"known: {', '.join(sorted(KNOWN))}", field="upstream")
    cleaned = {}
    if "url" in data or creating:
        cleaned["url"] = clean_url(data.get("url"))
    for name, (kind, lowest, highest) in NUMBERS.items():
        if name in data:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    kind is int and not float(value).is_integer()):
                raise InvalidInput(f"upstream.{name} must be a number", field="upstream")
            if not lowest <= value <= highest:
                raise InvalidInput(f"upstream.{name} must be between {lowest} and {highest}",
                                   field="upstream")
            cleaned[name] = kind(value)
    if "offline" in data:
        if not isinstance(data["offline"], bool):
            raise InvalidInput("upstream.offline must be true or false", field="upstream")
        cleaned["offline"] = data["offline"]
    if "public_key" in data:
        cleaned["public_key"] = clean_public_key(data["public_key"])
    cleaned.update(_credentials(data))
    return cleaned


def clean_url(url):
    if not isinstance(url, str) or not url:
        raise InvalidInput("upstream.url is needed: the upstream's index URL", field="upstream")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("upstream.url must be an http:// or https:// URL", field="upstream")
    if parts.username or parts.password:
        # A URL is shown back and logged; a secret is not.
        raise InvalidInput("Give the upstream's credentials as upstream.username/password or "
                           "upstream.token, not in the URL", field="upstream")
    if parts.fragment or any(ord(c) < 33 for c in url) or len(url) > 200:
        raise InvalidInput("upstream.url must be a plain URL of at most 200 characters",
                           field="upstream")
    return url if url.endswith("/") else url + "/"


def clean_public_key(armored):
    """The upstream's armored OpenPGP public key, "" for none; checked by importing it."""
    if armored is None or armored == "":
        return ""
    if not isinstance(armored, str) or len(armored) > MAX_PUBLIC_KEY or (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in armored):
        raise InvalidInput("upstream.public_key must be an armored OpenPGP public key "
                           "(-----BEGIN PGP PUBLIC KEY BLOCK-----)", field="upstream")
    if "PRIVATE KEY" in armored or not gpg.public_key_info(armored):
        raise InvalidInput("upstream.public_key is not an OpenPGP public key gpg can read",
                           field="upstream")
    return armored.strip() + "\n"


def _credentials(data):
    password, token = data.get("password"), data.get("token")
    if password is not None and token is not None:
        raise InvalidInput("Give upstream.password (with a username) or upstream.token, not both",
                           field="upstream")
    given = {}
    if "username" in data:
        if not isinstance(data["username"], str) or ":" in data["username"] or len(data["username"]) > 255:
            raise InvalidInput("upstream.username must be text without ':'", field="upstream")
        given["username"] = data["username"]
    secret = password if password is not None else token
    if secret is not None:
        if not isinstance(secret, str) or any(ord(c) < 32 for c in secret):
            raise InvalidInput("upstream.password/token must be one line of text", field="upstream")
        if password and not given.get("username"):
            raise InvalidInput("upstream.password needs upstream.username", field="upstream")
        if token is not None:
            given["username"] = ""
        given["secret"] = secret
    return given


def apply(repository, cleaned):
    """Store cleaned settings; returns what changed, for the audit event (never the secret)."""
    upstream, _ = Upstream.objects.get_or_create(repository=repository)
    changed = {}
    if "url" in cleaned and cleaned["url"] != repository.upstream_url:
        repository.upstream_url = cleaned["url"]
        repository.save(update_fields=["upstream_url", "updated"])
        changed["url"] = cleaned["url"]
    for name in (*NUMBERS, "offline", "username", "public_key"):
        if name in cleaned and getattr(upstream, name) != cleaned[name]:
            setattr(upstream, name, cleaned[name])
            changed[name] = cleaned[name]
    if "secret" in cleaned:
        secret = cleaned["secret"]
        upstream.secret_sealed = (sealing.seal(secret, settings.SIGNING_KEY_SECRETS,
                                               sealing.UPSTREAM_CREDENTIALS) if secret else None)
        changed["credentials"] = "set" if secret else "removed"
    if "offline" in changed and not upstream.offline:
        # Back online: the next request may call the upstream at once.
        upstream.retry_after = None
    upstream.save()
    return changed


def reseal_credentials():
    """Seal every upstream's credentials with the current (first) SIGNING_KEY_SECRETS entry, as
    signing_keys.reseal_all does for keys (docs/signing.md); returns how many."""
    count = 0
    for upstream in Upstream.objects.exclude(secret_sealed=None):
        upstream.secret_sealed = sealing.reseal(upstream.secret_sealed, settings.SIGNING_KEY_SECRETS,
                                                sealing.UPSTREAM_CREDENTIALS)
        upstream.save(update_fields=["secret_sealed"])
        count += 1
    return count


def upstream_of(repository):
    """The repository's Upstream row (made with the defaults for a proxy created without one,
    e.g. in the Django admin); UpstreamFailed when no upstream URL is set."""
    if not repository.upstream_url:
        raise UpstreamFailed(f"The proxy {repository.name} has no upstream URL; an admin sets "
                             "it in the repository's settings.")
    try:
        return repository.upstream
    except Upstream.DoesNotExist:
        upstream, _ = Upstream.objects.get_or_create(repository=repository)
        repository.upstream = upstream
        return upstream


def describe(repository):
    """The upstream settings and health as the API shows them (the secret never)."""
    upstream = getattr(repository, "upstream", None)
    if upstream is None:
        return None
    return {
        "url": repository.upstream_url,
        "username": upstream.username,
        "credentials": ("basic" if upstream.username else "token") if upstream.has_credentials else "none",
        "metadata_max_age": upstream.metadata_max_age,
        "negative_max_age": upstream.negative_max_age,
        "connect_timeout": upstream.connect_timeout,
        "read_timeout": upstream.read_timeout,
        "offline": upstream.offline,
        "public_key": upstream.public_key,
        "health": health.describe(upstream),
    }
