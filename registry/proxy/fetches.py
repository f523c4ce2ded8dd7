"""First fetches of upstream files, single-flight: however many requests ask at once for a file
that is not cached yet, in however many processes, the upstream is asked once.

The record is an UpstreamFetch row (unique per repository and path): whoever inserts it leads.
The leader downloads in a thread of its process, spooling to disk while hashing (memory stays
flat), beating the row's heartbeat; it verifies the digest the upstream's index gave and hands
the verified file to the format's `store` (the core's one ingest path), then deletes the row.
Every request (the leader's own too) then either

- streams from the spool file as it grows (same host, file larger than
  PROXY_VERIFY_BEFORE_SERVE): the first byte goes out before the last has arrived, and the
  last HOLD_BACK bytes only once the whole file is verified, so a file that fails verification
  is cut short and never reaches a client whole; or
- waits for the stored file and serves it like any other (small files: a mismatch is then a
  502 with the reason, never stored).

A failed fetch leaves its row FAILED for FAILED_SECONDS: requests in that window get the same
answer without calling the upstream again. A leader that stops beating (killed) is taken over.
"""

import hmac
import logging
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection
from django.http import StreamingHttpResponse
from django.utils import timezone

from registry import files, pages
from registry.errors import NotFound, RegistryError, UpstreamFailed, UpstreamTimeout
from registry.models import Blob, Repository, UpstreamBlob, UpstreamFetch
from registry.services import downloads, ingest
from storage.hashing import MultiHasher, SpooledFile, spool_bytes

from . import client, configuration, health

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024
HOLD_BACK = 64 * 1024
POLL_SECONDS = 0.05
HEARTBEAT_SECONDS = 1.0
FAILED_SECONDS = 10
# UpstreamBlob.used is a hint for the clean-up, not a log: written at most once a day.
BLOB_USE_RESOLUTION = timedelta(days=1)
HOST = socket.gethostname()

State = UpstreamFetch.State


@dataclass(frozen=True)
class Wanted:
    """A file to fetch: where it lives in the repository, where the upstream has it, and the
    digests its index promised ({"sha256": hex, …}; at least one is needed to verify)."""

    path: str
    url: str
    digests: dict
    filename: str
    content_type: str
    # store(repository, actor, spooled) → PackageFile: the format's ingest of verified bytes.
    store: object = field(compare=False)
    size: int | None = None
    # False where the upstream publishes no digest for some files (Maven's .asc without
    # checksums): such a file is taken unverified (logged) when `digests` is empty.
    digest_required: bool = True
    # True for a file the upstream may change in place (a Maven SNAPSHOT without timestamp):
    # a stored copy whose digest differs from `digests` is fetched again and replaced.
    refresh: bool = False


def serve(request, repository, wanted):
    """The response for `wanted`: the stored file, or the first fetch of it shared with every
    other request for it. Raises RegistryError (404, 502, 504) when it cannot be had."""
    configuration.upstream_of(repository)
    while True:
        stored = _current(repository, wanted)
        if stored is not None:
            return files.serve(request, repository, stored, wanted.content_type)
        fetch = _lead_or_join(request, repository, wanted)
        answer = _follow(request, repository, wanted, fetch)
        if answer is not None:
            return answer
        # The fetch ended (stored, or its leader vanished): look again.


def _current(repository, wanted):
    """The stored file at wanted.path, unless `wanted.refresh` and the upstream now promises
    other bytes."""
    stored = files.find(repository, wanted.path)
    if stored is not None and wanted.refresh and any(
            value and getattr(stored.blob, name, value.lower()) != value.lower()
            for name, value in wanted.digests.items()):
        return None
    return stored


