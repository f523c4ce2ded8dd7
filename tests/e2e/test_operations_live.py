"""The operations endpoints of a live gunicorn with two workers: metrics add up across the
worker processes, readiness reports each dependency."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.e2e


def samples(server, name, **labels):
    response = server.request("GET", "/-/metrics")
    assert response.status == 200, response
    total = 0
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_metrics_add_up_across_worker_processes(server):
    before = samples(server, "registry_http_requests_total", area="ops", method="GET", status="200")
    # Enough requests that both gunicorn workers answer some.
    for _ in range(40):
        assert server.request("GET", "/-/health").status == 200
    after = samples(server, "registry_http_requests_total", area="ops", method="GET", status="200")
    # Each scrape is counted too (after it is answered), so at least the 40 health checks.
    assert after - before >= 40


def test_ready_on_the_live_server(server):
    response = server.request("GET", "/-/ready")
    assert response.status == 200, response
    body = json.loads(response.body)
    assert body["status"] == "ready" and body["checks"]["database"]["ok"]
    assert server.request("GET", "/-/health").body == b"ok\n"
