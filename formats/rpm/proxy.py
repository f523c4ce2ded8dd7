"""An RPM proxy repository over HTTP: the upstream's repodata/ and packages passed through as
the upstream signed them, so dnf keeps trusting the upstream's key (nothing is re-signed here).

- repodata/repomd.xml (with its repomd.xml.asc) is a document of registry.proxy.documents:
  kept metadata_max_age, revalidated, served stale when the upstream is down. With an upstream
  public key configured, repomd.xml.asc is verified with gpg before repomd.xml is cached; a
  repomd.xml it does not verify is refused (502) and nothing of it is kept.
- The other files of repodata/ are served only when the repomd.xml served now names them:
  fetched once, checked against repomd's checksum, kept as blobs (they are named by their
  checksum, so immutable).
- A package is served only at a location the current primary names, fetched once through
  registry.proxy.fetches (single-flight) and checked against primary's checksum and size.
- key.asc (and repodata/repomd.xml.key) is the configured upstream key; the .repo file points
  dnf at this proxy with that key.

Each view gets (request, repository, …) from the core dispatcher, which has already checked
read access, exactly as for a hosted repository.
"""

import logging
import os
import tempfile
from urllib.parse import urljoin

import createrepo_c as cr
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import MethodNotAllowed, NotFound, UpstreamFailed
from registry.proxy import client, configuration, documents, fetches
from signing import gpgv
from signing.gpg import SigningError
from storage import blobs
from storage.serving import serve_blob

from . import ingest, render
from .views import RPM_CONTENT_TYPE, _metadata_type, _request_credentials

logger = logging.getLogger(__name__)

REPOMD = "repodata/repomd.xml"
REPOMD_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.1"
# repomd's checksum types, as the names of storage.hashing's digests.
CHECKSUM_NAMES = {"sha": "sha1", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512",
                  "md5": "md5"}
MAX_SIGNATURE = 64 * 1024


def refuse(request, repository, **_kwargs):
    raise MethodNotAllowed(
        f"{repository.name} is a proxy of {repository.upstream_url}: it takes no uploads. "
        "Upload to a hosted repository.")


def document_keys(_name):
    """A proxy's one index document is repomd.xml: invalidating any package renews it."""
    return [REPOMD]


# --- key and .repo file ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def public_key(request, repository):
    armored = configuration.upstream_of(repository).public_key
    if not armored:
        raise NotFound("This proxy has no upstream public key configured.")
    return HttpResponse(armored, content_type="application/pgp-keys")


