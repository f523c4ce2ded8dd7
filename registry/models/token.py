from django.conf import settings
from django.db import models
from django.utils import timezone

from .permission import Role


class ApiToken(models.Model):
    """A client credential. Only a hash of the secret is kept; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the secret, e.g. "reg_Ab3dE6gH": shown in lists and in audit
    # events, and recognisable by secret scanners.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=Role.choices, default=Role.READ)
    repositories = models.ManyToManyField("registry.Repository", blank=True, related_name="+")
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        if self.revoked is not None:
            return False
        return self.expires is None or self.expires > timezone.now()
