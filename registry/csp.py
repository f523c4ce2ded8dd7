"""Content-Security-Policy on every answer (django-csp's middleware).

The web UI, the REST API's pages and the admin get CONTENT_SECURITY_POLICY: scripts, styles,
images and connections only from this origin, nothing inline, no framing. A README cannot load
an image from elsewhere, so an uploader cannot learn who reads a private package.

What /repository/ serves is not a page of ours but clients' data, some of it uploaded by anyone
with write access (an .html in a Maven repository, a .js in an npm tarball's directory listing, a
README in a packument). A browser that opens it gets a sandbox with nothing allowed: no script
runs, and the document has no origin of its own, so it cannot reach the registry's cookies or
pages as this site.
"""

from functools import cache

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy

REPOSITORY_PREFIX = "/repository/"
REPOSITORY_DIRECTIVES = {
    "default-src": ["'none'"],
    "sandbox": True,  # no value: nothing allowed
    "frame-ancestors": ["'none'"],
}


# DRF's browsable API (the REST API's answers as HTML pages) is styled with inline style
# attributes and a <style> element throughout its templates: those pages may use inline styles.
# Scripts, images and connections stay this origin's only.
API_PREFIX = "/api/v1/"
BROWSABLE_API_UPDATE = {"style-src": ["'unsafe-inline'"]}

# What a view's csp decorators leave on its response (then django-csp's own path builds it).
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        kind = _kind(request, response)
        if kind == "repository":
            parts.config = REPOSITORY_DIRECTIVES
        elif kind == "browsable-api":
            parts.update = {**(parts.update or {}), **BROWSABLE_API_UPDATE}
        return parts

    def process_response(self, request, response):
        # The usual answer (no nonce, no decorator) gets one of three fixed headers, built once:
        # django-csp builds the header anew for every response, which costs a download ~0.1 ms.
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _PER_RESPONSE):
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = _policy(_kind(request, response))
        return response


def _kind(request, response):
    if request.path_info.startswith(REPOSITORY_PREFIX):
        return "repository"
    if request.path_info.startswith(API_PREFIX) and response.get("Content-Type", "").startswith("text/html"):
        return "browsable-api"
    return "site"


@cache
def _policy(kind):
    if kind == "repository":
        return build_policy(config=REPOSITORY_DIRECTIVES)
    return build_policy(update=BROWSABLE_API_UPDATE if kind == "browsable-api" else None)
