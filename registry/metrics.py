"""Prometheus metrics: requests by area (each format, api, ui, ops…) and status, stored upload
bytes, publication build times, and the task queue's depth at scrape time.

Under gunicorn each worker process counts on its own; with PROMETHEUS_MULTIPROC_DIR set (as
`make run` and the deployment do) they write to files there and /-/metrics adds them up."""

import hmac
import ipaddress
import logging
import os
import time
from contextlib import contextmanager

import prometheus_client
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Paths outside /repository/<r>/ by their first segment; a repository's requests are counted
# under its format.
AREAS = {"api": "api", "-": "ops", "admin": "admin", "static": "static", "accounts": "ui", "ui": "ui", "": "ui",
         "repository": "repository"}  # a repository that does not exist

REQUESTS = Counter("registry_http_requests_total", "HTTP requests answered, by area (a format's name "
                   "for /repository/ requests, else api, ui, ops, admin or static), method and status",
                   ["area", "method", "status"])
UPLOAD_BYTES = Counter("registry_upload_bytes_total", "Bytes of package files stored, by format", ["format"])
UPLOADS = Counter("registry_uploads_total", "Package files stored, by format", ["format"])
PUBLISH_SECONDS = Histogram("registry_publish_seconds", "Time to build, sign and switch in a publication, "
                            "by format and outcome", ["format", "outcome"],
                            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))


class QueueDepthCollector:
    """The number of tasks waiting in the registry's queue, read from the Redis broker when
    scraped (nothing with no broker, or another broker)."""

    def collect(self):
        depth = queue_depth()
        if depth is not None:
            yield GaugeMetricFamily("registry_task_queue_depth", "Tasks waiting in the Celery queue",
                                    value=depth)


def queue_depth():
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    from registry.celery import app

    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            return connection.default_channel.client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # a scrape must answer even when the broker does not
        log.warning("queue depth not readable", exc_info=True)
        return None


_single_process = CollectorRegistry(auto_describe=True)
_single_process.register(QueueDepthCollector())


def _scrape_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(QueueDepthCollector())
        return registry
    return None


def exposition():
    """The metrics text of this node (every worker process's, in multiprocess mode)."""
    registry = _scrape_registry()
    if registry is not None:
        return prometheus_client.generate_latest(registry)
    return prometheus_client.generate_latest(prometheus_client.REGISTRY) + \
        prometheus_client.generate_latest(_single_process)


def serve_worker_metrics(port):
    """A Celery worker's own /metrics on `port` (its publication times, read by Prometheus from
    each worker host); every process of the worker when PROMETHEUS_MULTIPROC_DIR is set."""
    registry = _scrape_registry() or prometheus_client.REGISTRY
    prometheus_client.start_http_server(port, addr="0.0.0.0", registry=registry)
    log.info("worker metrics on port %d", port)


@never_cache
def metrics_view(request):
    """/-/metrics: with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`;
    without it, only for a scraper on the node itself (loopback, not relayed by a proxy)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    expected = settings.METRICS_TOKEN
    if expected:
        from registry import throttle
        from registry.http import client_address

        # METRICS_TOKEN is a secret an operator chose, maybe a weak one: throttled like a
        # password (a blocked address gets it unchecked).
        address = client_address(request)
        if seconds := throttle.blocked(address):
            return _throttled(throttle.too_many(seconds))
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            if seconds := throttle.record_failure(address, "METRICS_TOKEN"):
                return _throttled(throttle.too_many(seconds))
            return HttpResponse("Metrics need the METRICS_TOKEN as a Bearer token.\n", status=401,
                                content_type="text/plain; charset=utf-8",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    elif not from_this_host(request):
        return HttpResponse("Metrics are served only on this host's loopback address unless "
                            "METRICS_TOKEN is set.\n", status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(exposition(), content_type=prometheus_client.CONTENT_TYPE_LATEST)


def _throttled(error):
    from registry.http import text_error

    response = text_error(error)
    response["Retry-After"] = str(error.retry_after)
    return response


# Headers a reverse proxy adds: a request relayed by a proxy on this host comes from loopback
# too, but on someone else's behalf.
RELAYED_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def from_this_host(request):
    """Whether the request was made on this host: a loopback peer that no proxy relayed."""
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return peer.is_loopback and not any(name in request.headers for name in RELAYED_HEADERS)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        REQUESTS.labels(area_of(request), request.method if request.method in METHODS else "other",
                        str(response.status_code)).inc()
        return response


def area_of(request):
    # Set by repository_views.dispatch once the repository is known.
    repository_format = getattr(request, "registry_format", None)
    if repository_format:
        return repository_format
    first = request.path_info.lstrip("/").split("/", 1)[0]
    return AREAS.get(first, "other")


def uploaded(repository_format, size):
    UPLOADS.labels(repository_format).inc()
    UPLOAD_BYTES.labels(repository_format).inc(size)


@contextmanager
def publishing(repository_format):
    """Time a publication build; its outcome is `failed` when it raises."""
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "published"
    finally:
        PUBLISH_SECONDS.labels(repository_format, outcome).observe(time.monotonic() - started)