def _lead_or_join(request, repository, wanted):
    now = timezone.now()
    try:
        fetch = UpstreamFetch.objects.create(repository=repository, path=wanted.path, host=HOST,
                                             heartbeat=now)
    except IntegrityError:
        return UpstreamFetch.objects.filter(repository=repository, path=wanted.path).first()
    if _current(repository, wanted) is not None:
        # Stored by a leader that finished between our look and our insert.
        fetch.delete()
        return None
    leader = threading.Thread(target=_lead, args=(fetch.pk, repository.pk, wanted, request.actor),
                              name=f"proxy-fetch-{fetch.pk}", daemon=True)
    leader.start()
    return fetch


def _follow(request, repository, wanted, fetch):
    """Wait on `fetch` and answer from it; None when it is over and the caller should look for
    the stored file again."""
    while fetch is not None:
        if fetch.state == State.FAILED:
            if timezone.now() - fetch.heartbeat > timedelta(seconds=FAILED_SECONDS):
                _take_over(fetch)
                return None
            raise _error(fetch)
        if _abandoned(fetch, repository.upstream):
            _take_over(fetch)
            return None
        if fetch.state == State.STREAMING and _may_stream(fetch):
            handle = _open_spool(fetch)
            if handle is not None:
                return _streaming_response(request, repository, wanted, fetch, handle)
        time.sleep(POLL_SECONDS)
        fetch = UpstreamFetch.objects.filter(pk=fetch.pk).first()
    return None


def _may_stream(fetch):
    return (fetch.host == HOST and fetch.spool
            and (fetch.size is None or fetch.size > settings.PROXY_VERIFY_BEFORE_SERVE))


def _open_spool(fetch):
    try:
        return open(fetch.spool, "rb")
    except FileNotFoundError:
        return None  # already stored (moved into the blob store): serve the stored file


def _streaming_response(request, repository, wanted, fetch, handle):
    expected = wanted.digests.get("sha256")
    response = StreamingHttpResponse(_stream(repository, wanted, fetch.pk, handle),
                                     content_type=wanted.content_type)
    if fetch.size is not None:
        response["Content-Length"] = str(fetch.size)
    if expected:
        response["ETag"] = f'"{expected}"'
    response["Cache-Control"] = pages.file_cache_control(repository)
    response["Content-Disposition"] = f'attachment; filename="{wanted.filename}"'
    if request.method == "HEAD":
        handle.close()
        response.streaming_content = []
    return response


def _stream(repository, wanted, fetch_pk, handle):
    """The spool's bytes as they arrive; the last HOLD_BACK only after verification. A fetch
    that fails raises, which cuts the connection: the client never gets the file whole."""
    pending = b""
    try:
        while True:
            chunk = handle.read(CHUNK)
            if chunk:
                pending += chunk
                if len(pending) > HOLD_BACK:
                    yield pending[:-HOLD_BACK]
                    pending = pending[-HOLD_BACK:]
                continue
            fetch = UpstreamFetch.objects.filter(pk=fetch_pk).first()
            if fetch is None or fetch.state == State.DONE:
                stored = files.find(repository, wanted.path)
                if stored is None:
                    raise UpstreamFailed(f"The fetch of {wanted.filename} was abandoned.")
                while chunk := handle.read(CHUNK):
                    pending += chunk
                yield pending
                downloads.count(stored)
                return
            if fetch.state == State.FAILED:
                raise _error(fetch)
            if _abandoned(fetch, repository.upstream):
                raise UpstreamFailed(f"The fetch of {wanted.filename} stopped.")
            time.sleep(POLL_SECONDS)
    except RegistryError as exc:
        logger.warning("repository %s: cut the transfer of %s: %s", repository.name, wanted.path, exc)
        raise
    finally:
        handle.close()


def _lead(fetch_pk, repository_pk, wanted, actor):
    try:
        repository = Repository.objects.select_related("upstream").get(pk=repository_pk)
        _download(fetch_pk, repository, wanted, actor)
        # Stored: nothing is left to wait for. Rows of failures stay a while (see _follow).
        _record(lambda: UpstreamFetch.objects.filter(pk=fetch_pk).delete())
    except RegistryError as exc:
        _fail(fetch_pk, exc.status, exc.message)
    except Exception as exc:  # the fetch must end in a state others can read, whatever broke
        logger.exception("repository %s: fetching %s failed", repository_pk, wanted.url)
        _fail(fetch_pk, 502, f"Fetching {wanted.filename} from the upstream failed: {exc}")
    finally:
        connection.close()


