"""The Celery app. With no CELERY_BROKER_URL, tasks run in-process (settings: ALWAYS_EAGER)."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, worker_ready

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


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_logs(logger, **_signal):
    # A worker's own handlers replace those of Django's LOGGING: they get its filter too.
    from registry.redaction import RedactingFilter

    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
