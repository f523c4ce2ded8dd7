from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("repositories", views.RepositoryViewSet, basename="repository")
router.register("packages", views.PackageViewSet, basename="package")
router.register("versions", views.VersionViewSet, basename="version")
router.register("files", views.FileViewSet, basename="file")
router.register("tokens", views.TokenViewSet, basename="token")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
