from django.urls import path

from . import actions, administration, browse, tokens, upload

app_name = "web"

VERSION = "ui/repositories/<str:name>/packages/<path:package>/versions/<str:version_id>"

urlpatterns = [
    path("", browse.home, name="home"),
    path("ui/search/", browse.search_page, name="search"),
    path("ui/repositories/<str:name>/", browse.repository_page, name="repository"),
    path("ui/repositories/<str:name>/settings/", administration.repository_settings, name="repository_settings"),
    path("ui/repositories/<str:name>/audit/", administration.audit_log, name="audit"),
    path("ui/repositories/<str:name>/upload/", upload.upload, name="upload"),
    path(f"{VERSION}/yank/", actions.yank, name="yank"),
    path(f"{VERSION}/deprecate/", actions.deprecate, name="deprecate"),
    path(f"{VERSION}/delete/", actions.delete, name="delete"),
    path("ui/repositories/<str:name>/packages/<path:package>/", browse.package_page, name="package"),
    path("ui/tokens/", tokens.tokens_page, name="tokens"),
]
