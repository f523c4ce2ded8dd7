"""HTTP to a proxy's upstream, with urllib3: the repository's timeouts, no retries (the circuit
breaker decides when to call again), and the upstream's credentials only for the upstream's
own origin. Redirects are followed here, hop by hop, so that rule holds on every hop: a
redirect to another origin (a CDN, another host) goes there without the credentials."""

import base64
import logging
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from signing import sealing

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "artifact-registry-proxy/1"
DEFAULT_PORTS = {"http": 80, "https": 443}

# One pool for the process: connections to an upstream are reused across requests.
_pool = urllib3.PoolManager(num_pools=32, maxsize=8, retries=False)


class FetchError(Exception):
    """The upstream could not be reached or did not answer in time."""

    def __init__(self, message, *, timeout=False):
        super().__init__(message)
        self.timeout = timeout


def origin(url):
    """(scheme, host, port): what must match for credentials to be sent."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def credentials(upstream):
    """The Authorization header for the upstream, or {}: Basic with a username, else Bearer."""
    if not upstream.secret_sealed:
        return {}
    try:
        secret = sealing.unseal(upstream.secret_sealed, settings.SIGNING_KEY_SECRETS,
                                sealing.UPSTREAM_CREDENTIALS)
    except sealing.SealError:
        raise FetchError("The upstream's credentials do not open with SIGNING_KEY_SECRETS "
                         "(changed without re-sealing?); set them again.") from None
    if upstream.username:
        pair = base64.b64encode(f"{upstream.username}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {"Authorization": f"Bearer {secret}"}


def get(upstream, url, *, home, headers=None, decode=True):
    """GET `url` for the proxy whose upstream is `upstream` and whose configured URL is `home`.

    Returns (response, final_url): an unread urllib3 response (any status but a redirect; the
    caller reads and releases it) and the URL it came from (relative links resolve against
    it). Raises FetchError when no answer came.
    """
    authorization = credentials(upstream)
    allowed = origin(home)
    timeout = urllib3.Timeout(connect=upstream.connect_timeout, read=upstream.read_timeout)
    for _hop in range(MAX_REDIRECTS + 1):
        if origin(url)[0] not in DEFAULT_PORTS:
            raise FetchError(f"The upstream sent us to {url!r}, which is not http or https.")
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if authorization and origin(url) == allowed:
            sent.update(authorization)
        try:
            response = _request(url, sent, timeout, decode)
        except urllib3.exceptions.NewConnectionError as exc:
            raise FetchError(f"Cannot connect to the upstream {_where(url)}: {_reason(exc)}") from None
        except urllib3.exceptions.TimeoutError:
            raise FetchError(f"The upstream {_where(url)} did not answer within its timeout.",
                             timeout=True) from None
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(f"The upstream {_where(url)} failed: {_reason(exc)}") from None
        location = response.headers.get("Location")
        if response.status in REDIRECTS and location:
            response.drain_conn()
            response.release_conn()
            url = urljoin(url, location)
            continue
        return response, url
    raise FetchError(f"The upstream redirected more than {MAX_REDIRECTS} times.")


def _request(url, headers, timeout, decode):
    try:
        return _pool.request("GET", url, headers=headers, timeout=timeout, retries=False,
                             redirect=False, preload_content=False, decode_content=decode)
    except urllib3.exceptions.ProtocolError:
        # A kept-alive connection the upstream had closed meanwhile: once more on a new one
        # (a GET is safe to repeat; timeouts are not retried, the breaker counts them).
        return _pool.request("GET", url, headers=headers, timeout=timeout, retries=False,
                             redirect=False, preload_content=False, decode_content=decode)


def read_limited(response, limit):
    """The whole body, refusing one larger than `limit` bytes (FetchError)."""
    chunks, size = [], 0
    try:
        for chunk in response.stream(256 * 1024):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"The upstream's document is larger than {limit} bytes.")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError:
        raise FetchError("The upstream stopped sending within its timeout.", timeout=True) from None
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"The upstream's answer broke off: {_reason(exc)}") from None
    return b"".join(chunks)


def _where(url):
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def _reason(exc):
    # urllib3 wraps the socket error; its last line is the useful part.
    return str(getattr(exc, "reason", None) or exc).splitlines()[-1][:300]


def close_connections():
    """Close the kept-alive connections to every upstream (tests, before their server stops)."""
    _pool.clear()
