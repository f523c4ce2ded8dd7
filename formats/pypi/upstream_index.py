"""An upstream's simple index read into plain values: PEP 691 JSON or PEP 503 HTML (the standard
library's html.parser), keeping what PEP 592/658/700/714 add (yanked, requires-python,
core-metadata hash, size, upload-time). Plain Python: the proxy's views store the result and
render it with our own URLs.

Only files with a sha256 are kept (the proxy verifies every file against it), and only file
names that are one safe path segment (they are echoed into our URLs and pages).
"""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
# What the proxy asks the upstream for: JSON when it has it, else HTML.
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
UPLOAD_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class UnreadableIndex(ValueError):
    pass


def parse_project(body, content_type, base_url):
    """{"name", "versions", "files": [{filename, url (absolute), sha256, requires_python, yanked,
    metadata_sha256, size, upload_time}]} from an upstream project page."""
    if _is_json(content_type):
        return _project_from_json(_load_json(body), base_url)
    return _project_from_html(_text(body), base_url)


def parse_project_list(body, content_type):
    """{"projects": [name, …]} from an upstream's index root."""
    if _is_json(content_type):
        data = _load_json(body)
        projects = data.get("projects") if isinstance(data, dict) else None
        if not isinstance(projects, list):
            raise UnreadableIndex("the JSON index has no list of projects")
        names = [p.get("name") for p in projects if isinstance(p, dict)]
    else:
        parser = _Links()
        parser.feed(_text(body))
        names = [text for _attrs, text in parser.links]
    return {"projects": sorted({n.strip() for n in names if isinstance(n, str) and _safe_name(n)},
                               key=canonicalize_name)}


def _is_json(content_type):
    return content_type.split(";")[0].strip().lower() in (JSON_TYPE, "application/json")


def _load_json(body):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableIndex(f"not valid JSON ({exc})") from None


def _text(body):
    return body.decode("utf-8", "replace")


def _safe_name(name):
    return bool(re.match(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", name.strip()))


def _project_from_json(data, base_url):
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise UnreadableIndex("the JSON project page has no list of files")
    files = []
    for entry in data["files"]:
        if not isinstance(entry, dict):
            continue
        hashes = entry.get("hashes") if isinstance(entry.get("hashes"), dict) else {}
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        files.append(_file(
            filename=entry.get("filename"), href=entry.get("url"), base_url=base_url,
            sha256=hashes.get("sha256"),
            requires_python=entry.get("requires-python"),
            yanked=entry.get("yanked", False),
            metadata_sha256=metadata.get("sha256") if isinstance(metadata, dict) else None,
            size=entry.get("size"), upload_time=entry.get("upload-time"),
        ))
    versions = data.get("versions") if isinstance(data.get("versions"), list) else None
    return _project(data.get("name"), versions, files)


def _project_from_html(text, base_url):
    parser = _Links()
    parser.feed(text)
    base = urljoin(base_url, parser.base) if parser.base else base_url
    files = []
    for attrs, anchor_text in parser.links:
        href = attrs.get("href") or ""
        _url, fragment = urldefrag(href)
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        yanked = attrs["data-yanked"] if "data-yanked" in attrs else False
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata")) or ""
        files.append(_file(
            filename=anchor_text.strip() or _url.rsplit("/", 1)[-1], href=href, base_url=base,
            sha256=sha256, requires_python=attrs.get("data-requires-python"), yanked=yanked,
            metadata_sha256=metadata.removeprefix("sha256=") if metadata.startswith("sha256=") else None,
            size=None, upload_time=None,
        ))
    return _project(None, None, files)


def _file(*, filename, href, base_url, sha256, requires_python, yanked, metadata_sha256, size,
          upload_time):
    if not isinstance(filename, str) or not SAFE_FILENAME.match(filename):
        return None
    if not isinstance(href, str) or not isinstance(sha256, str) or not SHA256.match(sha256):
        return None  # nothing to verify it against: not offered
    url, _fragment = urldefrag(urljoin(base_url, href))
    if not url.startswith(("http://", "https://")):
        return None
    if yanked is True:
        yanked = ""
    elif not isinstance(yanked, str):
        yanked = False
    return {
        "filename": filename,
        "url": url,
        "sha256": sha256.lower(),
        "requires_python": requires_python if isinstance(requires_python, str) and requires_python else None,
        "yanked": yanked,
        "metadata_sha256": metadata_sha256.lower() if isinstance(metadata_sha256, str)
        and SHA256.match(metadata_sha256) else None,
        "size": size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        "upload_time": upload_time if isinstance(upload_time, str) and UPLOAD_TIME.match(upload_time) else None,
    }


def _project(name, versions, files):
    kept = [f for f in files if f is not None]
    return {
        "name": name if isinstance(name, str) and _safe_name(name) else None,
        "versions": [v for v in versions if isinstance(v, str)] if versions is not None else None,
        "files": kept,
    }


class _Links(HTMLParser):
    """Every <a> (its attributes and text) and the <base href> of a PEP 503 page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.base = None
        self._open = None

    def handle_starttag(self, tag, attrs):
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._open = ({name: value if value is not None else "" for name, value in attrs}, [])

    def handle_data(self, data):
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            attrs, text = self._open
            self.links.append((attrs, "".join(text)))
            self._open = None


def versions_of(files):
    """The versions the files belong to, in PEP 440 order (for a page that did not list them)."""
    found = set()
    for entry in files:
        name = entry["filename"]
        try:
            if name.endswith(".whl"):
                found.add(parse_wheel_filename(name)[1])
            else:
                found.add(parse_sdist_filename(name)[1])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return [str(v) for v in sorted(found)]
