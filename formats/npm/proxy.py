"""An npm proxy repository over HTTP: the upstream's packuments (full and abbreviated, each
cached by registry.proxy.documents under its own key) served with every `dist.tarball`
rewritten to this server, in the hosted shape (`<name>/-/<name>-<version>.tgz`), and tarballs
fetched on first request through registry.proxy.fetches, verified against the packument's
`dist.integrity` (sha512) and `dist.shasum` (sha1) before the last byte goes out or anything
is stored.

A tarball is fetched from the configured upstream's origin only: the packument names a tarball
URL, but a packument is the upstream's (or its uplinks') data, and the upstream's credentials
must not follow it to another host (Verdaccio PR #6223). A URL on another origin is replaced
by the npm registry layout under the upstream URL.

Each view gets (request, repository, …) from the core dispatcher, which has already checked
read access, exactly as for a hosted repository. Writes are refused: a proxy has no packages
of its own.
"""

import base64
import binascii
import copy
import json
from urllib.parse import quote

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import InvalidInput, InvalidPackage, MethodNotAllowed, NotFound, UpstreamFailed
from registry.proxy import client, documents, fetches
from registry.services import ingest as core_ingest

from . import render
from .ingest import file_path
from .parser import MAX_NAME_LENGTH, check_version, split_name
from .render import ABBREVIATED_TYPE, ABBREVIATED_FIELDS
from .views import JSON_TYPE

# What npm itself sends for an install (npm-registry-fetch): the abbreviated form, else full.
ABBREVIATED_ACCEPT = f"{ABBREVIATED_TYPE}; q=1.0, application/json; q=0.8, */*"
FULL_ACCEPT = "application/json"
TARBALL_TYPE = "application/octet-stream"
# Subresource Integrity algorithms the core's hasher computes, as its attribute names.
SRI_ALGORITHMS = ("sha512", "sha256", "sha1")
# Fields of a CouchDB document that are no client's business through a proxy.
DROPPED_DOCUMENT_FIELDS = ("_attachments",)
# Manifest fields not kept on the cached version's row: the rewritten dist, bulky texts.
DROPPED_MANIFEST_FIELDS = ("dist", "readme", "_attachments")


# --- names and keys -----------------------------------------------------------------------------


def check_name(name):
    """A name as npm may ask for it (legacy names with capitals too), safe to put in a URL;
    InvalidInput otherwise."""
    scope, bare = split_name(name)
    parts = [scope[1:], bare] if scope else [bare]
    if (len(name) > MAX_NAME_LENGTH or not all(parts)
            or any(p in (".", "..") or quote(p, safe="-_.!~*'()") != p for p in parts)):
        raise InvalidInput(f"Invalid package name {name!r}: not a name npm asks for.")
    return name


def escaped(name):
    """The name as npm sends it to a registry: `@scope%2fname` (npm-package-arg's escapedName)."""
    return quote(name, safe="@").replace("%2F", "%2f")


def document_key(name, abbreviated):
    return f"npm/{'abbreviated' if abbreviated else 'full'}/{name}"


def document_keys(name):
    return [document_key(name, True), document_key(name, False)]


# --- reading the upstream -----------------------------------------------------------------------


def packument_document(repository, name, abbreviated):
    """The upstream's packument of `name` (documents.Document), the form asked for."""
    return documents.get(
        repository, document_key(name, abbreviated), repository.upstream_url + escaped(name),
        accept=ABBREVIATED_ACCEPT if abbreviated else FULL_ACCEPT,
        parse=lambda body, content_type, _url: parse_packument(body, content_type, name, abbreviated),
    )


