"""The Celery app. With no CELERY_BROKER_URL, tasks run in-process (settings: ALWAYS_EAGER)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _serve_metrics(**_signal):
    # Workers have no web server of their own: with WORKER_METRICS_PORT, Prometheus scrapes them here.
    port = os.environ.get("WORKER_METRICS_PORT")
    if port:
        from registry import metrics

        metrics.serve_worker_metrics(int(port))
