"""A Maven proxy repository over HTTP: any path of the Maven 2 layout, fetched from the upstream
on its first request, in the same shape as a hosted repository.

- Artifacts (jar, pom, module, asc, …) go through registry.proxy.fetches (single-flight,
  spooled while hashed), verified against the first checksum file the upstream has for them
  (.sha256, .sha1, .sha512, .md5, in that order) and stored through the Maven ingest. A file
  for which the upstream has no checksum at all (a .asc, on many repositories) is taken as it
  comes, and logged. Releases and timestamped SNAPSHOT builds (a name per build) are cached for
  good; a SNAPSHOT file without timestamp is replaced when the upstream's checksum changes,
  which is read again after metadata_max_age.
- maven-metadata.xml (artifact level, SNAPSHOT version level, group level) is a document of
  registry.proxy.documents: kept metadata_max_age, revalidated, served stale when the upstream
  is down. When it changes, the upstream's remembered "not found"s below it are forgotten: a new
  version may have brought them.
- Checksums of stored files and of metadata come from what is stored, as in a hosted
  repository; the checksum of a file not cached yet is the upstream's own checksum file.
- A 404 from the upstream is remembered for negative_max_age (mvn also remembers it itself).

Each view gets (request, repository, …) from the core dispatcher, which has already checked
read access, exactly as for a hosted repository.
"""

import hashlib
from urllib.parse import urljoin

from registry import files, pages
from registry.errors import InvalidPackage, MethodNotAllowed, NotFound, UpstreamFailed
from registry.proxy import documents, fetches

from . import ingest, paths, pom
from .views import CONTENT_TYPES, _checksum_response, _folder_or_404, _listing

# The upstream's checksum files, in the order they are looked for: the first one present is the
# one a first fetch is verified against.
VERIFY_ORDER = ("sha256", "sha1", "sha512", "md5")
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
# Maven Resolver reads these and skips fetching the checksum file (its "included checksums").
CHECKSUM_HEADERS = {"sha1": "X-Checksum-Sha1", "md5": "X-Checksum-Md5", "sha256": "X-Checksum-Sha256"}
METADATA_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.1"
CHECKSUM_ACCEPT = "text/plain, */*;q=0.1"


def resource(request, repository, rest=""):
    if request.method not in ("GET", "HEAD"):
        # mvn prints the reason phrase of a refused deploy.
        raise MethodNotAllowed(
            f"{repository.name} is a proxy of {repository.upstream_url}: it takes no deploys. "
            "Deploy to a hosted repository.")
    if rest == "" or rest.endswith("/"):
        return _listing(request, repository, rest)  # what is cached; the upstream is not listed
    try:
        maven_path = paths.parse(rest)
    except InvalidPackage:
        return _folder_or_404(request, repository, rest)
    if maven_path.kind == "metadata":
        return _metadata(request, repository, maven_path)
    if maven_path.checksum:
        return _checksum(request, repository, maven_path)
    return _file(request, repository, maven_path)


def document_keys(name):
    """The cached documents of package `groupId:artifactId`: its artifact-level metadata."""
    group_id, colon, artifact_id = name.partition(":")
    if not colon or not group_id or not artifact_id:
        return []
    return [f"{group_id.replace('.', '/')}/{artifact_id}/{paths.METADATA}"]


# --- metadata ------------------------------------------------------------------------------------


def _metadata(request, repository, maven_path):
    document = _metadata_document(repository, maven_path.path)
    body = document.content["xml"].encode()
    if maven_path.checksum:
        response = _checksum_response(request, hashlib.new(maven_path.checksum, body).hexdigest())
    else:
        response = pages.cached_page(request, repository, document.row, "application/xml",
                                     "application/xml", lambda: body)
    for name, value in documents.stale_headers(document).items():
        response[name] = value
    return response


def _metadata_document(repository, path):
    before = documents.cached(repository, path)
    document = documents.get(repository, path, _upstream_url(repository, path),
                             accept=METADATA_ACCEPT, parse=_parse_metadata)
    if before is None or before.row.revision != document.row.revision:
        # New versions or builds upstream: what was not found below this folder may be there now.
        folder = path.rsplit("/", 1)[0] + "/"
        documents.forget_missing(repository, folder)
        fetches.forget_failures(repository, folder)
    return document


def _parse_metadata(body, _content_type, _final_url):
    try:
        pom.parse_xml(body, paths.METADATA, "metadata")
        # Kept as the upstream wrote it: the checksums served are over these very bytes.
        return {"xml": body.decode("utf-8")}
    except InvalidPackage as exc:
        raise documents.Unreadable(exc.message) from None
    except UnicodeDecodeError:
        raise documents.Unreadable("it is not UTF-8") from None


