"""gunicorn hooks for Prometheus' multiprocess mode (PROMETHEUS_MULTIPROC_DIR): start each
server with an empty metrics folder, and retire a worker's live gauges when it exits.
Used by `make run` and the deployment: gunicorn -c python:registry.gunicorn_conf …"""

import os
import shutil


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