def _download(fetch_pk, repository, wanted, actor):
    upstream = repository.upstream
    try:
        health.ensure_callable(upstream)
    except health.Unavailable as exc:
        raise UpstreamFailed(f"{exc} {wanted.filename} is not cached.") from None
    try:
        response, _ = client.get(upstream, wanted.url, home=repository.upstream_url, decode=False)
    except client.FetchError as exc:
        health.failed(upstream, str(exc))
        raise (UpstreamTimeout if exc.timeout else UpstreamFailed)(str(exc)) from None
    try:
        if response.status in (404, 410):
            raise NotFound(f"Not found on the upstream: {wanted.filename}")
        if response.status != 200:
            message = f"The upstream answered {response.status} {response.reason or ''} for {wanted.filename}"
            if response.status >= 500 or response.status == 429:
                health.failed(upstream, message)
            raise UpstreamFailed(message)
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else wanted.size
        fd, spool_path = tempfile.mkstemp(prefix="proxy-", dir=settings.FILE_UPLOAD_TEMP_DIR)
        try:
            _spool(fetch_pk, repository, wanted, actor, response, fd, spool_path, size)
        finally:
            try:
                os.unlink(spool_path)
            except FileNotFoundError:
                pass  # moved into the blob store
    finally:
        response.release_conn()


def _spool(fetch_pk, repository, wanted, actor, response, fd, spool_path, size):
    upstream = repository.upstream
    _record(lambda: UpstreamFetch.objects.filter(pk=fetch_pk).update(
        state=State.STREAMING, spool=spool_path, size=size, heartbeat=timezone.now()))
    hasher = MultiHasher(settings.MAX_UPLOAD_SIZE)
    beat = time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.stream(CHUNK, decode_content=False):
                hasher.update(chunk)
                out.write(chunk)
                out.flush()  # followers read the spool as it grows
                if time.monotonic() - beat > HEARTBEAT_SECONDS:
                    _record(lambda: UpstreamFetch.objects.filter(pk=fetch_pk).update(
                        heartbeat=timezone.now()))
                    beat = time.monotonic()
    except Exception as exc:
        message = f"The upstream's {wanted.filename} broke off: {exc}"
        health.failed(upstream, message)
        raise UpstreamFailed(message) from None
    digests = hasher.digests()
    _verify(repository, wanted, digests, size)
    health.succeeded(upstream)
    try:
        wanted.store(repository, actor, SpooledFile(spool_path, digests))
    except UpstreamFailed:
        raise
    except RegistryError as exc:
        # Verified against the upstream's index, yet not a file the format can read or keep.
        raise UpstreamFailed(
            f"{wanted.filename} from the upstream cannot be stored: {exc.message}") from None


def _verify(repository, wanted, digests, size):
    checked = {name: value for name, value in wanted.digests.items()
               if value and hasattr(digests, name)}
    if not checked and wanted.digest_required:
        raise UpstreamFailed(f"The upstream's index gives no digest for {wanted.filename} "
                             "to verify it against: not served.")
    if not checked:
        logger.warning("repository %s: %s from %s taken unverified: the upstream has no digest "
                       "for it", repository.name, wanted.filename, wanted.url)
    for name, expected in checked.items():
        actual = getattr(digests, name)
        if not hmac.compare_digest(expected.lower(), actual):
            logger.error("repository %s: %s from %s fails verification: %s %s expected, %s received",
                         repository.name, wanted.filename, wanted.url, name, expected, actual)
            raise UpstreamFailed(
                f"{wanted.filename} from the upstream does not match its index: {name} "
                f"{actual} received, {expected} expected. Not stored.")
    if size is not None and digests.size != size:
        raise UpstreamFailed(f"{wanted.filename} from the upstream has {digests.size} bytes, "
                             f"{size} were announced. Not stored.")


