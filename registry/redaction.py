"""Secrets taken out of log lines: API tokens wherever they appear (npm's logout puts one in
the URL path), credentials in URLs (user:password@host), Authorization header values, and query
parameters that carry a secret.

Plain Python (gunicorn's master imports it before Django is set up): `RedactingFilter` goes on
every handler of Django's LOGGING and of Celery's loggers, and registry.gunicorn_logging puts it
on gunicorn's access and error logs.
"""

import logging
import re

# The prefix of every API token (settings.TOKEN_PREFIX; tests/unit/test_redaction.py holds them
# in step). Its first 12 characters are the token's public prefix, shown in lists and audit
# events, and stay in the log so that a line still says which token it was.
TOKEN_PREFIX = "reg_"
SHOWN = 12 - len(TOKEN_PREFIX)
REDACTED = "[redacted]"

# An API token: the prefix, then URL-safe base64. Atomic, and never just before [redacted]:
# redacting a line twice (a record that two handlers print) leaves it as it was.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])%s(?>([A-Za-z0-9_-]{0,%d})[A-Za-z0-9_-]*)(?!\[redacted\])"
                    % (re.escape(TOKEN_PREFIX), SHOWN))
# Credentials before the host of a URL: scheme://user:password@host.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@")
# An Authorization (or Proxy-Authorization) header's value, written as the header or alone (at
# least 8 characters: "use Basic or Bearer" is prose).
_AUTH_SCHEMES = ("basic", "bearer", "digest")
# A token in it is already cut to its prefix above ("Bearer reg_AbCdEfGh[redacted]") and stays so.
_AUTHORIZATION = re.compile(r"(?i)\b(basic|bearer|digest)(\s+)(?>[A-Za-z0-9._~+/=:-]{8,})(?!\[)")
# A query or form parameter named like a secret.
_SECRET_WORDS = ("token", "passw", "secret", "signature", "key", "credential")
_SECRET_PARAMETER = re.compile(
    r"(?i)\b([\w-]*?(?:token|password|passwd|secret|signature|api_?key|credential)s?=)[^&\s\"']+")


def redact(text):
    """`text` with every secret this module knows the shape of replaced by [redacted].

    Each pattern runs only when a plain substring test says the text may hold its shape: most
    log fields hold none, and the access log redacts the fields of every request."""
    if not text:
        return text
    if TOKEN_PREFIX in text:
        text = _TOKEN.sub(lambda m: f"{TOKEN_PREFIX}{m.group(1)}{REDACTED}", text)
    if "://" in text and "@" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    lowered = text.lower()
    if any(scheme in lowered for scheme in _AUTH_SCHEMES):
        text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    if "=" in text and any(word in lowered for word in _SECRET_WORDS):
        text = _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that redacts the whole rendered record: message, arguments and the
    traceback, which a handler's formatter would otherwise print as it is."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its message: keep it as it is
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
