"""gunicorn hooks for Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR): start each
server with an empty metrics folder, and retire a worker's live gauges when it exits; and a
logger that keeps secrets out of the access and error logs.
Used by `make run` and the deployment: gunicorn -c python:registry.gunicorn_conf …"""

import os
import re
import shutil

from gunicorn.glogging import Logger

from registry.redaction import RedactingFilter, redact


class RedactingLogger(Logger):
    """gunicorn's logger with every secret redacted: the access log's fields (a token in a URL
    path, credentials in a Referer, an Authorization header in a custom format), and whatever
    reaches the error log or a handler a logging configuration adds."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Only the fields the format prints (a request has dozens: every header and environ
        # variable), so redaction costs microseconds per line.
        for name in self._printed_fields():
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms

    def _printed_fields(self):
        layout = self.cfg.access_log_format
        if getattr(self, "_layout", None) != layout:
            names = re.findall(r"%\(([^)]+)\)", layout)
            # gunicorn looks up {header}i, {header}o and {variable}e fields in lower case.
            self._fields = {name.lower() if name.startswith("{") else name for name in names}
            self._layout = layout
        return self._fields

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
