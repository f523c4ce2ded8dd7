"""The simple repository API pages: PEP 503 HTML and PEP 691 JSON, with PEP 592 yanking,
PEP 658/714 metadata and PEP 700 fields. Plain Python: takes plain values, returns bytes."""

import json
from dataclasses import dataclass
from html import escape

API_VERSION = "1.1"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    sha256: str
    size: int
    upload_time: str  # ISO 8601 UTC with a trailing Z (PEP 700)
    requires_python: str | None
    # False, or the reason (possibly "") the release was yanked.
    yanked: bool | str
    metadata_sha256: str | None


def project_list_html(names):
    links = "\n".join(
        f'    <a href="{escape(normalized, quote=True)}/">{escape(name)}</a><br/>'
        for name, normalized in names
    )
    return _html_page("Simple index", links)


def project_list_json(names):
    return _json(
        {
            "meta": {"api-version": API_VERSION},
            "projects": [{"name": name} for name, _normalized in names],
        }
    )


def project_html(name, files):
    lines = []
    for f in files:
        attrs = [f'href="{escape(f.url, quote=True)}#sha256={f.sha256}"']
        if f.requires_python:
            # PEP 503: the value is HTML-escaped ("<" and ">" are common in specifiers).
            attrs.append(f'data-requires-python="{escape(f.requires_python, quote=True)}"')
        if f.yanked is not False:
            attrs.append(f'data-yanked="{escape(f.yanked or "", quote=True)}"')
        if f.metadata_sha256:
            # PEP 714 renamed the attribute; pip before 23.2 reads only the PEP 658 spelling,
            # which PEP 714 keeps allowed in HTML (the value is a string here, as pip expects).
            value = f"sha256={f.metadata_sha256}"
            attrs.append(f'data-dist-info-metadata="{value}"')
            attrs.append(f'data-core-metadata="{value}"')
        lines.append(f"    <a {' '.join(attrs)}>{escape(f.filename)}</a><br/>")
    return _html_page(f"Links for {escape(name)}", "\n".join(lines))


def project_json(name, versions, files):
    return _json(
        {
            "meta": {"api-version": API_VERSION},
            "name": name,
            "versions": versions,
            "files": [_file_json(f) for f in files],
        }
    )


def _file_json(f):
    metadata = {"sha256": f.metadata_sha256} if f.metadata_sha256 else False
    if f.yanked is False:
        yanked = False
    else:
        yanked = f.yanked or True
    return {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256},
        "requires-python": f.requires_python,
        "yanked": yanked,
        # Only the PEP 714 name: PEP 714 forbids "dist-info-metadata" in JSON, and pip 22.3 to
        # 23.1 (Debian 12 ships 23.0.1) crash on it ("unhashable type: 'dict'").
        "core-metadata": metadata,
        "size": f.size,
        "upload-time": f.upload_time,
    }


def _html_page(title, body):
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n"
        f"{body}\n  </body>\n</html>\n"
    ).encode()


def _json(value):
    return json.dumps(value, separators=(",", ":")).encode()
