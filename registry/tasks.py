"""The core's background tasks (Celery; in-process when no broker is configured)."""

import time

from celery import shared_task
from django.conf import settings

from registry import plugins
from registry.proxy import cleanup
from registry.services import publications, tokens

# How long to wait before trying again when another worker is building the same repository.
BUSY_RETRY_SECONDS = 5
EAGER_POLL_SECONDS = 0.25


@shared_task(bind=True, ignore_result=True, max_retries=None)
def publish_repository(self, repository_id):
    """Bring the repository's publication up to date (no-op when it already is)."""
    outcome = publications.publish(repository_id, holder=self.request.id)
    if outcome != publications.BUSY:
        return
    # The builder holding the lease may have started before the latest write: come back after
    # it, so that write is published too.
    if not self.request.is_eager:
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    # In-process (no broker): another web process is building; wait for it, then build.
    deadline = time.monotonic() + settings.PUBLISH_LEASE_SECONDS
    while outcome == publications.BUSY and time.monotonic() < deadline:
        time.sleep(EAGER_POLL_SECONDS)
        outcome = publications.publish(repository_id, holder=self.request.id)


@shared_task(ignore_result=True)
def remove_expired_publications():
    return publications.remove_expired()


@shared_task(ignore_result=True)
def remove_expired_tokens():
    return tokens.remove_expired(settings.TOKEN_RETENTION_DAYS)


@shared_task(ignore_result=True)
def format_maintenance():
    """Each format's periodic upkeep (Maven: SNAPSHOT builds beyond snapshot_keep)."""
    return {name: plugin.maintain() for name, plugin in plugins.all_plugins().items()}


@shared_task(ignore_result=True)
def remove_unrequested_proxy_files():
    """Proxies' cached files not requested for PROXY_CACHE_DAYS (off when 0)."""
    return cleanup.remove_unrequested()
