"""/api/docs/: Swagger UI under the site's Content-Security-Policy, with no internet.

Its files come from drf-spectacular-sidecar (static files of this project, SWAGGER_UI_DIST =
"SIDECAR"); its start-up script is a second request to the same URL (`?script`), not inline;
its page is ours, with the inline style moved to a static file."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "registry/api_docs.html"
