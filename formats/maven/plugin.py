from django.urls import re_path

from registry.errors import InvalidPackage
from registry.plugins import FormatPlugin, SettingField

from . import details, ingest, paths, proxy, version, views


class MavenPlugin(FormatPlugin):
    name = "maven"
    label = "Maven"
    setup_template = "maven/setup.html"
    settings_fields = (
        SettingField("version_policy", "Version policy", "choice", choices=ingest.POLICIES,
                     help="release: no SNAPSHOTs; snapshot: only SNAPSHOTs; mixed: both."),
        SettingField("snapshot_keep", "SNAPSHOT builds kept", "int",
                     help="Timestamped builds kept per SNAPSHOT version; empty keeps all."),
    )
    upload_fields = (
        SettingField("path", "Path in the repository",
                     help="The Maven 2 layout path, e.g. com/acme/lib/1.0/lib-1.0.jar."),
    )

    def normalize_name(self, name):
        # groupId:artifactId, compared exactly (Maven coordinates are case-sensitive).
        return name

    def version_sort_key(self, value):
        return version.sort_key(value)

    def urlpatterns(self):
        # The whole tree is the layout; the view tells files, checksums, metadata and folders apart.
        return [re_path(r"^(?P<rest>.*)$", views.resource)]

    def proxy_urlpatterns(self):
        # The same single pattern: a client's settings.xml does not depend on the kind.
        return [re_path(r"^(?P<rest>.*)$", proxy.resource)]

    def proxy_document_keys(self, name):
        return proxy.document_keys(name)

    def maintain(self):
        return ingest.prune_all_snapshots()

    def clean_settings(self, settings):
        return ingest.clean_settings(settings)

    def install_command(self, base_url, package, version):
        """The <dependency> for a pom.xml (the repository itself goes in settings.xml or the
        POM's <repositories>, shown by the set-up page)."""
        group_id, _, artifact_id = package.name.partition(":")
        files = [(f.metadata.get("classifier", ""), f.metadata.get("extension", ""))
                 for f in version.files.all()]
        return details.dependency_block(group_id, artifact_id, version.version,
                                        details.artifact_type(files))

    def version_details(self, version):
        return details.version_details(version.metadata or {})

    def ingest(self, repository, actor, upload):
        """A file sent through the REST API: the form's `path` (its place in the Maven layout,
        e.g. com/acme/lib/1.0/lib-1.0.jar) decides where it goes."""
        path = (upload.fields.get("path") or "").strip("/")
        if not path:
            raise InvalidPackage(
                "Give the file's Maven path in the form field 'path' "
                "(e.g. com/acme/lib/1.0/lib-1.0.jar).", field="path")
        maven_path = paths.parse(path)
        if maven_path.kind != "file" or maven_path.checksum:
            raise InvalidPackage("Only artifacts are uploaded; checksums and metadata are served by the registry.")
        if maven_path.filename != upload.filename:
            raise InvalidPackage(
                f"The file is named {upload.filename!r} but the path names {maven_path.filename!r}.")
        return ingest.store_file(repository, actor, maven_path, upload.spooled)


plugin = MavenPlugin()
