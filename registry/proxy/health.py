"""An upstream's health and the circuit breaker: after PROXY_FAILURE_THRESHOLD failures in a
row the upstream is not called for PROXY_RETRY_SECONDS, so a dead upstream does not add its
timeout to every request; the first call after that is a trial (one more failure reopens).
The state lives in the Upstream row, shared by every process."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from registry.models import Upstream

logger = logging.getLogger(__name__)


class Unavailable(Exception):
    """The upstream must not be called now (offline, or the circuit is open)."""


def ensure_callable(upstream):
    if upstream.offline:
        raise Unavailable("The proxy is offline: it serves only what is cached.")
    if upstream.retry_after and upstream.retry_after > timezone.now():
        raise Unavailable(
            f"The upstream failed {upstream.failures} times in a row (last: "
            f"{upstream.last_error}); it is not called again before "
            f"{upstream.retry_after:%Y-%m-%d %H:%M:%S} UTC.")


def failed(upstream, message):
    now = timezone.now()
    failures = upstream.failures + 1
    changes = {"failures": F("failures") + 1, "last_error": message[:2000], "last_failure": now}
    if failures >= settings.PROXY_FAILURE_THRESHOLD:
        changes["retry_after"] = now + timedelta(seconds=settings.PROXY_RETRY_SECONDS)
    Upstream.objects.filter(pk=upstream.pk).update(**changes)
    upstream.failures, upstream.last_error, upstream.last_failure = failures, message, now
    upstream.retry_after = changes.get("retry_after", upstream.retry_after)
    logger.warning("upstream of repository %s failed (%d in a row): %s",
                   upstream.repository_id, failures, message)


def succeeded(upstream):
    now = timezone.now()
    Upstream.objects.filter(pk=upstream.pk).update(failures=0, retry_after=None, last_success=now)
    if upstream.failures:
        logger.info("upstream of repository %s answers again", upstream.repository_id)
    upstream.failures, upstream.retry_after, upstream.last_success = 0, None, now


def describe(upstream):
    """The health as the API shows it."""
    return {
        "status": upstream.status,
        "consecutive_failures": upstream.failures,
        "last_error": upstream.last_error,
        "last_failure": upstream.last_failure,
        "last_success": upstream.last_success,
        "retry_after": upstream.retry_after,
    }
