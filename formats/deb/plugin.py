from django.urls import re_path

from registry import published
from registry.plugins import FormatPlugin, SettingField

from . import details, ingest, parser, proxy, views


class DebPlugin(FormatPlugin):
    name = "deb"
    label = "APT"
    setup_template = "deb/setup.html"
    publishes = True
    settings_fields = (
        SettingField("distributions", "Distributions", "list",
                     help="Always published, even empty, e.g. bookworm trixie; uploads go to the first "
                          "unless they name another."),
        SettingField("architectures", "Architectures", "list",
                     help="Indexed in every distribution, e.g. amd64 arm64 (Architecture: all packages are listed in each)."),
        SettingField("valid_until_days", "Valid-Until (days)", "int",
                     help="Release files expire after this many days; empty: never."),
        SettingField("origin", "Origin", help="The Release files' Origin (default: the repository name)."),
        SettingField("label", "Label", help="The Release files' Label (default: the repository name)."),
    )
    upload_fields = (
        SettingField("distribution", "Distribution", help="Default: the repository's first distribution."),
        SettingField("component", "Component", help="Default: main."),
    )

    def version_sort_key(self, version):
        return parser.sort_key(version)

    def urlpatterns(self):
        return [
            re_path(r"^key\.asc$", published.public_key),
            re_path(r"^(?P<name>[^/]+)\.list$", views.sources_list),
            re_path(r"^dists/(?P<rest>.+)$", views.dists),
            re_path(r"^pool/(?P<rest>.+)$", views.pool),
            re_path(r"^(?P<filename>[^/]+\.deb)$", views.upload),
        ]

    def proxy_urlpatterns(self):
        # The upstream's own tree: apt's sources line names the same paths as for a hosted one.
        return [
            re_path(r"^dists/(?P<rest>.+)$", proxy.dists),
            re_path(r"^pool/(?P<rest>.+)$", proxy.pool),
            re_path(r"^(?P<filename>[^/]+\.deb)$", proxy.refuse),
        ]

    def proxy_document_keys(self, name):
        return proxy.document_keys(name)

    def clean_settings(self, settings):
        return ingest.clean_settings(settings)

    def ingest(self, repository, actor, upload):
        return ingest.upload(repository, actor, upload.filename, upload.spooled,
                             upload.fields.get("distribution"), upload.fields.get("component"))

    def install_command(self, base_url, package, version):
        return details.install_command(package.name, version.version)

    def version_details(self, version):
        # The architectures of one version share their description; the first file speaks for all.
        first = version.files.first()
        return details.version_details(first.metadata.get("fields", []) if first else [])

    def build_publication(self, repository):
        return ingest.build_publication(repository)


plugin = DebPlugin()
