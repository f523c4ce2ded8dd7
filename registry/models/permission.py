from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @classmethod
    def rank(cls, role):
        """read < write < admin; an unknown role ranks below all."""
        return {cls.READ: 1, cls.WRITE: 2, cls.ADMIN: 3}.get(role, 0)


class RepositoryRole(models.Model):
    """A user's or a group's role on one repository."""

    repository = models.ForeignKey(
        "registry.Repository", on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="repository_roles",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="repository_roles"
    )
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="role_for_user_xor_group",
            ),
            models.UniqueConstraint(fields=["repository", "user"], name="unique_user_role"),
            models.UniqueConstraint(fields=["repository", "group"], name="unique_group_role"),
        ]

    def __str__(self):
        return f"{self.user or self.group} {self.role} on {self.repository}"
