from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One write: who (user and token), what, where, when, from which address.

    Names are copied so the record outlives the user, token or repository it mentions.
    """

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150, blank=True)
    token = models.ForeignKey(
        "registry.ApiToken", null=True, blank=True, on_delete=models.SET_NULL
    )
    token_prefix = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=50, db_index=True)
    repository = models.ForeignKey(
        "registry.Repository", null=True, blank=True, on_delete=models.SET_NULL
    )
    repository_name = models.CharField(max_length=100, blank=True)
    package_name = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.username or 'anonymous'} {self.action}"