def parse_packument(body, content_type, name, abbreviated):
    """The upstream's packument, checked enough to serve it: an object for `name` with a
    `versions` object of manifests and a `dist-tags` object. An upstream that answers the
    abbreviated request with the full document gets it cut to the abbreviated shape."""
    try:
        document = json.loads(body)
        # Stored as JSON by the database: PostgreSQL's jsonb takes neither NUL nor lone surrogates.
        json.dumps(document, ensure_ascii=False).encode()
    except (UnicodeError, ValueError) as exc:
        raise documents.Unreadable(f"not valid JSON ({exc.__class__.__name__})") from None
    if b"\\u0000" in body and _holds_nul(document):
        raise documents.Unreadable("the document holds a NUL character")
    if not isinstance(document, dict):
        raise documents.Unreadable("a packument is a JSON object")
    if document.get("name") != name:
        raise documents.Unreadable(f"it is the packument of {document.get('name')!r}, not {name!r}")
    versions = document.get("versions", {})
    tags = document.get("dist-tags", {})
    if not isinstance(versions, dict) or not all(isinstance(m, dict) for m in versions.values()):
        raise documents.Unreadable("'versions' must be an object of manifests")
    if not isinstance(tags, dict):
        raise documents.Unreadable("'dist-tags' must be an object")
    for field in DROPPED_DOCUMENT_FIELDS:
        document.pop(field, None)
    # A version's key goes into the tarball URL we serve, and the core orders versions by
    # semver: a version that is not one (a few of npm's oldest packages) is left out.
    document["versions"] = {v: m for v, m in versions.items() if _is_semver(v)}
    if abbreviated and ABBREVIATED_TYPE not in content_type.lower():
        document = _abbreviate(document)
    return document


def _is_semver(version):
    try:
        check_version(version)
    except InvalidPackage:
        return False
    return True


def _holds_nul(value):
    """Whether a NUL is in any string or key of parsed JSON (the cheap test on the raw bytes
    also matches a README that writes "\\u0000" as text)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _abbreviate(document):
    """The abbreviated form of a full packument, as the npm registry documents it; `modified`
    is the upstream's own (time.modified), never the time we read it."""
    versions = {}
    for version, manifest in document["versions"].items():
        versions[version] = {f: manifest[f] for f in ABBREVIATED_FIELDS if f in manifest}
        if "dist" in manifest:
            versions[version]["dist"] = manifest["dist"]
    shape = {"name": document["name"], "dist-tags": document.get("dist-tags", {}),
             "versions": versions}
    modified = (document.get("time") or {}).get("modified") if isinstance(document.get("time"), dict) else None
    if isinstance(modified, str):
        shape["modified"] = modified
    return shape


# --- serving packuments -------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "PUT"])
def package(request, repository, name):
    if request.method == "PUT":
        refuse_write(request, repository)
    check_name(name)
    abbreviated = ABBREVIATED_TYPE in request.headers.get("Accept", "") and "write" not in request.GET
    document = packument_document(repository, name, abbreviated)
    content_type = ABBREVIATED_TYPE if abbreviated else JSON_TYPE
    base = _base(request, repository)
    response = pages.cached_page(
        request, repository, document.row, content_type, content_type,
        lambda: render.dumps(rewritten(document.content, name, base)))
    for header, value in documents.stale_headers(document).items():
        response[header] = value
    return response


def rewritten(content, name, base):
    """The upstream's packument with every tarball URL on this server (digests unchanged)."""
    document = copy.deepcopy(content)
    for version, manifest in document.get("versions", {}).items():
        dist = manifest.get("dist")
        if isinstance(dist, dict):
            dist["tarball"] = base + file_path(name, version)
    return document


@require_http_methods(["GET", "HEAD"])
def version_manifest(request, repository, name, spec):
    """`GET /<name>/<version>` or `/<name>/<dist-tag>`, from the full packument."""
    check_name(name)
    document = _existing(repository, name, abbreviated=False)
    content = document.content
    version = content.get("dist-tags", {}).get(spec, spec)
    manifest = content["versions"].get(version) if isinstance(version, str) else None
    if manifest is None:
        raise NotFound(f"Not found: version or tag {spec!r} of {name}.")
    rewritten_document = rewritten({"versions": {version: manifest}}, name, _base(request, repository))
    response = _json(rewritten_document["versions"][version])
    for header, value in documents.stale_headers(document).items():
        response[header] = value
    return response


@require_http_methods(["GET", "HEAD"])
def dist_tags(request, repository, name):
    check_name(name)
    document = _existing(repository, name, abbreviated=True)
    return _json(document.content.get("dist-tags", {}))


def _existing(repository, name, abbreviated):
    try:
        return packument_document(repository, name, abbreviated)
    except NotFound:
        raise NotFound(f"Not found: package {name!r} is not on the upstream.") from None


def _json(value):
    return JsonResponse(value, json_dumps_params={"ensure_ascii": False})


def _base(request, repository):
    return request.build_absolute_uri(f"/repository/{repository.name}/")


