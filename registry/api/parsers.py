from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from registry import bounded_json
from registry.errors import RegistryError
from registry.uploads import StrictMultiPartParser as DjangoStrictParser
from registry.uploads import check_declared_length, translate_upload_errors


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser on registry.uploads' rules: dangerous file names refused,
    the size limit enforced while streaming."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        check_declared_length(request)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        with translate_upload_errors():
            data, files = DjangoStrictParser(meta, stream, request.upload_handlers, encoding).parse()
        return DataAndFiles(data, files)


class JSONParser(parsers.JSONParser):
    """JSON bodies through registry.bounded_json: too deep, NaN, NUL… → 400 with a message.
    (DRF reads the body through Django's request.body: DATA_UPLOAD_MAX_MEMORY_SIZE bounds it.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return bounded_json.loads(stream.read())
        except RegistryError as exc:
            raise ParseError(exc.message) from None


class FormParser(parsers.FormParser):
    """URL-encoded forms with NUL characters refused (no database column holds them)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = QueryDict(stream.read(), encoding=encoding)
        except TooManyFieldsSent as exc:
            raise ParseError(str(exc)) from None
        for key, values in data.lists():
            if any(bounded_json.UNSTORABLE.search(text) for text in (key, *values)):
                raise ParseError("The form contains a NUL character or an unpaired surrogate.")
        return data
