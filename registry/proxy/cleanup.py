"""Cached files nobody asked for lately: a proxy's files not downloaded for PROXY_CACHE_DAYS, and
the index blobs it has not served for as long, are removed (0, the default, keeps them for good)
by Celery beat's daily task. A removed file is fetched and verified again on its next request;
hosted files are never touched."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from registry.models import FileDownloads, PackageFile, Repository, UpstreamBlob
from registry.services import downloads, versions


def remove_unrequested(days=None, now=None):
    """Remove the proxies' files cached more than `days` ago and not downloaded since; returns
    how many."""
    days = settings.PROXY_CACHE_DAYS if days is None else days
    if days <= 0:
        return 0
    downloads.flush()  # this process's counts, so that a file just served is seen as requested
    cutoff = (now or timezone.now()) - timedelta(days=days)
    requested = FileDownloads.objects.filter(day__gte=cutoff.date()).values("file_id")
    unrequested = list(
        PackageFile.objects.filter(repository__kind=Repository.Kind.PROXY, created__lt=cutoff)
        .exclude(pk__in=requested).select_related("version__package__repository"))
    versions.delete_files(None, unrequested, f"cached file not requested for {days} days")
    # Index and metadata blobs the proxies have not served since: their references go, and the
    # blobs with them unless something else still refers to their bytes.
    stale = UpstreamBlob.objects.filter(used__lt=cutoff)
    sha256s = list(stale.values_list("blob_id", flat=True))
    stale.delete()
    versions.collect_blobs(set(sha256s))
    return len(unrequested)
