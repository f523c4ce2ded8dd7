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

_PATTERNS = [
    # An API token: the prefix, then URL-safe base64. Atomic, and never just before [redacted]:
    # redacting a line twice (a record that two handlers print) leaves it as it was.
    (re.compile(r"(?<![A-Za-z0-9])%s(?>([A-Za-z0-9_-]{0,%d})[A-Za-z0-9_-]*)(?!\[redacted\])"
                % (re.escape(TOKEN_PREFIX), SHOWN)),
     lambda m: f"{TOKEN_PREFIX}{m.group(1)}{REDACTED}"),
    # Credentials before the host of a URL: scheme://user:password@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@"),
     lambda m: f"{m.group(1)}{REDACTED}@"),
    # An Authorization (or Proxy-Authorization) header's value, written as the header or alone
    # (at least 8 characters: "use Basic or Bearer" is prose).
    (re.compile(r"(?i)\b(basic|bearer|digest)(\s+)[A-Za-z0-9._~+/=:-]{8,}"),
     lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}"),
    # A query or form parameter named like a secret.
    (re.compile(r"(?i)\b([\w-]*?(?:token|password|passwd|secret|signature|api_?key|credential)s?=)"
                r"[^&\s\"']+"),
     lambda m: f"{m.group(1)}{REDACTED}"),
]


def redact(text):
    """`text` with every secret this module knows the shape of replaced by [redacted]."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
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
