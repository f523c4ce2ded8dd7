"""Small HTTP helpers shared by the core and the formats."""

import re

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
