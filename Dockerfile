# The registry's application image: web nodes (gunicorn), Celery workers and beat all run it.
#   docker build -t artifact-registry .
# Two stages: the first builds the virtualenv (with a compiler for any dependency without a
# wheel); the second has only the runtime, gpg and rpmsign, and runs as a non-root user.

FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY registry ./registry
COPY formats ./formats
COPY storage ./storage
COPY signing ./signing
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir . \
 # The code runs from /app (beside its templates), not from site-packages: keep the dependencies only.
 && /opt/venv/bin/pip uninstall -y artifact-registry

FROM python:3.11-slim-bookworm
# gpg signs repository metadata; rpm brings rpmsign for signing RPM packages on upload.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gnupg rpm \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/registry registry
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY manage.py ./
COPY registry ./registry
COPY formats ./formats
COPY storage ./storage
COPY signing ./signing
COPY templates ./templates
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=registry.settings \
    VAR_DIR=/var/lib/registry \
    PROMETHEUS_MULTIPROC_DIR=/tmp/registry-metrics
# Static files are part of the image; a throwaway key is enough to collect them.
RUN SECRET_KEY=collectstatic VAR_DIR=/tmp/collect python manage.py collectstatic --noinput --verbosity 0 \
 && mv /tmp/collect/static /app/static && rm -rf /tmp/collect
ENV STATIC_ROOT=/app/static
USER registry
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/-/health', timeout=4)"
CMD ["gunicorn", "registry.wsgi:application", "--config", "python:registry.gunicorn_conf", \
     "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "300", "--forwarded-allow-ips", "*", \
     "--access-logfile", "-", "--no-control-socket"]
