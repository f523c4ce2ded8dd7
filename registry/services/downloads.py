"""Download counts: one row per file and day, added to as files are served."""

import datetime
import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from registry.models import FileDownloads

log = logging.getLogger(__name__)


def count(package_file):
    """Add one download of `package_file` today. A count that cannot be written (a busy SQLite
    database) is logged and dropped: the download itself must not fail for it."""
    today = timezone.now().date()
    try:
        rows = FileDownloads.objects.filter(file=package_file, day=today)
        if rows.update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                FileDownloads.objects.create(file=package_file, day=today, count=1)
        except IntegrityError:
            # Another request made today's row first.
            rows.update(count=F("count") + 1)
    except DatabaseError:
        log.warning("download of %s not counted", package_file.path, exc_info=True)


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
