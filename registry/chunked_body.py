"""Request bodies sent with `Transfer-Encoding: chunked` and no Content-Length, made readable
for Django, which reads only CONTENT_LENGTH bytes of `wsgi.input` (none when it is missing).

uv publish before 0.5 sends its uploads this way; Django alone would see an empty form and the
upload would be refused as having no file. Behind nginx (which buffers the body and sends a
Content-Length) this never arises; served by gunicorn directly (`make run`) it does. The body is
spooled to FILE_UPLOAD_TEMP_DIR as it arrives (memory stays flat) and handed on with its length.
A body past the limit is not read further: the request goes on with a Content-Length above the
limit and no body, so the view refuses it with its usual 413.
"""

import io
import tempfile

from django.conf import settings

CHUNK = 64 * 1024
IN_MEMORY = 1024 * 1024
# Above every endpoint's own limit: npm's publish body carries the tarball in base64 (4/3 of
# the file) with its JSON around it; each endpoint still checks its own limit.
SLACK = 16 * 1024 * 1024


def body_limit():
    return settings.MAX_UPLOAD_SIZE * 2 + SLACK


class ChunkedBodies:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not _chunked_without_length(environ):
            return self.application(environ, start_response)
        spooled = _spool(environ, body_limit())
        try:
            response = self.application(environ, start_response)
        except BaseException:
            spooled.close()
            raise
        return _ClosingResponse(response, spooled)


def _chunked_without_length(environ):
    return (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        and not environ.get("CONTENT_LENGTH")
        # PEP 3333's extension: the server ends wsgi.input where the body ends, so reading to
        # the end is safe (gunicorn sets it). Without it, leave the request as it is.
        and environ.get("wsgi.input_terminated")
    )


def _spool(environ, limit):
    """Read the body into a spooled file and point the environ at it; over `limit`, stop and
    declare a length above it with no body."""
    spooled = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY, dir=settings.FILE_UPLOAD_TEMP_DIR)
    received = 0
    stream = environ["wsgi.input"]
    while chunk := stream.read(CHUNK):
        received += len(chunk)
        if received > limit:
            spooled.close()
            environ["CONTENT_LENGTH"] = str(received)
            environ["wsgi.input"] = io.BytesIO()
            return io.BytesIO()
        spooled.write(chunk)
    spooled.seek(0)
    environ["CONTENT_LENGTH"] = str(received)
    environ["wsgi.input"] = spooled
    return spooled


class _ClosingResponse:
    """The application's response, closing the spooled body after it (PEP 3333 close())."""

    def __init__(self, response, spooled):
        self.response = response
        self.spooled = spooled

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.spooled.close()
