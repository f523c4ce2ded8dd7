"""The Django admin site, open to browser sessions only.

The token middleware sets `request.user` for every path, so without this a token of a staff
user, whatever its scope or repository limit, would reach every model here (and a token skips
CSRF). An API token is for clients; the admin is for a person who logged in with a password.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class SessionOnlyAdminSite(admin.AdminSite):
    def has_permission(self, request):
        if getattr(request, "api_token", None) is not None:
            return False
        return super().has_permission(request)


class RegistryAdminConfig(AdminConfig):
    """django.contrib.admin with the site above (named in INSTALLED_APPS in its place)."""

    default_site = "registry.admin_site.SessionOnlyAdminSite"