# --- tarballs -----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def tarball(request, repository, name, filename):
    check_name(name)
    path = f"{name}/-/{filename}"
    stored = files.find(repository, path)
    if stored is not None:
        return files.serve(request, repository, stored, TARBALL_TYPE)
    version = _version_of(name, filename)
    manifest = _manifest(repository, name, version, filename)
    dist = manifest.get("dist") if isinstance(manifest.get("dist"), dict) else {}
    url = upstream_tarball_url(repository.upstream_url, name, version, dist.get("tarball"))
    return fetches.serve(request, repository, fetches.Wanted(
        path=path, url=url, digests=digests_of(dist), filename=filename,
        content_type=TARBALL_TYPE, store=_store(name, version, path, filename, url, manifest),
    ))


def _version_of(name, filename):
    """The version a tarball name of the hosted shape (`<bare name>-<version>.tgz`) is of."""
    prefix = split_name(name)[1] + "-"
    if not (filename.startswith(prefix) and filename.endswith(".tgz")) or len(filename) <= len(prefix) + 4:
        raise NotFound(f"Not found: {filename} is not a tarball name of {name}.")
    version = filename[len(prefix):-len(".tgz")]
    try:
        return check_version(version)
    except InvalidPackage:
        # The core orders versions by semver; npm's oldest packages have looser versions.
        raise NotFound(f"Not found: {filename} is not a tarball of a semantic version of {name}; "
                       "this proxy caches those only.") from None


def _manifest(repository, name, version, filename):
    """The version's manifest, from a packument already cached when it lists the version
    (versions are immutable on npm registries), else from the upstream's current one."""
    for abbreviated in (True, False):
        cached = documents.cached(repository, document_key(name, abbreviated))
        if cached is not None and isinstance(cached.content["versions"].get(version), dict):
            return cached.content["versions"][version]
    try:
        manifest = packument_document(repository, name, abbreviated=True).content["versions"].get(version)
    except NotFound:
        manifest = None
    if not isinstance(manifest, dict):
        raise NotFound(f"Not found: {filename} is not in the upstream's packument of {name}.")
    return manifest


def upstream_tarball_url(upstream_url, name, version, named):
    """Where the upstream has the tarball: the packument's URL when it is on the upstream's own
    origin, else the npm registry layout under the upstream URL. Never another host."""
    if isinstance(named, str) and client.origin(named) == client.origin(upstream_url):
        return named
    return upstream_url + quote(file_path(name, version), safe="@/")


def digests_of(dist):
    """{algorithm: hex} from `integrity` (Subresource Integrity, base64) and `shasum` (sha1 hex);
    the core refuses to serve a file with none."""
    found = {}
    integrity = dist.get("integrity")
    if isinstance(integrity, str):
        for token in integrity.split():
            algorithm, _, value = token.partition("-")
            if algorithm in SRI_ALGORITHMS and algorithm not in found:
                try:
                    found[algorithm] = base64.b64decode(value.split("?")[0], validate=True).hex()
                except (binascii.Error, ValueError):
                    continue
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and len(shasum) == 40:
        if found.setdefault("sha1", shasum.lower()) != shasum.lower():
            found["sha1"] = ""  # two different sha1 claims: nothing to trust
    if found.get("sha1") == "":
        raise UpstreamFailed("The upstream's packument gives two different sha1 digests; not served.")
    return found


def _store(name, version, path, filename, url, manifest):
    kept = {k: v for k, v in manifest.items() if k not in DROPPED_MANIFEST_FIELDS}

    def store(repository, actor, spooled):
        return core_ingest.store(repository, actor, core_ingest.NewFile(
            package_name=name, version=version, path=path, filename=filename, spooled=spooled,
            version_metadata=kept, action="file.cache", detail={"cached_from": url},
        ))
    return store


# --- writes -------------------------------------------------------------------------------------


def refuse_write(request, repository, **_kwargs):
    raise MethodNotAllowed(
        f"{repository.name} is a proxy of {repository.upstream_url}: it takes no publish, "
        "dist-tag, deprecate or unpublish. Publish to a hosted npm repository.")


@require_http_methods(["GET", "HEAD", "PUT", "POST", "DELETE"])
def dist_tag(request, repository, name, tag):
    if request.method in ("GET", "HEAD"):
        raise NotFound("Not found: read the dist-tags at /-/package/<name>/dist-tags.")
    refuse_write(request, repository)
