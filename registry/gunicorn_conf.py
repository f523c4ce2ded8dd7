"""gunicorn hooks for Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR): start each
server with an empty metrics folder, and retire a worker's live gauges when it exits; and a
logger that keeps secrets out of the access and error logs.
Used by `make run` and the deployment: gunicorn -c python:registry.gunicorn_conf …"""

import os
import shutil

from gunicorn.glogging import Logger

from registry.redaction import RedactingFilter, redact


class RedactingLogger(Logger):
    """gunicorn's logger with every secret redacted: the access log's fields (a token in a URL
    path, credentials in a Referer, an Authorization header in a custom format), and whatever
    reaches the error log or a handler a logging configuration adds."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())


logger_class = RedactingLogger


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        # Counts of an earlier run would add up with this one's.
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
