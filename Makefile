# The two commands of the README: `make run` and `make test`.
PORT ?= 8000
HOST ?= 127.0.0.1
WORKERS ?= 3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3

.PHONY: run test fuzz bench migrate clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: migrate
	$(PY) manage.py bootstrap_admin
	@echo "Serving on http://$(HOST):$(PORT)/  (log in at http://$(HOST):$(PORT)/accounts/login/)"
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/metrics $(VENV)/bin/gunicorn registry.wsgi:application \
		--config python:registry.gunicorn_conf --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--timeout 300 --access-logfile - --forwarded-allow-ips=127.0.0.1 --no-control-socket

test: $(VENV)/.installed-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Every fuzz suite (the `fuzz` marker) with many more generated inputs than `make test` gives
# them; each suite reads FUZZ_EXAMPLES.
FUZZ_EXAMPLES ?= 300
fuzz: $(VENV)/.installed-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -m fuzz $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) benchmarks/run.py
	$(PY) benchmarks/npm.py

clean:
	rm -rf $(VENV) var