def forget_failures(repository, prefix):
    """Forget the failed first fetches under `prefix` (e.g. a 404 from before the upstream's
    index changed): the next request asks the upstream again."""
    return UpstreamFetch.objects.filter(repository=repository, path__startswith=prefix,
                                        state=State.FAILED).delete()[0]


def _fail(fetch_pk, status, message):
    _record(lambda: UpstreamFetch.objects.filter(pk=fetch_pk).update(
        state=State.FAILED, error_status=status, error=message[:4000], heartbeat=timezone.now()))


def _record(write, attempts=100):
    """A write of the leader's state, retried while SQLite says a table is locked: waiting
    requests read that state, and a lost write would leave them waiting for a dead leader."""
    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(POLL_SECONDS)


def _error(fetch):
    if fetch.error_status == 404:
        return NotFound(fetch.error)
    if fetch.error_status == 504:
        return UpstreamTimeout(fetch.error)
    return UpstreamFailed(fetch.error)


def _patience(upstream):
    """How long a request waits for a fetch to show progress before giving up."""
    return upstream.connect_timeout + upstream.read_timeout + 5


def _abandoned(fetch, upstream):
    if fetch.state == State.FAILED:
        return False
    return timezone.now() - fetch.heartbeat > timedelta(seconds=_patience(upstream))


def _take_over(fetch):
    # Only the row as we saw it: a newer leader's row stays.
    UpstreamFetch.objects.filter(pk=fetch.pk, heartbeat=fetch.heartbeat).delete()

def verified_blob(repository, url, digests, filename):
    """A small upstream file served beside another (PyPI's PEP 658 metadata): fetched whole,
    verified against `digests` and kept as a blob, found again by its digest next time."""
    sha256 = digests.get("sha256")
    if not sha256:
        raise UpstreamFailed(f"The upstream's index gives no sha256 for {filename}: not served.")
    known = Blob.objects.filter(sha256=sha256.lower()).first()
    if known is not None:
        return _kept(repository, known)
    upstream = configuration.upstream_of(repository)
    try:
        health.ensure_callable(upstream)
    except health.Unavailable as exc:
        raise UpstreamFailed(f"{exc} {filename} is not cached.") from None
    try:
        response, _ = client.get(upstream, url, home=repository.upstream_url, decode=False)
    except client.FetchError as exc:
        health.failed(upstream, str(exc))
        raise (UpstreamTimeout if exc.timeout else UpstreamFailed)(str(exc)) from None
    try:
        if response.status in (404, 410):
            raise NotFound(f"Not found on the upstream: {filename}")
        if response.status != 200:
            raise UpstreamFailed(f"The upstream answered {response.status} for {filename}")
        try:
            body = client.read_limited(response, settings.PROXY_MAX_DOCUMENT_SIZE)
        except client.FetchError as exc:
            raise (UpstreamTimeout if exc.timeout else UpstreamFailed)(str(exc)) from None
    finally:
        response.release_conn()
    spooled = spool_bytes(body)
    try:
        _verify(repository, Wanted(path="", url=url, digests=digests, filename=filename,
                                   content_type="", store=None), spooled.digests, None)
        return _kept(repository, ingest.blob_for(spooled, []))
    finally:
        spooled.delete()


def _kept(repository, blob):
    """`blob`, referenced as one this proxy serves (its use noted once a day), so that the
    collection of unreferenced blobs leaves it alone."""
    now = timezone.now()
    use, created = UpstreamBlob.objects.get_or_create(repository=repository, blob=blob,
                                                      defaults={"used": now})
    if not created and now - use.used > BLOB_USE_RESOLUTION:
        UpstreamBlob.objects.filter(pk=use.pk).update(used=now)
    return blob
