"""Uploads sent with Transfer-Encoding: chunked and no Content-Length (uv publish before 0.5),
through the WSGI application gunicorn serves (registry.wsgi: ChunkedBodies over Django)."""

import io
import sys
from contextlib import contextmanager

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from registry.chunked_body import ChunkedBodies, body_limit
from registry.models import PackageFile
from tests.fixtures.dists import build_wheel

from .pypi_helpers import twine_form


@contextmanager
def connection_kept_open():
    # As Django's test client does: neither the start nor the end of a request may close the
    # test's connection (its transaction holds the test's rows; on PostgreSQL a connection in a
    # transaction looks obsolete to close_old_connections and is closed).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(application, body, persona, *, terminated=True):
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/repository/private-py/", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": terminated,
        "HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_TYPE": MULTIPART_CONTENT,
        "HTTP_HOST": "testserver", **persona.auth,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    with connection_kept_open():
        response = application(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            response.close()
    return answer["status"], content


def twine_body(path):
    form = twine_form(path)
    form["content"] = open(path, "rb")
    try:
        return encode_multipart(BOUNDARY, form)
    finally:
        form["content"].close()


def test_a_chunked_upload_is_read_whole(personas, tmp_path):
    wheel = build_wheel(tmp_path, "chunky", "1.0")
    status, content = call(ChunkedBodies(WSGIHandler()), twine_body(wheel), personas["writer"])
    assert status.startswith("200"), (status, content)
    stored = PackageFile.objects.get(repository__name="private-py")
    assert stored.path.endswith(wheel.name)
    # Without the middleware Django reads no body at all: the upload has no file.
    wheel2 = build_wheel(tmp_path, "chunky", "2.0")
    status, content = call(WSGIHandler(), twine_body(wheel2), personas["writer"])
    assert status.startswith("400") and b"does not have a file" in content, (status, content)


def test_a_chunked_body_over_the_limit_is_refused_unread(personas, settings):
    settings.MAX_UPLOAD_SIZE = 100
    body = b"x" * (body_limit() + 1)
    status, content = call(ChunkedBodies(WSGIHandler()), body, personas["writer"])
    assert status.startswith("413"), (status, content)
    assert not PackageFile.objects.exists()


def test_without_a_terminated_input_the_request_is_left_alone():
    seen = {}

    def application(environ, start_response):
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"abc")}
    ChunkedBodies(application)(environ, lambda *args: None)
    assert "CONTENT_LENGTH" not in seen and seen["wsgi.input"].read() == b"abc"
