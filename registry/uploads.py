"""Multipart uploads that refuse, rather than silently rewrite, a dangerous file name, and
stop as soon as the body passes MAX_UPLOAD_SIZE."""

import html
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from registry import plugins
from registry.errors import InvalidPackage, MethodNotAllowed, TooLarge
from registry.models import Repository
from registry.plugins import UploadedFile
from storage.hashing import UploadTooLarge, spool, spooled_from_upload

# Form fields besides the file: what twine sends is a few kilobytes plus the description.
SLACK = 16 * 1024 * 1024


class StrictMultiPartParser(MultiPartParser):
    def sanitize_file_name(self, file_name):
        original = html.unescape(file_name)
        sanitized = super().sanitize_file_name(file_name)
        if sanitized != original:
            # Django would quietly keep only the last path component; a client that sent a
            # path or control characters should learn its upload was refused.
            raise InvalidPackage(
                f"Invalid file name {original!r}: path separators and control characters "
                "are not allowed."
            )
        return sanitized


def check_declared_length(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.MAX_UPLOAD_SIZE + SLACK:
        raise TooLarge(f"Upload exceeds the limit of {settings.MAX_UPLOAD_SIZE} bytes")


def parse_multipart(request):
    """(POST, FILES) of a multipart request; RegistryErrors for what a client got wrong."""
    check_declared_length(request)
    if not request.content_type.startswith("multipart/form-data"):
        raise InvalidPackage("Send the upload as multipart/form-data.")
    with translate_upload_errors():
        parser = StrictMultiPartParser(
            request.META, request, request.upload_handlers, request.encoding
        )
        return parser.parse()


@contextmanager
def translate_upload_errors():
    try:
        yield
    except UploadTooLarge as exc:
        raise TooLarge(str(exc)) from None
    except RequestDataTooBig:
        raise TooLarge("The form fields of the upload are too large") from None
    except MultiPartParserError as exc:
        raise InvalidPackage(f"Malformed multipart upload: {exc}") from None


def spool_body(request, label, limit=None, shown_limit=None):
    """The raw request body (a PUT of one file) spooled to disk and hashed, refused with 413 as
    soon as it passes `limit` (default MAX_UPLOAD_SIZE) — up front when Content-Length says so.
    `shown_limit` is the limit named in the message when the body is an encoding of the file."""
    limit = limit or settings.MAX_UPLOAD_SIZE
    message = f"{label} is larger than the limit of {shown_limit or limit} bytes"
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(message)
    try:
        return spool(request, limit)
    except UploadTooLarge:
        raise TooLarge(message) from None


def ingest_form(repository, actor, files, fields):
    """A multipart upload (the file in the field `file`, `fields` for the format) read by the
    repository format's own ingest: (PackageFile, created). The REST API and the web page's
    upload both come through here."""
    if repository.kind == Repository.Kind.PROXY:
        raise MethodNotAllowed(f"{repository.name} is a proxy of {repository.upstream_url}: it "
                               "takes no uploads. Upload to a hosted repository.")
    received = files.get("file")
    if received is None:
        raise InvalidPackage("Send the package as the multipart field 'file'.", field="file")
    return plugins.get(repository.format).ingest(
        repository, actor, UploadedFile(received.name, spooled_from_upload(received), fields))
