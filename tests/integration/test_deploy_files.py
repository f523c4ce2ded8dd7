"""docker-compose.yml, its env file, the nginx template and the Dockerfile, checked without a
Docker engine: `docker compose config` when the CLI has the compose plugin, and always a check
of the structure that matters — and that they stay in step with the process topology that
tests/e2e/test_topology.py runs (the same setting names, the same commands)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures.deployment import TEST_ONLY, shared_settings

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"nginx", "web", "worker", "beat", "postgres", "redis", "minio"}
ONE_SHOT = {"migrate", "minio-setup"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example():
    lines = (ROOT / "deploy" / "registry.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def app_environment(compose, service):
    return compose["services"][service]["environment"]


def test_docker_compose_config_accepts_it(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` here: the structure is checked by the other tests of this file")
    env = tmp_path / "registry.env"
    env.write_text((ROOT / "deploy" / "registry.env.example").read_text())
    result = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_services_and_health_checks(compose):
    services = compose["services"]
    assert set(services) == LONG_RUNNING | ONE_SHOT
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert services[name].get("restart") == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no"
    assert services["web"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    # Nothing but nginx is published to the host.
    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]
    assert services["nginx"]["ports"] == ["80:80", "443:443"]
    # The app waits for its database schema, broker and bucket.
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_settings_are_those_of_the_tested_topology(compose, env_example):
    tested = set(shared_settings(database_url="", redis="", s3_endpoint="", bucket="", region="",
                                 credentials={"aws_access_key_id": "", "aws_secret_access_key": ""}, run=""))
    for service in ("web", "worker", "beat", "migrate"):
        assert compose["services"][service]["env_file"] == "deploy/registry.env"
        deployed = set(app_environment(compose, service)) | set(env_example)
        assert tested - TEST_ONLY <= deployed, f"{service} lacks {sorted(tested - TEST_ONLY - deployed)}"
        assert not TEST_ONLY & set(app_environment(compose, service))
    environment = app_environment(compose, "web")
    assert environment["SERVE_MODE"] == "x-accel" and environment["STORAGE_BACKEND"] == "s3"
    assert environment["S3_ENDPOINT_URL"] == compose["services"]["nginx"]["environment"]["S3_INTERNAL_ENDPOINT"]
    # Every secret is a placeholder to change, and the two copies of each password agree.
    for name in ("SECRET_KEY", "SIGNING_KEY_SECRETS", "DJANGO_SUPERUSER_PASSWORD", "POSTGRES_PASSWORD",
                 "MINIO_ROOT_PASSWORD"):
        assert env_example[name].startswith("change-me"), name
    assert f":{env_example['POSTGRES_PASSWORD']}@postgres:5432/registry" in env_example["DATABASE_URL"]
    assert env_example["AWS_SECRET_ACCESS_KEY"] == env_example["MINIO_ROOT_PASSWORD"]
    assert env_example["AWS_ACCESS_KEY_ID"] == env_example["MINIO_ROOT_USER"]


def test_commands_are_those_of_the_tested_topology(compose):
    services = compose["services"]
    web = services["web"]["command"]
    makefile = (ROOT / "Makefile").read_text()
    live_server = (ROOT / "tests" / "e2e" / "conftest.py").read_text()
    assert web[:4] == ["gunicorn", "registry.wsgi:application", "--config", "python:registry.gunicorn_conf"]
    assert "--config python:registry.gunicorn_conf" in makefile
    assert '"--config", "python:registry.gunicorn_conf"' in live_server
    assert "--no-control-socket" in web and "--forwarded-allow-ips" in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "registry", "worker"]
    processes = (ROOT / "tests" / "e2e" / "processes.py").read_text()
    assert '"celery")' in processes and '"-A", "registry", "worker"' in processes
    assert services["beat"]["command"][:4] == ["celery", "-A", "registry", "beat"]
    assert "manage.py migrate --noinput && python manage.py bootstrap_admin" in services["migrate"]["command"][-1]


def test_the_nginx_template_gets_every_value(compose):
    template = (ROOT / "deploy" / "nginx" / "registry.conf.template").read_text()
    nginx = compose["services"]["nginx"]
    assert "./deploy/nginx/registry.conf.template:/etc/nginx/templates/registry.conf.template:ro" in nginx["volumes"]
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", template))
    assert needed == set(nginx["environment"]), needed ^ set(nginx["environment"])
    processes = (ROOT / "tests" / "e2e" / "processes.py").read_text()
    assert needed <= set(re.findall(r'"([A-Z0-9_]+)":', processes))  # the test renders the same names
    # The blob location is the one the app names in X-Accel-Redirect.
    assert "location /_blobs/ {" in template and "internal;" in template
    assert 'proxy_set_header Authorization "";' in template


def test_the_image_is_multi_stage_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 2
    final = stages[-1]
    assert "build-essential" in stages[0] and "build-essential" not in final
    assert re.search(r"^USER registry$", final, re.M)
    assert "HEALTHCHECK" in final and "/-/health" in final
    assert "COPY templates ./templates" in final
