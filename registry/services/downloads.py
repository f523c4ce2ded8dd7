"""Download counts: one row per file and day.

A count is kept in the process first and written after the response has gone (at the end of a
request, at most every DOWNLOAD_COUNT_FLUSH_SECONDS, and when the process exits), many counts in
one transaction: a download never waits for a database write. A process killed outright loses
the counts of its last few seconds."""

import atexit
import datetime
import logging
import threading
import time
from collections import Counter

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from registry.models import FileDownloads, PackageFile

log = logging.getLogger(__name__)

_pending = Counter()  # (file id, day) -> downloads not written yet
_lock = threading.Lock()
_last_flush = time.monotonic()


def count(package_file):
    """One more download of `package_file` today."""
    with _lock:
        _pending[(package_file.pk, timezone.now().date())] += 1


def flush_if_due(**_signal):
    """Write the pending counts if the last write is DOWNLOAD_COUNT_FLUSH_SECONDS old (called at
    the end of every request)."""
    if _pending and time.monotonic() - _last_flush >= settings.DOWNLOAD_COUNT_FLUSH_SECONDS:
        flush()


def flush():
    """Write every pending count. One that cannot be written (a busy SQLite database) is logged
    and dropped: counting must never fail a download."""
    global _last_flush
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if not batch:
        return
    try:
        with transaction.atomic():
            existing = set(PackageFile.objects.filter(pk__in={file_id for file_id, _day in batch})
                           .values_list("pk", flat=True))
            for (file_id, day), downloads in sorted(batch.items()):
                if file_id in existing:  # a file deleted since it was downloaded is not counted
                    _add(file_id, day, downloads)
    except DatabaseError:
        log.warning("%d download counts not written", sum(batch.values()), exc_info=True)


def _add(file_id, day, downloads):
    rows = FileDownloads.objects.filter(file_id=file_id, day=day)
    if rows.update(count=F("count") + downloads):
        return
    try:
        with transaction.atomic():
            FileDownloads.objects.create(file_id=file_id, day=day, count=downloads)
    except IntegrityError:
        # Another process made the day's row first.
        rows.update(count=F("count") + downloads)


def discard_pending():
    """Forget the counts not written yet (a test's database is rolled back under the process)."""
    with _lock:
        _pending.clear()


atexit.register(flush)


def totals_by_file(files):
    """{file id: downloads} for `files` (ids or rows)."""
    ids = [getattr(f, "pk", f) for f in files]
    rows = (FileDownloads.objects.filter(file_id__in=ids).values("file_id")
            .annotate(total=Sum("count")).values_list("file_id", "total"))
    return dict(rows)


def totals_by_version(versions):
    """{version id: downloads} for `versions` (ids or rows)."""
    ids = [getattr(v, "pk", v) for v in versions]
    rows = (FileDownloads.objects.filter(file__version_id__in=ids).values("file__version_id")
            .annotate(total=Sum("count")).values_list("file__version_id", "total"))
    return dict(rows)


def daily(version, days=30):
    """[(day, downloads)] of `version`'s files over the last `days` days, oldest first, a zero
    for a day without any."""
    today = timezone.now().date()
    first = today - datetime.timedelta(days=days - 1)
    rows = dict(FileDownloads.objects.filter(file__version=version, day__gte=first).values("day")
                .annotate(total=Sum("count")).values_list("day", "total"))
    return [(first + datetime.timedelta(days=n), rows.get(first + datetime.timedelta(days=n), 0))
            for n in range(days)]
