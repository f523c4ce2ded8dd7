"""Publications: a format's metadata files (APT dists/, RPM repodata/) built from rows by its
plugin, stored as blobs, and switched in as the repository's current set in one transaction.

- Debounced: a write asks for a publish after it commits; the task runs a moment later and builds
  from whatever revision the repository has reached by then, so many uploads make one rebuild.
- Serialised: one builder per repository at a time, through a lease row that expires, so a worker
  killed mid-build blocks nobody for long and leaves the previous publication served.
- Old publications stay for PUBLICATION_GRACE_SECONDS after they are superseded, then go.
"""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry import metrics, plugins
from registry.models import Publication, PublicationFile, PublishLease, Repository
from registry.services import ingest, versions
from storage.hashing import spool_bytes

UP_TO_DATE = "up-to-date"
BUSY = "busy"


def request_publish(repository):
    """Ask for a rebuild once the current transaction commits (debounced by the task)."""
    from registry import tasks

    transaction.on_commit(lambda: tasks.publish_repository.apply_async(
        (repository.pk,), countdown=settings.PUBLISH_DEBOUNCE_SECONDS))


def publish(repository_id, holder=None):
    """Build and switch in a new publication if the repository changed since the current one.
    Returns the Publication, UP_TO_DATE, or BUSY (another builder holds the lease)."""
    repository = Repository.objects.select_related("current_publication").get(pk=repository_id)
    current = repository.current_publication
    if current is not None and current.source_revision == repository.revision:
        return UP_TO_DATE
    holder = holder or uuid.uuid4().hex
    if not _acquire(repository, holder):
        return BUSY
    try:
        repository.refresh_from_db(fields=["revision"])
        revision = repository.revision
        with metrics.publishing(repository.format):
            files = plugins.get(repository.format).build_publication(repository)
            return _switch_in(repository, revision, files)
    finally:
        _release(repository, holder)


def _acquire(repository, holder):
    now = timezone.now()
    PublishLease.objects.get_or_create(repository=repository)
    taken = PublishLease.objects.filter(repository=repository).filter(
        Q(expires__isnull=True) | Q(expires__lte=now) | Q(holder=holder)
    ).update(holder=holder, expires=now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS))
    return taken == 1


def _release(repository, holder):
    PublishLease.objects.filter(repository=repository, holder=holder).update(holder="", expires=None)


def _switch_in(repository, revision, files):
    written = []
    try:
        stored, by_content = {}, {}
        for path, data in files.items():
            # The same bytes under several paths (an index and its by-hash copy): stored once.
            digest = hashlib.sha256(data).digest()
            if digest not in by_content:
                spooled = spool_bytes(data)
                try:
                    by_content[digest] = ingest.blob_for(spooled, written)
                finally:
                    spooled.delete()
            stored[path] = by_content[digest]
        with transaction.atomic():
            publication = Publication.objects.create(repository=repository, source_revision=revision)
            PublicationFile.objects.bulk_create(
                [PublicationFile(publication=publication, path=path, blob=blob)
                 for path, blob in stored.items()]
            )
            locked = Repository.objects.select_for_update().get(pk=repository.pk)
            previous = locked.current_publication_id
            # Not bump_revision(): switching publications is not a change of the content.
            Repository.objects.filter(pk=repository.pk).update(current_publication=publication)
            if previous is not None:
                Publication.objects.filter(pk=previous).update(superseded=timezone.now())
        return publication
    except BaseException:
        ingest.discard(written)
        raise


def find_file(repository, path, *, any_live=False):
    """The blob of `path` in the current publication; with `any_live`, also in publications
    still within their grace period (by-hash files a client may ask for after an update)."""
    if repository.current_publication_id is None:
        return None
    row = (PublicationFile.objects.filter(publication_id=repository.current_publication_id, path=path)
           .select_related("blob").first())
    if row is None and any_live:
        cutoff = timezone.now() - timedelta(seconds=settings.PUBLICATION_GRACE_SECONDS)
        row = (PublicationFile.objects
               .filter(publication__repository=repository, path=path, publication__superseded__gt=cutoff)
               .select_related("blob").order_by("-publication__created").first())
    return row.blob if row is not None else None


def remove_expired():
    """Delete publications superseded longer than the grace period ago, and their unused blobs."""
    cutoff = timezone.now() - timedelta(seconds=settings.PUBLICATION_GRACE_SECONDS)
    expired = Publication.objects.filter(superseded__lte=cutoff)
    candidates = set(PublicationFile.objects.filter(publication__in=expired).values_list("blob_id", flat=True))
    count = expired.count()
    expired.delete()
    versions.collect_blobs(candidates)
    return count
