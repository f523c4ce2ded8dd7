"""Secrets out of log lines: the shapes registry.redaction knows, and that every handler the
settings configure applies it. The live server's logs are checked in
tests/e2e/test_logs_and_throttling_live.py."""

import logging

import pytest
from django.conf import settings

from registry.redaction import TOKEN_PREFIX, RedactingFilter, redact

SECRET = "reg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"


def test_the_token_prefix_is_the_settings_one():
    assert TOKEN_PREFIX == settings.TOKEN_PREFIX


@pytest.mark.parametrize("line, kept", [
    # npm logout: the token is the last part of the path; its public prefix stays.
    (f'127.0.0.1 - - "DELETE /repository/npm/-/user/token/{SECRET} HTTP/1.1" 200',
     '"DELETE /repository/npm/-/user/token/reg_AbCdEfGh[redacted] HTTP/1.1" 200'),
    (f"Not Found: /repository/npm/-/user/token/{SECRET}", "Not Found: /repository/npm/-/user/token/reg_AbCdEfGh[redacted]"),
    (f"GET /simple/?token={SECRET}&page=2", "GET /simple/?token=[redacted]&page=2"),
    ("GET /x?password=hunter2&api_key=k1&next=/", "GET /x?password=[redacted]&api_key=[redacted]&next=/"),
    ("https://alice:hunter2@upstream.example/simple/", "https://[redacted]@upstream.example/simple/"),
    ("Authorization: Basic X190b2tlbl9fOnNlY3JldA==", "Authorization: Basic [redacted]"),
    ("Bearer abcdefghijklmnop", "Bearer [redacted]"),
    ("//registry.example/:_authToken=abcdef123", "//registry.example/:_authToken=[redacted]"),
    ("X-Amz-Signature=0a1b2c&X-Amz-Credential=AKIA%2F20260101", "X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]"),
])
def test_secrets_are_redacted_and_the_rest_kept(line, kept):
    assert kept in redact(line)
    assert "hunter2" not in redact(line) and SECRET not in redact(line)
    assert redact(redact(line)) == redact(line)  # two handlers printing one record


@pytest.mark.parametrize("line", [
    "Unsupported authorization scheme 'digest'; use Basic or Bearer",
    'WWW-Authenticate: Basic realm="registry"',
    "GET /api/v1/tokens/?limit=50 HTTP/1.1",
    "preg_replace and register_x",
    "https://upstream.example/simple/",
])
def test_ordinary_text_is_left_alone(line):
    assert redact(line) == line


def test_the_filter_redacts_message_arguments_and_traceback():
    try:
        raise ValueError(f"bad token {SECRET}")
    except ValueError:
        record = logging.getLogger("test").makeRecord(
            "test", logging.ERROR, __file__, 1, "Not Found: %s", (f"/-/user/token/{SECRET}",),
            exc_info=__import__("sys").exc_info())
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert SECRET not in formatted
    assert "Not Found: /-/user/token/reg_AbCdEfGh[redacted]" in formatted
    assert "ValueError: bad token reg_AbCdEfGh[redacted]" in formatted


def test_every_configured_handler_redacts():
    root_handlers = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert root_handlers
    for handler in root_handlers:
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    # Django's own handlers (which would print unfiltered) are not on its loggers (pytest's are).
    for name in ("django", "django.request", "django.server"):
        handlers = logging.getLogger(name).handlers
        assert [h for h in handlers if not type(h).__module__.startswith("_pytest")] == []


def test_gunicorn_access_log_fields_are_redacted_even_in_a_custom_format():
    import datetime

    from gunicorn.config import Config

    from registry.gunicorn_conf import RedactingLogger

    config = Config()
    config.set("access_log_format", config.access_log_format + ' "%({Authorization}i)s"')
    logger = RedactingLogger(config)

    class Response:
        status, headers, sent = "200 OK", [], 12

    class Request:
        headers = [("AUTHORIZATION", f"Bearer {SECRET}")]

    environ = {"REQUEST_METHOD": "DELETE", "RAW_URI": f"/-/user/token/{SECRET}", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "192.0.2.1", "HTTP_REFERER": "https://bob:hunter2@elsewhere.example/",
               "HTTP_AUTHORIZATION": "Basic " + "X190b2tlbl9fOnJlZ19h" * 3}
    atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(milliseconds=5))
    line = config.access_log_format % logger.atoms_wrapper_class(atoms)
    assert SECRET not in line and "hunter2" not in line
    assert '"DELETE /-/user/token/reg_AbCdEfGh[redacted] HTTP/1.1" 200 12 "https://[redacted]@elsewhere.example/"' in line
    assert line.endswith('"Bearer reg_AbCdEfGh[redacted]"')
