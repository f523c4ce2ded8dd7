from django.urls import re_path

from registry import published
from registry.plugins import FormatPlugin, SettingField

from . import details, ingest, parser, proxy, views


class RpmPlugin(FormatPlugin):
    name = "rpm"
    label = "RPM"
    setup_template = "rpm/setup.html"
    publishes = True
    settings_fields = (
        SettingField("sign_packages", "Sign packages on upload", "bool",
                     help="rpmsign every upload with the repository key, so clients can use gpgcheck=1."),
    )

    def version_sort_key(self, version):
        # PackageVersion.version is [epoch:]version-release (parser.RpmPackage.evr).
        epoch, _, rest = version.rpartition(":")
        upstream, _, release = rest.rpartition("-")
        return parser.sort_key(epoch or 0, upstream, release)

    def urlpatterns(self):
        return [
            re_path(r"^key\.asc$", published.public_key),
            re_path(r"^repodata/repomd\.xml\.key$", published.public_key),
            re_path(r"^(?P<name>[^/]+)\.repo$", views.repo_file),
            re_path(r"^repodata/(?P<name>[^/]+)$", views.repodata),
            re_path(r"^Packages/(?P<rest>.+)$", views.package),
            re_path(r"^(?P<filename>[^/]+\.rpm)$", views.upload),
        ]

    def proxy_urlpatterns(self):
        return [
            re_path(r"^key\.asc$", proxy.public_key),
            re_path(r"^repodata/repomd\.xml\.key$", proxy.public_key),
            re_path(r"^(?P<name>[^/]+)\.repo$", proxy.repo_file),
            re_path(r"^repodata/repomd\.xml$", proxy.repomd),
            re_path(r"^repodata/repomd\.xml\.asc$", proxy.repomd_signature),
            re_path(r"^repodata/(?P<name>[^/]+)$", proxy.data_file),
            re_path(r"^(?P<rest>.+\.rpm)$", proxy.package),
        ]

    def proxy_document_keys(self, name):
        return proxy.document_keys(name)

    def clean_settings(self, settings):
        return ingest.clean_settings(settings)

    def ingest(self, repository, actor, upload):
        return ingest.upload(repository, actor, upload.filename, upload.spooled)

    def install_command(self, base_url, package, version):
        # PackageVersion.version is [epoch:]version-release (parser.RpmPackage.evr).
        return details.install_command(package.name, version.version)

    def version_details(self, version):
        return details.version_details(version.metadata or {},
                                       [f.metadata for f in version.files.all()],
                                       version.package.name)

    def build_publication(self, repository):
        return ingest.build_publication(repository)


plugin = RpmPlugin()
