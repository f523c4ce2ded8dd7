from rest_framework.routers import DefaultRouter

from . import views

# No `.json`/`.api` twins of every route (the Accept header chooses): DRF would pass their
# `format` to actions that take no such argument, a 500.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("repositories", views.RepositoryViewSet, basename="repository")
router.register("packages", views.PackageViewSet, basename="package")
router.register("versions", views.VersionViewSet, basename="version")
router.register("files", views.FileViewSet, basename="file")
router.register("tokens", views.TokenViewSet, basename="token")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