@require_http_methods(["GET", "HEAD"])
def repo_file(request, repository, name):
    if name != repository.name:
        raise NotFound(f"Not found: {name}.repo (this repository's is {repository.name}.repo)")
    credentials = None
    if not repository.is_public:
        credentials = _request_credentials(request) or ("__token__", "YOUR_READ_TOKEN")
    has_key = bool(configuration.upstream_of(repository).public_key)
    text = render.repo_file(
        repository=repository.name,
        base_url=request.build_absolute_uri(f"/repository/{repository.name}/"),
        description=(repository.description.splitlines() or [""])[0].strip(),
        # repomd.xml is signed and carries every package's checksum; whether the upstream also
        # signs each package is its own choice (the page says to set gpgcheck=1 if it does).
        gpgcheck=False,
        repo_gpgcheck=has_key,
        gpgkey=has_key,
        credentials=credentials,
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    if credentials is not None:
        response["Cache-Control"] = "private, no-store"
    return response


# --- repodata ---------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def repomd(request, repository):
    document = _repomd(repository)
    body = document.content["xml"].encode()
    response = pages.cached_page(request, repository, document.row, "repomd", "application/xml",
                                 lambda: body)
    return _stale(response, document)


@require_http_methods(["GET", "HEAD"])
def repomd_signature(request, repository):
    document = _repomd(repository)
    if not document.content.get("asc"):
        raise NotFound("Not found: the upstream has no repodata/repomd.xml.asc")
    body = document.content["asc"].encode()
    response = pages.cached_page(request, repository, document.row, "repomd.asc",
                                 "application/pgp-signature", lambda: body)
    return _stale(response, document)


@require_http_methods(["GET", "HEAD"])
def data_file(request, repository, name):
    document = _repomd(repository)
    blob = _data_blob(repository, document, name)
    return serve_blob(request, key=blob.storage_key, size=blob.size, sha256=blob.sha256,
                      filename=name, content_type=_metadata_type(name),
                      cache_control=pages.file_cache_control(repository))


def _repomd(repository):
    return documents.get(repository, REPOMD, _upstream_url(repository, REPOMD),
                         accept=REPOMD_ACCEPT, parse=_repomd_parser(repository))


def _repomd_parser(repository):
    def parse(body, _content_type, final_url):
        upstream = configuration.upstream_of(repository)
        signature = _signature(repository, upstream, final_url + ".asc")
        if upstream.public_key:
            if not signature:
                raise documents.Unreadable("the upstream has no repomd.xml.asc to verify it with "
                                           "the configured upstream key")
            try:
                gpgv.verify_detached(body, signature.encode(), upstream.public_key)
            except SigningError as exc:
                logger.error("repository %s: the upstream's repomd.xml fails verification: %s",
                             repository.name, exc)
                raise documents.Unreadable(
                    f"its signature repomd.xml.asc does not verify with the configured upstream "
                    f"key ({exc}); not served") from None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise documents.Unreadable("it is not UTF-8") from None
        return {"xml": text, "asc": signature, "files": _repomd_files(body)}
    return parse


def _signature(repository, upstream, url):
    """The upstream's repomd.xml.asc (armored text), "" when it has none."""
    try:
        response, _ = client.get(upstream, url, home=repository.upstream_url)
    except client.FetchError as exc:
        raise documents.Unreadable(f"repomd.xml.asc cannot be had: {exc}") from None
    try:
        if response.status in (404, 410):
            return ""
        if response.status != 200:
            raise documents.Unreadable(
                f"the upstream answered {response.status} for repomd.xml.asc")
        try:
            body = client.read_limited(response, MAX_SIGNATURE)
        except client.FetchError as exc:
            raise documents.Unreadable(f"repomd.xml.asc: {exc}") from None
    finally:
        response.release_conn()
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        raise documents.Unreadable("repomd.xml.asc is not an armored signature") from None


def _repomd_files(body):
    """{name: {"type", "algorithm", "digest", "size"}} of the files in repodata/ repomd names."""
    with _temporary(body, ".xml") as path:
        try:
            index = cr.Repomd(path)
        except (cr.CreaterepoCError, ValueError) as exc:
            raise documents.Unreadable(f"it is not a repomd.xml: {exc}") from None
    named = {}
    for record in index.records:
        href = record.location_href or ""
        folder, _, name = href.rpartition("/")
        algorithm = CHECKSUM_NAMES.get((record.checksum_type or "").lower())
        if (folder != "repodata" or not _plain_name(name) or algorithm is None
                or not record.checksum):
            # Not below repodata/, or with no checksum we can check: never served.
            continue
        named[name] = {"type": record.type, "algorithm": algorithm,
                       "digest": record.checksum.lower(), "size": record.size or None}
    return named


def _data_blob(repository, document, name):
    entry = document.content["files"].get(name)
    if entry is None:
        raise NotFound(f"Not found: repodata/{name} is not in the upstream's current repomd.xml")
    if entry["algorithm"] != "sha256":
        raise UpstreamFailed(f"repodata/{name}: the upstream's repomd.xml gives a "
                             f"{entry['algorithm']} checksum; this proxy needs sha256 ones.")
    return fetches.verified_blob(repository, _upstream_url(repository, "repodata/" + name),
                                 {"sha256": entry["digest"]}, name)


# --- packages ---------------------------------------------------------------------------------


def package(request, repository, rest):
    if request.method not in ("GET", "HEAD"):
        return refuse(request, repository)
    if not _plain_path(rest):
        raise NotFound(f"Not found: {rest}")
    stored = files.find(repository, rest)
    if stored is not None:
        return files.serve(request, repository, stored, RPM_CONTENT_TYPE)
    document = _repomd(repository)
    entry = _primary(repository, document).get(rest)
    if entry is None:
        raise NotFound(f"Not found: {rest} is not in the upstream's current primary")
    url = _upstream_url(repository, rest)
    wanted = fetches.Wanted(path=rest, url=url, digests={entry["algorithm"]: entry["digest"]},
                            filename=rest.rsplit("/", 1)[-1], content_type=RPM_CONTENT_TYPE,
                            store=_store(rest, url), size=entry["size"])
    return fetches.serve(request, repository, wanted)


def _store(path, url):
    return lambda repository, actor, spooled: ingest.cache_file(repository, actor, path, spooled,
                                                                url)


def _primary(repository, document):
    """{location_href: {"algorithm", "digest", "size"}} of the packages the primary named by
    `document` lists (parsed once per primary, kept in the cache by its checksum)."""
    entry = next((e for e in document.content["files"].values() if e["type"] == "primary"), None)
    if entry is None:
        raise UpstreamFailed("The upstream's repomd.xml names no primary metadata.")
    name = next(n for n, e in document.content["files"].items() if e is entry)
    key = f"rpm-proxy-primary:{entry['algorithm']}:{entry['digest']}"
    packages = cache.get(key)
    if packages is None:
        blob = _data_blob(repository, document, name)
        packages = _read_primary(blob, name)
        cache.set(key, packages, 24 * 3600)
    return packages


def _read_primary(blob, name):
    with blobs.open_blob(blob.storage_key) as handle:
        data = handle.read()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ".xml"
    packages = {}

    def remember(pkg):
        href = pkg.location_href or ""
        algorithm = CHECKSUM_NAMES.get((pkg.checksum_type or "").lower())
        if _plain_path(href) and algorithm and pkg.pkgId and not pkg.location_base:
            packages[href] = {"algorithm": algorithm, "digest": pkg.pkgId.lower(),
                              "size": int(pkg.size_package) if pkg.size_package else None}

    with _temporary(data, suffix) as path:
        try:
            cr.xml_parse_primary(path, pkgcb=remember, do_files=0)
        except (cr.CreaterepoCError, ValueError) as exc:
            raise UpstreamFailed(f"The upstream's repodata/{name} cannot be read: {exc}") from None
    return packages


# --- helpers ----------------------------------------------------------------------------------


class _temporary:
    """A temporary file holding `data` (createrepo_c reads paths, and guesses compression from
    the suffix)."""

    def __init__(self, data, suffix):
        self.data, self.suffix = data, suffix

    def __enter__(self):
        fd, self.path = tempfile.mkstemp(prefix="rpm-proxy-", suffix=self.suffix,
                                         dir=settings.FILE_UPLOAD_TEMP_DIR)
        with os.fdopen(fd, "wb") as out:
            out.write(self.data)
        return self.path

    def __exit__(self, *_exc):
        os.unlink(self.path)


def _plain_name(name):
    return bool(name) and name not in (".", "..") and all(
        c.isalnum() or c in "._-+~" for c in name)


def _plain_path(path):
    """A relative path of plain segments: it stays below the upstream's URL and ours."""
    return bool(path) and all(_plain_name(segment) for segment in path.split("/"))


def _upstream_url(repository, path):
    return urljoin(repository.upstream_url, path)


def _stale(response, document):
    for name, value in documents.stale_headers(document).items():
        response[name] = value
    return response
