"""The endpoints a load balancer and an orchestrator poll: /-/health (the process answers) and
/-/ready (it can serve: database, broker, blob store and cache reachable). No credentials, and
nothing in the answers that names a repository or a secret."""

import json

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registry import probes


@never_cache
@require_http_methods(["GET", "HEAD"])
def health(request):
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@never_cache
@require_http_methods(["GET", "HEAD"])
def ready(request):
    checks = [probes.run(name, probe) for name, probe in probes.READINESS]
    ready_now = all(check.ok for check in checks)
    body = {"status": "ready" if ready_now else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail, "seconds": c.seconds} for c in checks}}
    return HttpResponse(json.dumps(body, indent=2) + "\n", content_type="application/json",
                        status=200 if ready_now else 503)
