from django.urls import path, re_path

from registry.errors import Conflict, InvalidPackage
from registry.http import text_error
from registry.plugins import FormatPlugin

from . import details, parser, proxy, views
from .ingest import ingest_distribution, normalize


class PypiPlugin(FormatPlugin):
    name = "pypi"
    label = "PyPI"
    setup_template = "pypi/setup.html"

    def normalize_name(self, name):
        return normalize(name)

    def version_sort_key(self, version):
        return parser.sort_key(version)

    def urlpatterns(self):
        return [
            path("", views.root),
            path("legacy/", views.legacy),
            path("simple/", views.simple_root),
            re_path(r"^simple/(?P<project>[^/]+)/?$", views.simple_project),
            re_path(r"^packages/(?P<project>[^/]+)/(?P<filename>[^/]+)$", views.download),
        ]

    def proxy_urlpatterns(self):
        # The hosted URL shape, so that a client's configuration does not depend on the kind.
        return [
            path("", proxy.refuse_upload),
            path("legacy/", proxy.refuse_upload),
            path("simple/", proxy.simple_root),
            re_path(r"^simple/(?P<project>[^/]+)/?$", proxy.simple_project),
            re_path(r"^packages/(?P<project>[^/]+)/(?P<filename>[^/]+)$", proxy.download),
        ]

    def proxy_document_keys(self, name):
        return [proxy.project_key(normalize(name))]

    def ingest(self, repository, actor, upload):
        return ingest_distribution(
            repository, actor, upload.filename, upload.spooled, form=upload.fields
        )

    def install_command(self, base_url, package, version):
        return details.install_command(base_url, package.name, version.version)

    def version_details(self, version):
        return details.version_details(version.metadata or {})

    def can_yank(self):
        return True

    def error_response(self, request, exc):
        # twine prints the reason phrase; Warehouse answers a taken file name with 400
        # "File already exists", which is what --skip-existing tools look for.
        if isinstance(exc, Conflict):
            exc = InvalidPackage(exc.message)
        return text_error(exc)


plugin = PypiPlugin()
