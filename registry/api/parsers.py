from django.conf import settings
from rest_framework.parsers import DataAndFiles, MultiPartParser

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
