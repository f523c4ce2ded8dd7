from django.urls import re_path

from registry.plugins import FormatPlugin

from . import ingest, parser, views


class DebPlugin(FormatPlugin):
    name = "deb"
    label = "APT"
    setup_template = "deb/setup.html"
    publishes = True

    def version_sort_key(self, version):
        return parser.sort_key(version)

    def urlpatterns(self):
        return [
            re_path(r"^key\.asc$", views.public_key),
            re_path(r"^(?P<name>[^/]+)\.list$", views.sources_list),
            re_path(r"^dists/(?P<rest>.+)$", views.dists),
            re_path(r"^pool/(?P<rest>.+)$", views.pool),
            re_path(r"^(?P<filename>[^/]+\.deb)$", views.upload),
        ]

    def clean_settings(self, settings):
        return ingest.clean_settings(settings)

    def ingest(self, repository, actor, upload):
        return ingest.upload(repository, actor, upload.filename, upload.spooled,
                             upload.fields.get("distribution"), upload.fields.get("component"))

    def build_publication(self, repository):
        return ingest.build_publication(repository)


plugin = DebPlugin()
