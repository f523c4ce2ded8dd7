"""An APT proxy repository: the upstream's dists/ and pool/ passed through, so apt keeps
trusting the upstream's own key (nothing is re-signed here).

- dists/<suite>/InRelease is a document of registry.proxy.documents (metadata_max_age,
  revalidated, served stale when the upstream is down). With an upstream public key set, its
  signature is checked with gpgv before the document is kept; a bad one is a 502 and nothing
  is cached. Its SHA256 table is what every other file of the suite is checked against.
- Index files (Packages, Packages.gz, Packages.xz, by-hash/SHA256/<hex>) are fetched by the
  hash the cached InRelease names (through by-hash when the upstream offers it), so the bytes
  served always belong to the InRelease served: apt never sees a "Hash Sum mismatch".
- pool/ files are fetched once (registry.proxy.fetches, single-flight) and verified against
  the SHA256 of a Packages index of a cached InRelease; they are kept for good.

Without InRelease upstream, Release and its Release.gpg are fetched, verified and served
together the same way. A stale Release past its Valid-Until is not served (apt would refuse it).
"""

import bz2
import email.utils
import functools
import gzip
import lzma
import re
import time

from registry import pages
from registry.errors import MethodNotAllowed, NotFound, UpstreamFailed
from registry.models import UpstreamDocument
from registry.proxy import client, configuration, documents, fetches
from signing import gpgv
from signing.gpg import SigningError
from storage.blobs import open_blob
from storage.serving import serve_blob

from . import ingest

RELEASE_ACCEPT = "text/plain, */*;q=0.1"
SUITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]*(/[A-Za-z0-9][A-Za-z0-9._+~-]*)*$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
INDEX_TYPES = {".gz": "application/gzip", ".xz": "application/x-xz", ".bz2": "application/x-bzip2"}
DECOMPRESS = {".gz": gzip.decompress, ".xz": lzma.decompress, ".bz2": bz2.decompress, "": bytes}
# Read in this order to find pool entries: the cheapest to fetch first.
PACKAGES_NAMES = ("Packages.xz", "Packages.gz", "Packages")


def refuse(request, repository, **_kwargs):
    if request.method in ("GET", "HEAD"):
        raise NotFound(f"Not found: {request.path}")
    raise MethodNotAllowed(f"{repository.name} is a proxy of {repository.upstream_url}: it takes "
                           "no uploads. Upload to a hosted repository.")


def dists(request, repository, rest):
    if request.method not in ("GET", "HEAD"):
        refuse(request, repository)
    suite, inner = _split_dists(rest)
    document = _release(repository, suite)
    content = document.content
    if inner == "InRelease":
        if not content["inrelease"]:
            raise NotFound(f"Not found: dists/{suite}/InRelease (the upstream signs Release.gpg)")
        response = _text(request, repository, document, inner, content["inrelease"])
    elif inner == "Release":
        response = _text(request, repository, document, inner, content["release"])
    elif inner == "Release.gpg":
        if not content["signature"]:
            # apt reads InRelease when there is one; a Release.gpg fetched apart from it could
            # belong to another generation of Release.
            raise NotFound(f"Not found: dists/{suite}/Release.gpg (the upstream signs InRelease)")
        response = _text(request, repository, document, inner, content["signature"],
                         "application/pgp-signature")
    else:
        response = _index(request, repository, suite, document, inner)
    for name, value in documents.stale_headers(document).items():
        response[name] = value
    return response


def pool(request, repository, rest):
    if request.method not in ("GET", "HEAD"):
        refuse(request, repository)
    path = "pool/" + rest
    if ".." in rest.split("/") or not rest.endswith(".deb"):
        raise NotFound(f"Not found: {path}")
    entry = _pool_entry(repository, path)
    if entry is None:
        raise NotFound(f"Not found: {path} (no Packages index of a cached suite lists it)")
    sha256, size = entry
    filename = rest.rsplit("/", 1)[-1]
    url = repository.upstream_url + path
    wanted = fetches.Wanted(path=path, url=url, digests={"sha256": sha256}, filename=filename,
                            content_type="application/vnd.debian.binary-package",
                            store=_store(path, url), size=size)
    return fetches.serve(request, repository, wanted)


def document_keys(_name):
    # apt's documents are per suite, not per package: an admin invalidates the whole proxy.
    return []


# --- Release -------------------------------------------------------------------------------------


def _split_dists(rest):
    """(suite, path inside the suite). Suites are one folder (stable, bookworm-updates); the
    path inside is checked segment by segment, so nothing climbs out of the upstream URL."""
    parts = rest.split("/")
    if len(parts) < 2 or any(p in ("", ".", "..") for p in parts) or not SUITE.match(parts[0]):
        raise NotFound(f"Not found: dists/{rest}")
    return parts[0], "/".join(parts[1:])


