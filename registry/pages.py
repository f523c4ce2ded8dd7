"""Index pages (simple index, packument, maven-metadata.xml…): rendered from rows, cached until
the subject's revision moves, and revalidated cheaply with an ETag.

A page is keyed by its subject (a repository or a package) and revision, the variant the client
asked for (content type, abbreviated or not) and the origin it used, since absolute URLs in the
page depend on it. A write bumps the revision, so nothing needs explicit invalidation and web
nodes sharing a cache stay consistent.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.http import http_date, quote_etag

# Clients must revalidate every time; the ETag makes that a 304.
PAGE_CACHE_CONTROL = "max-age=0, no-cache"
PUBLIC_FILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# A private repository's pages and files must not be kept by shared caches (proxies, CDNs).
PRIVATE_FILE_CACHE_CONTROL = "private, max-age=31536000, immutable"


def page_cache_control(repository):
    return PAGE_CACHE_CONTROL if repository.is_public else "private, " + PAGE_CACHE_CONTROL


def file_cache_control(repository):
    return PUBLIC_FILE_CACHE_CONTROL if repository.is_public else PRIVATE_FILE_CACHE_CONTROL


def _key(subject, variant, origin):
    stamp = f"{type(subject).__name__}-{subject.pk}-{subject.revision}-{subject.updated.timestamp()}"
    return hashlib.sha1(f"{origin}|{variant}|{stamp}".encode()).hexdigest()


def cached_body(subject, variant, render, origin=""):
    """What `render()` builds for `subject`, from the cache while its revision has not moved.
    `origin` must be given when the body holds absolute URLs."""
    key = "page:" + _key(subject, variant, origin)
    body = cache.get(key)
    if body is None:
        body = render()
        cache.set(key, body, settings.INDEX_CACHE_SECONDS)
    return body


def cached_page(request, repository, subject, variant, content_type, render, vary="Accept"):
    """The page `render()` builds for `subject`, from the cache when the subject's revision has
    not moved; 304 when the client's copy is current. `render` returns str or bytes."""
    origin = f"{request.scheme}://{request.get_host()}"
    digest = _key(subject, variant, origin)
    etag = quote_etag(digest)
    headers = {"ETag": etag, "Cache-Control": page_cache_control(repository), "Vary": vary}
    if _client_has(request, etag):
        # With the page's own Content-Type: a cache merges a 304's headers into its stored
        # answer (RFC 9111 4.3.4), and Poetry reads a JSON index as HTML (finding no files)
        # when a 304 says text/html.
        return _with(HttpResponse(status=304, content_type=content_type), headers)
    body = cached_body(subject, variant, render, origin)
    response = HttpResponse(body, content_type=content_type)
    response["Last-Modified"] = http_date(subject.updated.timestamp())
    return _with(response, headers)


def _client_has(request, etag):
    if_none_match = request.headers.get("If-None-Match")
    if not if_none_match:
        return False
    return etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]


def _with(response, headers):
    for name, value in headers.items():
        response[name] = value
    return response
