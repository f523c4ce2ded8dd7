"""Send a blob to a client by the fastest path the settings allow.

- direct: a FileResponse over the open file, which gunicorn sends with sendfile(2) through
  the WSGI file wrapper (local storage), or streamed from the storage (S3);
- x-accel: an empty response with X-Accel-Redirect, nginx sends the bytes;
- redirect: 302 to a presigned S3 URL.
HEAD, Range (one range) and conditional requests are answered here.
"""

import re
from urllib.parse import urlsplit
from email.utils import formatdate

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import parse_http_date_safe, quote_etag

from . import blobs

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
IMMUTABLE = "public, max-age=31536000, immutable"


def serve_blob(request, *, key, size, sha256, filename, content_type, last_modified=None,
               cache_control=IMMUTABLE):
    """Answer GET/HEAD for stored bytes. `last_modified` is a datetime or None."""
    etag = quote_etag(sha256)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "Content-Disposition": _attachment(filename),
    }
    if last_modified is not None:
        headers["Last-Modified"] = formatdate(last_modified.timestamp(), usegmt=True)

    if _not_modified(request, etag, last_modified):
        # The file's Content-Type, not Django's text/html: caches merge a 304's headers into
        # the answer they keep (RFC 9111 4.3.4).
        response = HttpResponse(status=304, content_type=content_type)
        for name in ("ETag", "Cache-Control", "Last-Modified"):
            if name in headers:
                response[name] = headers[name]
        return response

    start, end = 0, size - 1
    status = 200
    byte_range = _parse_range(request, size, etag, last_modified)
    if byte_range == "unsatisfiable":
        response = HttpResponse(status=416, content=b"Requested range not satisfiable")
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is not None:
        start, end = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = end - start + 1 if size else 0

    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
        _apply(response, headers)
        response["Content-Length"] = str(length)
        return response

    mode = settings.SERVE_MODE
    if mode == "redirect" and status == 200:
        return HttpResponseRedirect(_presigned(key, headers["Content-Disposition"], content_type))
    if mode == "x-accel":
        response = HttpResponse(status=status, content_type=content_type)
        _apply(response, headers)
        # nginx answers Range itself from the internal location; pass the full object.
        response["X-Accel-Redirect"] = _accel_target(key, headers["Content-Disposition"], content_type)
        return response

    handle = blobs.open_blob(key)
    if status == 206:
        handle.seek(start)
        if end == size - 1 and blobs.is_local():
            # To the end of the file: sendfile still applies from the current offset.
            response = FileResponse(handle, status=206, content_type=content_type)
        else:
            response = StreamingHttpResponse(
                _read_span(handle, length), status=206, content_type=content_type
            )
    else:
        response = FileResponse(handle, content_type=content_type)
    _apply(response, headers)
    response["Content-Length"] = str(length)
    return response


def _presigned(key, disposition, content_type):
    return blobs.blob_storage().url(key, parameters={"ResponseContentDisposition": disposition,
                                                     "ResponseContentType": content_type})


def _accel_target(key, disposition, content_type):
    """Where nginx fetches the bytes from: the blob's path under BLOB_ROOT (local storage), or
    the path and query of a presigned S3 URL, which nginx's internal location proxies to the S3
    endpoint (so the bucket never has to be reachable by clients)."""
    prefix = settings.X_ACCEL_PREFIX.rstrip("/")
    if blobs.is_local():
        return f"{prefix}/{key}"
    presigned = urlsplit(_presigned(key, disposition, content_type))
    return f"{prefix}{presigned.path}?{presigned.query}"


def _apply(response, headers):
    for name, value in headers.items():
        response[name] = value


def _attachment(filename):
    safe = filename.replace("\\", "_").replace('"', "_")
    return f'attachment; filename="{safe}"'


def _not_modified(request, etag, last_modified):
    if request.method not in ("GET", "HEAD"):
        return False
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in candidates or etag in candidates
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since and last_modified is not None:
        since = parse_http_date_safe(if_modified_since)
        return since is not None and int(last_modified.timestamp()) <= since
    return False


def _parse_range(request, size, etag, last_modified):
    header = request.headers.get("Range")
    if not header or request.method not in ("GET", "HEAD"):
        return None
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip() != etag:
        return None  # the client's copy is another version: send it all
    match = RANGE_RE.match(header.strip())
    if not match or size == 0:
        return None  # several ranges or a malformed header: the whole file is a valid answer
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _read_span(handle, length, chunk_size=256 * 1024):
    try:
        while length > 0:
            chunk = handle.read(min(chunk_size, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