# --- checksums ------------------------------------------------------------------------------------


def _checksum(request, repository, maven_path):
    stored = files.find(repository, maven_path.path)
    if stored is not None and not _mutable(maven_path):
        return _checksum_response(request, getattr(stored.blob, maven_path.checksum))
    try:
        digest = _upstream_checksum(repository, maven_path.path, maven_path.checksum)
    except UpstreamFailed:
        if stored is None:
            raise
        digest = None
    if digest is None:
        if stored is None:
            raise NotFound(f"Not found: {maven_path.path}.{maven_path.checksum}")
        digest = getattr(stored.blob, maven_path.checksum)
    return _checksum_response(request, digest)


def _upstream_checksum(repository, path, algorithm):
    """The upstream's checksum of the file at `path` (hex), None when it has none."""
    key = f"{path}.{algorithm}"
    try:
        document = documents.get(repository, key, _upstream_url(repository, key),
                                 accept=CHECKSUM_ACCEPT, parse=_checksum_parser(algorithm))
    except NotFound:
        return None
    return document.content["hex"]


def _checksum_parser(algorithm):
    def parse(body, _content_type, _final_url):
        value = checksum_value(body, algorithm)
        if value is None:
            raise documents.Unreadable(
                f"not a {algorithm} checksum ({HEX_LENGTHS[algorithm]} hex digits)")
        return {"hex": value}
    return parse


def checksum_value(body, algorithm):
    """The hex digest in a checksum file: "<hex>", "<hex>  <file>" or "… = <hex>" (the forms
    Maven Resolver reads), or None."""
    text = body[:1024].decode("ascii", "replace").strip()
    line = text.splitlines()[0].strip() if text else ""
    words = line.split()
    if not words:
        return None
    value = (words[-1] if "= " in line else words[0]).lower()
    if len(value) != HEX_LENGTHS[algorithm] or any(c not in "0123456789abcdef" for c in value):
        return None
    return value


# --- files ----------------------------------------------------------------------------------------


def _file(request, repository, maven_path):
    content_type = CONTENT_TYPES.get(maven_path.extension.rsplit(".", 1)[-1],
                                     "application/octet-stream")
    mutable = _mutable(maven_path)
    stored = files.find(repository, maven_path.path)
    if stored is not None and not mutable:
        return _with_checksums(files.serve(request, repository, stored, content_type),
                               _blob_digests(stored.blob))
    if stored is None and documents.known_missing(repository, maven_path.path):
        raise NotFound(f"Not found on the upstream: {maven_path.path}")
    try:
        digests = _upstream_digests(repository, maven_path.path)
    except UpstreamFailed:
        if stored is None:
            raise
        # A SNAPSHOT file the upstream cannot confirm now: the copy we have (logged by documents).
        return _with_checksums(files.serve(request, repository, stored, content_type),
                               _blob_digests(stored.blob))
    url = _upstream_url(repository, maven_path.path)
    wanted = fetches.Wanted(path=maven_path.path, url=url, digests=digests,
                            filename=maven_path.filename, content_type=content_type,
                            store=_store(maven_path, url), digest_required=False, refresh=mutable)
    try:
        response = fetches.serve(request, repository, wanted)
    except NotFound:
        documents.remember_missing(repository, maven_path.path)
        raise
    # Served once stored (small files): all its digests; still arriving: the one verified.
    stored = files.find(repository, maven_path.path)
    return _with_checksums(response, _blob_digests(stored.blob) if stored is not None else digests)


def _upstream_digests(repository, path):
    """{algorithm: hex} of the first checksum file the upstream has for `path`, or {}."""
    for algorithm in VERIFY_ORDER:
        digest = _upstream_checksum(repository, path, algorithm)
        if digest is not None:
            return {algorithm: digest}
    return {}


def _store(maven_path, url):
    return lambda repository, actor, spooled: ingest.cache_file(repository, actor, maven_path,
                                                                spooled, url)


def _mutable(maven_path):
    """A SNAPSHOT file named without a build timestamp: the upstream may replace its bytes."""
    return maven_path.is_snapshot and not maven_path.timestamp


def _blob_digests(blob):
    return {name: getattr(blob, name) for name in CHECKSUM_HEADERS}


def _with_checksums(response, digests):
    for name, header in CHECKSUM_HEADERS.items():
        if digests.get(name):
            response[header] = digests[name].lower()
    return response


def _upstream_url(repository, path):
    # `path` is made of checked segments (paths.split_segments): it stays below the upstream URL.
    return urljoin(repository.upstream_url, path)
