"""A proxy's index documents (simple pages, packuments, metadata files): the upstream's answer
as the format parsed it, kept in UpstreamDocument.

- younger than the upstream's metadata_max_age: served without asking the upstream;
- older: revalidated (If-None-Match / If-Modified-Since; a 304 only renews its age);
- the upstream's 404/410 is remembered for negative_max_age (the negative cache);
- the upstream unreachable, failing, offline or its circuit open: the cached copy is served
  stale (the caller adds `stale_headers`) and logged; with nothing cached, 502/504.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry import plugins
from registry.errors import InvalidInput, NotFound, UpstreamFailed, UpstreamTimeout
from registry.http import reason_phrase
from registry.models import Role, UpstreamDocument
from registry.services import access, audit

from . import client, configuration, health

logger = logging.getLogger(__name__)

NOT_FOUND = 404


class Unreadable(ValueError):
    """What a format's parse raises for an upstream document it cannot read."""


@dataclass
class Document:
    row: UpstreamDocument
    # Why the upstream could not confirm it, when served stale; "" when current.
    stale_reason: str = ""

    @property
    def content(self):
        return self.row.content


def get(repository, key, url, *, accept, parse):
    """The document of `repository`'s upstream at `url`, cached under `key`.

    `parse(body, content_type, final_url)` turns the upstream's bytes into JSON-able content
    (relative links resolve against final_url) or raises Unreadable. Raises NotFound when the
    upstream has no such document, UpstreamFailed/UpstreamTimeout when it cannot be had.
    """
    upstream = configuration.upstream_of(repository)
    row = UpstreamDocument.objects.filter(repository=repository, key=key).first()
    if row is not None:
        max_age = upstream.negative_max_age if row.status == NOT_FOUND else upstream.metadata_max_age
        if timezone.now() - row.checked < timedelta(seconds=max_age):
            return _answer(row, key)
    try:
        health.ensure_callable(upstream)
    except health.Unavailable as exc:
        return _stale_or_raise(row, key, str(exc), timeout=False)
    headers = {"Accept": accept}
    if row is not None and row.status != NOT_FOUND:
        if row.etag:
            headers["If-None-Match"] = row.etag
        if row.last_modified:
            headers["If-Modified-Since"] = row.last_modified
    try:
        response, final_url = client.get(upstream, url, home=repository.upstream_url, headers=headers)
    except client.FetchError as exc:
        health.failed(upstream, str(exc))
        return _stale_or_raise(row, key, str(exc), timeout=exc.timeout)
    try:
        if response.status == 304 and row is not None and row.status != NOT_FOUND:
            UpstreamDocument.objects.filter(pk=row.pk).update(checked=timezone.now())
            health.succeeded(upstream)
            return Document(row)
        if response.status in (404, 410):
            health.succeeded(upstream)
            row = _save(repository, row, key, status=NOT_FOUND, content={}, etag="", last_modified="")
            return _answer(row, key)
        if response.status != 200:
            message = f"The upstream answered {response.status} {response.reason or ''} for {key}".strip()
            health.failed(upstream, message)
            return _stale_or_raise(row, key, message, timeout=False)
        try:
            body = client.read_limited(response, settings.PROXY_MAX_DOCUMENT_SIZE)
        except client.FetchError as exc:
            health.failed(upstream, str(exc))
            return _stale_or_raise(row, key, str(exc), timeout=exc.timeout)
        try:
            content = parse(body, response.headers.get("Content-Type", ""), final_url)
        except Unreadable as exc:
            message = f"The upstream's {key} cannot be read: {exc}"
            logger.warning("repository %s: %s", repository.name, message)
            return _stale_or_raise(row, key, message, timeout=False)
        health.succeeded(upstream)
        row = _save(repository, row, key, status=200, content=content,
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""))
        return Document(row)
    finally:
        response.release_conn()


def cached(repository, key):
    """The cached document under `key` whatever its age, without calling the upstream (None
    when there is none or it is a "not found")."""
    row = UpstreamDocument.objects.filter(repository=repository, key=key, status=200).first()
    return Document(row) if row is not None else None


def known_missing(repository, key):
    """Whether the upstream answered "not found" for `key` less than negative_max_age ago: a
    file's 404 (remembered with remember_missing) as well as a document's."""
    upstream = configuration.upstream_of(repository)
    since = timezone.now() - timedelta(seconds=upstream.negative_max_age)
    return UpstreamDocument.objects.filter(repository=repository, key=key, status=NOT_FOUND,
                                           checked__gt=since).exists()


def remember_missing(repository, key):
    """Remember the upstream's "not found" for a file at `key` (the negative cache)."""
    row = UpstreamDocument.objects.filter(repository=repository, key=key).first()
    _save(repository, row, key, status=NOT_FOUND, content={}, etag="", last_modified="")


def forget_missing(repository, prefix):
    """Drop the remembered "not found"s under `prefix`, e.g. when the index above them changed
    (a new version may have brought them): the next request asks the upstream."""
    return UpstreamDocument.objects.filter(repository=repository, key__startswith=prefix,
                                           status=NOT_FOUND).delete()[0]


def invalidate(actor, repository, package=None):
    """Forget the cached index documents of a proxy (of one package, by the format's keys, or
    all), as its admin: the next request asks the upstream. Cached files stay (they are
    verified and immutable). Audited; returns how many documents were dropped."""
    access.require(actor, repository, Role.ADMIN)
    if repository.kind != repository.Kind.PROXY:
        raise InvalidInput(f"{repository.name} is not a proxy: it caches nothing.")
    rows = UpstreamDocument.objects.filter(repository=repository)
    if package:
        rows = rows.filter(key__in=plugins.get(repository.format).proxy_document_keys(package))
    with transaction.atomic():
        dropped = rows.delete()[0]
        audit.record(actor, "proxy.invalidate", repository=repository, package_name=package or "",
                     documents=dropped)
    return dropped


def stale_headers(document):
    """RFC 9111 (and 7234 §5.5) Warning 110 on a stale answer, so clients and people see it."""
    if not document.stale_reason:
        return {}
    return {"Warning": f'110 - "Response is Stale: {reason_phrase(document.stale_reason, 200)}"'}


def _answer(row, key):
    if row.status == NOT_FOUND:
        raise NotFound(f"Not found on the upstream: {key}")
    return Document(row)


def _stale_or_raise(row, key, reason, *, timeout):
    if row is not None and row.status != NOT_FOUND:
        logger.warning("repository %s: serving stale %s (%s)", row.repository_id, key, reason)
        return Document(row, stale_reason=reason)
    if row is not None:
        raise NotFound(f"Not found on the upstream: {key}")
    error = UpstreamTimeout if timeout else UpstreamFailed
    raise error(f"{reason} Nothing is cached for {key}.")


def _save(repository, row, key, *, status, content, etag, last_modified):
    now = timezone.now()
    fields = {"status": status, "content": content, "etag": etag[:1024],
              "last_modified": last_modified[:100], "checked": now}
    if row is None:
        try:
            return UpstreamDocument.objects.create(repository=repository, key=key, **fields)
        except IntegrityError:
            # Another request stored it first; ours is as recent.
            row = UpstreamDocument.objects.get(repository=repository, key=key)
    changed = row.status != status or row.content != content
    if not changed:
        # Only the age and validators move: the page keyed by revision and `updated` stays.
        UpstreamDocument.objects.filter(pk=row.pk).update(**fields)
        for name, value in fields.items():
            setattr(row, name, value)
        return row
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    row.bump_revision()
    row.refresh_from_db(fields=["revision", "updated"])
    return row
