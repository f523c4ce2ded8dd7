"""Background work of the Maven format (Celery; in-process when no broker is configured)."""

from celery import shared_task

from registry.models import Repository

from . import ingest


@shared_task(ignore_result=True)
def prune_snapshots(repository_id):
    """Drop SNAPSHOT builds beyond the repository's `snapshot_keep`."""
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is not None:
        ingest.prune_snapshots(repository)