def _release(repository, suite):
    """The suite's signed Release as a document: InRelease when the upstream has one, else
    Release with its Release.gpg (fetched together, verified together, served together)."""
    public_key = _public_key(repository)
    key = f"dists/{suite}/InRelease"
    try:
        document = documents.get(repository, key, repository.upstream_url + key,
                                 accept=RELEASE_ACCEPT,
                                 parse=lambda body, _type, _url: _parse_inrelease(body, public_key))
    except NotFound:
        key = f"dists/{suite}/Release"
        document = documents.get(
            repository, key, repository.upstream_url + key, accept=RELEASE_ACCEPT,
            parse=lambda body, _type, _url: _parse_release(repository, suite, body, public_key))
    _check_valid_until(document, suite)
    return document


def _parse_inrelease(body, public_key):
    if public_key:
        try:
            signed = gpgv.verify_clearsigned(body, public_key)
        except SigningError as exc:
            raise documents.Unreadable(f"InRelease is refused: {exc}") from None
        release = _text_of(signed, "InRelease")
    else:
        release = _clearsigned_text(_text_of(body, "InRelease"))
    return _content(release, inrelease=_text_of(body, "InRelease"), signature="")


def _parse_release(repository, suite, body, public_key):
    signature = _fetch_small(repository, f"dists/{suite}/Release.gpg")
    if public_key:
        if signature is None:
            raise documents.Unreadable("the upstream has Release but no Release.gpg to verify it")
        try:
            gpgv.verify_detached(body, signature, public_key)
        except SigningError as exc:
            raise documents.Unreadable(f"Release is refused: {exc}") from None
    return _content(_text_of(body, "Release"), inrelease="",
                    signature=_text_of(signature or b"", "Release.gpg"))


def _content(release, *, inrelease, signature):
    fields = {}
    for name, value in _stanza_fields(release.split("\n\n", 1)[0]):
        fields.setdefault(name, value)
    table = _sha256_table(release)
    if not table:
        raise documents.Unreadable("the Release has no SHA256 list of its files")
    return {"inrelease": inrelease, "release": release, "signature": signature, "sha256": table,
            "by_hash": fields.get("acquire-by-hash", "").lower() == "yes",
            "valid_until": _timestamp(fields.get("valid-until", ""))}


def _check_valid_until(document, suite):
    valid_until = document.content.get("valid_until")
    if document.stale_reason and valid_until and time.time() > valid_until:
        # apt refuses an expired Release itself; say why instead of serving it.
        raise UpstreamFailed(f"{document.stale_reason} The cached Release of {suite} expired "
                             "(Valid-Until): not served.")


def _timestamp(value):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _text_of(body, label):
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise documents.Unreadable(f"{label} is not UTF-8") from None


def _fetch_small(repository, path):
    """The upstream's bytes at `path` (None for its 404); documents.Unreadable when it cannot
    be had, so the Release it belongs to is not taken either."""
    upstream = configuration.upstream_of(repository)
    try:
        response, _ = client.get(upstream, repository.upstream_url + path,
                                 home=repository.upstream_url)
    except client.FetchError as exc:
        raise documents.Unreadable(str(exc)) from None
    try:
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise documents.Unreadable(f"the upstream answered {response.status} for {path}")
        try:
            return client.read_limited(response, 1024 * 1024)
        except client.FetchError as exc:
            raise documents.Unreadable(str(exc)) from None
    finally:
        response.release_conn()


def _clearsigned_text(text):
    """The signed part of a clearsigned message (unverified: no key configured)."""
    if not text.startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        return text
    _, _, rest = text.partition("\n\n")
    signed, _, _ = rest.partition("\n-----BEGIN PGP SIGNATURE-----")
    # Dash-escaped lines (RFC 4880 section 7.1).
    return "\n".join(line[2:] if line.startswith("- ") else line
                     for line in signed.split("\n")) + "\n"


def _sha256_table(release):
    table, inside = {}, False
    for line in release.splitlines():
        if line.startswith("SHA256:"):
            inside = True
            continue
        if inside and line[:1].isspace():
            words = line.split()
            if len(words) == 3 and HEX64.match(words[0].lower()) and words[1].isdigit():
                table[words[2]] = [words[0].lower(), int(words[1])]
            continue
        inside = False
    return table


# --- index files ----------------------------------------------------------------------------------


