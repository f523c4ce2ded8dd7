from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.utils import timezone

# A name is a single URL path segment: it is echoed into every client configuration.
REPOSITORY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class Repository(models.Model):
    class Kind(models.TextChoices):
        HOSTED = "hosted"
        PROXY = "proxy"
        GROUP = "group"

    class Visibility(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private"

    name = models.CharField(
        max_length=100,
        unique=True,
        validators=[
            RegexValidator(
                REPOSITORY_NAME_PATTERN,
                "Use letters, digits, '.', '_' and '-', starting with a letter or digit.",
            )
        ],
    )
    format = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HOSTED)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    description = models.TextField(blank=True)
    settings = models.JSONField(default=dict, blank=True)
    upstream_url = models.URLField(blank=True)
    members = models.ManyToManyField(
        "self", through="GroupMember", symmetrical=False, related_name="groups", blank=True
    )
    # Bumped by every write into the repository: part of every cached page's key and ETag.
    revision = models.BigIntegerField(default=0)
    # The publication clients read now (formats with published metadata: deb, rpm).
    current_publication = models.ForeignKey(
        "registry.Publication", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self):
        return self.name

    @property
    def is_public(self):
        return self.visibility == self.Visibility.PUBLIC

    def bump_revision(self):
        Repository.objects.filter(pk=self.pk).update(
            revision=F("revision") + 1, updated=timezone.now()
        )


class GroupMember(models.Model):
    group = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="unique_group_member")
        ]
