"""Small HTTP helpers shared by the core and the formats."""

import ipaddress
import re
from functools import cache

from django.conf import settings
from django.http import HttpResponse

REALM = 'Basic realm="registry"'
_UNSAFE_REASON = re.compile(r"[^\x20-\x7e]")


def reason_phrase(message, limit=300):
    """The message as a reason phrase: one line of printable ASCII (twine and mvn print it)."""
    text = _UNSAFE_REASON.sub(" ", message).strip()
    return text[:limit] or "Error"


def text_error(exc):
    """A RegistryError as text/plain, the message in the body and in the reason phrase."""
    response = HttpResponse(
        exc.message + "\n", status=exc.status, content_type="text/plain; charset=utf-8"
    )
    response.reason_phrase = reason_phrase(exc.message)
    if exc.status == 401:
        response["WWW-Authenticate"] = REALM
    return response


def stored_answer(stored, created):
    """The answer to a PUT of one package file: 201 "Stored: <path>", or 200 for the same file
    again."""
    return HttpResponse(f"{'Stored' if created else 'Already stored'}: {stored.path}\n",
                        status=201 if created else 200, content_type="text/plain; charset=utf-8")


def client_address(request):
    """The address of the client that made the request.

    REMOTE_ADDR, unless that is one of TRUSTED_PROXIES: then the proxies' X-Forwarded-For is read
    from its end, where each proxy appended the address it saw, and the first address not of a
    trusted proxy is the client's. What a client writes into the header itself stays at its
    start and is never reached, so the address cannot be spoofed past a trusted proxy.
    """
    peer = request.META.get("REMOTE_ADDR") or ""
    if not settings.TRUSTED_PROXIES or not _trusted(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted(hop):
            # A proxy appends addresses it saw; anything else was not written by one.
            return hop if _ip(hop) else peer
    return peer


def _ip(address):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _trusted(address):
    ip = _ip(address)
    return ip is not None and any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


@cache
def _networks(entries):
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]
