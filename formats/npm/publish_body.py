"""The body of `npm publish`: a JSON document whose `_attachments` hold the tarball as one
base64 string. The body is spooled to disk first; this module takes the document apart without
ever holding the tarball (or its base64) in memory.

The base64 alphabet has no quote or backslash, so the attachment's data is one run of bytes
between two quotes. It is found by its key, cut out, and the rest of the document (now small)
is parsed as JSON; that parse must show an empty string exactly where the data was, which proves
the cut was the attachment's data and nothing else. The data is then decoded chunk by chunk into
a file of its own.
"""

import binascii
import mmap
import re

from registry.errors import InvalidPackage

from .parser import json_object

# `"data"` then `:` then the opening quote of a base64 run and its closing quote.
DATA_RE = re.compile(rb'"data"\s*:\s*"([A-Za-z0-9+/=]*)"')
DECODE_CHUNK = 4 * 1024 * 1024  # a multiple of 4: base64 decodes in whole quanta
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # the document without its attachment


def split(path, out):
    """Read the publish body at `path`; write the attachment's bytes to the open binary file
    `out`. Returns (document without the data, attachment filename)."""
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            raise InvalidPackage("Empty request body: send the package document as JSON.")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as body:
            span = _largest_data_span(body) if body.find(b'"_attachments"') != -1 else None
            if span is None:
                document = _parse(body[:MAX_DOCUMENT_BYTES + 1])
                return document, None
            start, end = span
            if size - (end - start) > MAX_DOCUMENT_BYTES:
                raise InvalidPackage("The package document is too large.")
            document = _parse(body[:start] + body[end:])
            filename = _attachment_at_cut(document)
            _decode_into(body, start, end, out)
    return document, filename


def _largest_data_span(body):
    """The start and end of the longest base64 run that is the value of a "data" key."""
    best = None
    for match in DATA_RE.finditer(body):
        if best is None or match.end(1) - match.start(1) > best[1] - best[0]:
            best = (match.start(1), match.end(1))
    return best


def _parse(raw):
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InvalidPackage("The package document is too large.")
    return json_object(raw, "The request body (the package document)")


def _attachment_at_cut(document):
    attachments = document.get("_attachments")
    if not isinstance(attachments, dict):
        raise InvalidPackage("The package document has no _attachments object.")
    holding_cut = [
        name for name, value in attachments.items()
        if isinstance(value, dict) and value.get("data") == ""
    ]
    if len(holding_cut) != 1:
        raise InvalidPackage("Could not read the tarball from _attachments.")
    return holding_cut[0]


def _decode_into(body, start, end, out):
    position = start
    try:
        while position < end:
            stop = min(position + DECODE_CHUNK, end)
            out.write(binascii.a2b_base64(body[position:stop], strict_mode=True))
            position = stop
    except binascii.Error as exc:
        raise InvalidPackage(f"The tarball in _attachments is not valid base64: {exc}") from None