def _index(request, repository, suite, document, inner):
    table = document.content["sha256"]
    if "/by-hash/SHA256/" in inner:
        wanted_hex = inner.rsplit("/", 1)[-1]
        folder = inner.split("/by-hash/")[0]
        names = [name for name, (hex_, _) in table.items()
                 if hex_ == wanted_hex and name.rsplit("/", 1)[0] == folder]
        if not names:
            raise NotFound(f"Not found: dists/{suite}/{inner} (not named by the cached InRelease)")
        name = names[0]
    else:
        name = inner
    if name not in table:
        raise NotFound(f"Not found: dists/{suite}/{inner} (not named by the cached InRelease)")
    blob = _index_blob(repository, suite, document, name)
    return serve_blob(request, key=blob.storage_key, size=blob.size, sha256=blob.sha256,
                      filename=name.rsplit("/", 1)[-1], content_type=_index_type(name),
                      cache_control=pages.file_cache_control(repository))


def _index_blob(repository, suite, document, name):
    hex_, size = document.content["sha256"][name]
    if document.content["by_hash"]:
        folder = name.rsplit("/", 1)[0]
        url = f"{repository.upstream_url}dists/{suite}/{folder}/by-hash/SHA256/{hex_}"
    else:
        url = f"{repository.upstream_url}dists/{suite}/{name}"
    blob = fetches.verified_blob(repository, url, {"sha256": hex_}, name.rsplit("/", 1)[-1])
    if blob.size != size:
        raise UpstreamFailed(f"{name} from the upstream has {blob.size} bytes, the InRelease "
                             f"says {size}. Not served.")
    return blob


def _index_type(name):
    for suffix, content_type in INDEX_TYPES.items():
        if name.endswith(suffix):
            return content_type
    return "text/plain; charset=utf-8"


# --- pool ---------------------------------------------------------------------------------------


def _pool_entry(repository, path):
    """(sha256, size) of `path` in a Packages index of a suite whose Release is cached, or
    None. The Packages indexes are fetched by their hash in that Release (then kept)."""
    keys = UpstreamDocument.objects.filter(repository=repository, status=200,
                                           key__startswith="dists/").values_list("key", flat=True)
    for key in keys:
        document = documents.cached(repository, key)
        if document is None or "sha256" not in document.content:
            continue
        suite = key.split("/")[1]
        for name in _packages_indexes(document.content["sha256"]):
            blob = _index_blob(repository, suite, document, name)
            entry = _packages_entries(blob.sha256, blob.storage_key, name).get(path)
            if entry is not None:
                return entry
    return None


def _packages_indexes(table):
    """One Packages index per component and architecture (the first form of PACKAGES_NAMES)."""
    chosen = {}
    for name in table:
        folder, _, base = name.rpartition("/")
        if base in PACKAGES_NAMES and "binary-" in folder:
            best = chosen.get(folder)
            if best is None or PACKAGES_NAMES.index(base) < PACKAGES_NAMES.index(best):
                chosen[folder] = base
    return [f"{folder}/{base}" for folder, base in chosen.items()]


@functools.lru_cache(maxsize=16)
def _packages_entries(sha256, storage_key, name):
    """{pool path: (sha256, size)} of a verified Packages index. Keyed by the index's own
    digest: its bytes never change, so each process reads one index once."""
    with open_blob(storage_key) as handle:
        raw = handle.read()
    suffix = next((s for s in (".gz", ".xz", ".bz2") if name.endswith(s)), "")
    try:
        text = DECOMPRESS[suffix](raw).decode("utf-8")
    except (OSError, lzma.LZMAError, EOFError, UnicodeDecodeError) as exc:
        raise UpstreamFailed(f"The upstream's {name} ({sha256}) cannot be read: {exc}") from None
    entries = {}
    for stanza in text.split("\n\n"):
        fields = dict(_stanza_fields(stanza))
        filename, digest, size = fields.get("filename"), fields.get("sha256"), fields.get("size")
        if filename and digest and HEX64.match(digest.lower()) and (size or "").isdigit():
            entries[filename] = (digest.lower(), int(size))
    return entries


def _stanza_fields(stanza):
    for line in stanza.splitlines():
        if line and not line[0].isspace() and ":" in line:
            name, _, value = line.partition(":")
            yield name.strip().lower(), value.strip()


def _store(path, url):
    def store(repository, actor, spooled):
        return ingest.cache_file(repository, actor, path, spooled, url)
    return store


def _text(request, repository, document, name, text, content_type="text/plain; charset=utf-8"):
    body = text.encode()
    # The variant (the file's name) keeps InRelease, Release and Release.gpg apart in the page
    # cache, which is keyed by the document's revision.
    return pages.cached_page(request, repository, document.row, name, content_type,
                             lambda: body)


def _public_key(repository):
    return configuration.upstream_of(repository).public_key
