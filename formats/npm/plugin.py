from django.conf import settings
from django.http import JsonResponse
from django.urls import re_path

from formats.archives import Limits
from registry.http import REALM, reason_phrase
from registry.plugins import FormatPlugin, SettingField

from . import details, ingest, parser, proxy, views

# A package name in a URL: `@scope/name` (npm sends `@scope%2fname`, which arrives decoded) or
# an unscoped name. `-` starts the registry's own endpoints.
NAME = r"(?P<name>@[^/]+/[^/]+|[^@/-][^/]*)"


def account_urlpatterns():
    """The registry's own npm endpoints (ping, whoami, login, tokens, audit), the same on a
    hosted repository and a proxy: they are this server's, not the upstream's."""
    return [
        re_path(r"^-/ping/?$", views.ping),
        re_path(r"^-/whoami/?$", views.whoami),
        re_path(r"^-/v1/login/?$", views.web_login),
        re_path(r"^-/user/org\.couchdb\.user:(?P<username>[^/]+)(?:/-rev/(?P<rev>[^/]+))?$",
                views.couch_user),
        re_path(r"^-/user/token/(?P<secret>[^/]+)$", views.logout),
        re_path(r"^-/npm/v1/tokens/?$", views.npm_tokens),
        re_path(r"^-/npm/v1/tokens/token/(?P<key>[^/]+)$", views.npm_token),
        re_path(r"^-/npm/v1/security/(?P<rest>.*)$", views.audit_endpoint),
    ]


class NpmPlugin(FormatPlugin):
    name = "npm"
    label = "npm"
    setup_template = "npm/setup.html"
    upload_fields = (SettingField("tag", "Dist-tag", help="Default: latest."),)

    def normalize_name(self, name):
        # npm names are compared exactly; new names are lowercase (parser.check_name).
        return name

    def version_sort_key(self, version):
        return parser.sort_key(version)

    def urlpatterns(self):
        return [
            *account_urlpatterns(),
            re_path(r"^-/v1/search/?$", views.search),
            re_path(rf"^-/package/{NAME}/dist-tags/?$", views.dist_tags),
            re_path(rf"^-/package/{NAME}/dist-tags/(?P<tag>[^/]+)$", views.dist_tag),
            re_path(rf"^{NAME}/?$", views.package),
            re_path(rf"^{NAME}/-rev/(?P<rev>[^/]+)$", views.package_revision),
            re_path(rf"^{NAME}/-/(?P<filename>[^/]+)$", views.tarball),
            re_path(rf"^{NAME}/-/(?P<filename>[^/]+)/-rev/(?P<rev>[^/]+)$", views.tarball_revision),
            re_path(rf"^{NAME}/(?P<spec>[^/]+)$", views.version_manifest),
        ]

    def proxy_urlpatterns(self):
        # The hosted URL shape, so that a client's configuration does not depend on the kind;
        # login and tokens are the registry's, not the upstream's, and work as on a hosted one.
        return [
            *account_urlpatterns(),
            re_path(rf"^-/package/{NAME}/dist-tags/?$", proxy.dist_tags),
            re_path(rf"^-/package/{NAME}/dist-tags/(?P<tag>[^/]+)$", proxy.dist_tag),
            re_path(rf"^{NAME}/?$", proxy.package),
            re_path(rf"^{NAME}/-rev/(?P<rev>[^/]+)$", proxy.refuse_write),
            re_path(rf"^{NAME}/-/(?P<filename>[^/]+)$", proxy.tarball),
            re_path(rf"^{NAME}/-/(?P<filename>[^/]+)/-rev/(?P<rev>[^/]+)$", proxy.refuse_write),
            re_path(rf"^{NAME}/(?P<spec>[^/]+)$", proxy.version_manifest),
        ]

    def proxy_document_keys(self, name):
        return proxy.document_keys(name)

    def ingest(self, repository, actor, upload):
        """A tarball sent through the REST API: published under the name and version of its
        package.json, tagged `latest` (or the form's `tag`)."""
        contents = parser.read_tarball(upload.spooled.path, Limits.from_settings(settings))
        name = contents.manifest.get("name")
        version = contents.manifest.get("version")
        parser.check_name(name)
        parser.check_version(version)
        tag = upload.fields.get("tag") or "latest"
        document = {
            "name": name,
            "versions": {version: contents.manifest},
            "dist-tags": {tag: version},
            "_attachments": {parser.tarball_filename(name, version): {"length": upload.spooled.digests.size}},
        }
        package_file = ingest.publish(
            repository, actor, name, document, parser.tarball_filename(name, version),
            upload.spooled, contents,
        )
        return package_file, True

    def install_command(self, base_url, package, version):
        return details.install_command(base_url, package.name, version.version)

    def version_details(self, version):
        return details.version_details(version.metadata or {}, version.package.metadata or {})

    def can_deprecate(self):
        return True

    def error_response(self, request, exc):
        # npm prints the `error` field of a JSON error body.
        response = JsonResponse({"error": exc.message}, status=exc.status)
        response.reason_phrase = reason_phrase(exc.message)
        if exc.status == 401:
            response["WWW-Authenticate"] = REALM
        return response


plugin = NpmPlugin()
