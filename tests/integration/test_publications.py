"""Publications with a small test format: built from rows, switched in whole, one builder at a
time, a failed or killed build leaves the previous one served, old ones kept for a grace period."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry import plugins
from registry.models import Blob, Publication, PublishLease, Repository
from registry.plugins import FormatPlugin
from registry.services import publications
from storage import blobs

pytestmark = pytest.mark.django_db


class IndexFormat(FormatPlugin):
    """Publishes an index of the repository's revision and a 'signature' file per build."""

    name = "index-test"
    label = "Index"
    fail_with = None
    builds = 0

    def build_publication(self, repository):
        IndexFormat.builds += 1
        if IndexFormat.fail_with is not None:
            raise IndexFormat.fail_with
        index = f"revision {repository.revision}\n".encode()
        return {"index.txt": index, f"by-hash/{sha256(index)}": index, "static.txt": b"same every time\n"}


def sha256(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def repository():
    plugins.register(IndexFormat())
    IndexFormat.fail_with, IndexFormat.builds = None, 0
    yield Repository.objects.create(name="indexed", format="index-test", visibility="public")
    plugins._plugins.pop("index-test")


def read(repository, path, **options):
    repository.refresh_from_db()
    blob = publications.find_file(repository, path, **options)
    if blob is None:
        return None
    with blobs.open_blob(blob.storage_key) as handle:
        return handle.read()


def test_publish_then_up_to_date(repository):
    publication = publications.publish(repository.pk)
    assert isinstance(publication, Publication)
    assert read(repository, "index.txt") == b"revision 0\n"
    assert publications.publish(repository.pk) == publications.UP_TO_DATE
    assert IndexFormat.builds == 1


def test_a_write_makes_a_new_publication_and_the_old_one_stays_for_a_while(repository):
    first = publications.publish(repository.pk)
    repository.bump_revision()
    second = publications.publish(repository.pk)
    assert second.pk != first.pk
    assert read(repository, "index.txt") == b"revision 1\n"
    first.refresh_from_db()
    assert first.superseded is not None
    old_by_hash = f"by-hash/{sha256(b'revision 0' + bytes([10]))}"
    # A file only the old publication has is still there for clients mid-update...
    assert read(repository, old_by_hash, any_live=True) == b"revision 0\n"
    # ...but not as part of the current one.
    assert read(repository, old_by_hash) is None


def test_another_builder_holding_the_lease(repository):
    PublishLease.objects.create(repository=repository, holder="worker-a",
                                expires=timezone.now() + timedelta(minutes=5))
    assert publications.publish(repository.pk, holder="worker-b") == publications.BUSY
    assert IndexFormat.builds == 0
    # A worker killed mid-build: its lease runs out and the next run takes over.
    PublishLease.objects.filter(repository=repository).update(expires=timezone.now() - timedelta(seconds=1))
    assert isinstance(publications.publish(repository.pk, holder="worker-b"), Publication)
    assert PublishLease.objects.get(repository=repository).holder == ""


def test_a_failed_build_leaves_the_previous_publication(repository):
    first = publications.publish(repository.pk)
    repository.bump_revision()
    IndexFormat.fail_with = RuntimeError("worker lost its database connection")
    with pytest.raises(RuntimeError):
        publications.publish(repository.pk)
    repository.refresh_from_db()
    assert repository.current_publication_id == first.pk
    assert Publication.objects.count() == 1
    assert read(repository, "index.txt") == b"revision 0\n"
    assert PublishLease.objects.get(repository=repository).holder == ""
    IndexFormat.fail_with = None
    assert read(repository, "index.txt") == b"revision 0\n"
    publications.publish(repository.pk)
    assert read(repository, "index.txt") == b"revision 1\n"


def test_expired_publications_go_but_shared_blobs_stay(repository, settings):
    settings.PUBLICATION_GRACE_SECONDS = 60
    first = publications.publish(repository.pk)
    repository.bump_revision()
    publications.publish(repository.pk)
    Publication.objects.filter(pk=first.pk).update(superseded=timezone.now() - timedelta(minutes=2))
    assert publications.remove_expired() == 1
    assert not Publication.objects.filter(pk=first.pk).exists()
    # "static.txt" has the same bytes in both publications: its blob is still served.
    assert read(repository, "static.txt") == b"same every time\n"
    # The old index's bytes are gone with it; the by-hash file of the old one is no more.
    assert not Blob.objects.filter(sha256=sha256(b"revision 0\n")).exists()
    assert read(repository, f"by-hash/{sha256(b'revision 0' + bytes([10]))}", any_live=True) is None


def test_the_task_debounces_through_the_revision(repository, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            repository.bump_revision()
            publications.request_publish(repository)
    # In-process, each request runs at once; only the first finds work, the rest are no-ops.
    assert IndexFormat.builds == 1
    assert read(repository, "index.txt") == b"revision 3\n"
