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

from csp.middleware import CSPMiddleware

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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if request.path_info.startswith(REPOSITORY_PREFIX):
            parts.config = REPOSITORY_DIRECTIVES
        elif request.path_info.startswith(API_PREFIX) and response.get("Content-Type", "").startswith("text/html"):
            parts.update = {**(parts.update or {}), **BROWSABLE_API_UPDATE}
        return parts
