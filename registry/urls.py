from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from registry import metrics, ops_views, repository_views
from registry.api.docs import ApiDocsView

handler404 = "registry.api.errors.page_not_found"

urlpatterns = [
    path("-/health", ops_views.health, name="health"),
    path("-/ready", ops_views.ready, name="ready"),
    path("-/metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("registry.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page, not an endpoint: DRF's OPTIONS answer has no template to render it with (a 500).
    path("api/docs/", ApiDocsView.as_view(url_name="schema", http_method_names=["get", "head"]),
         name="api-docs"),
    re_path(
        r"^repository/(?P<repository_name>[^/]+)/(?P<rest>.*)$",
        repository_views.dispatch,
        name="repository",
    ),
    path("", include("registry.web.urls")),
]
