from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone


class Package(models.Model):
    repository = models.ForeignKey(
        "registry.Repository", on_delete=models.CASCADE, related_name="packages"
    )
    name = models.CharField(max_length=255)
    # Each format's own rule (PEP 503 for PyPI); what uniqueness and URLs use.
    normalized_name = models.CharField(max_length=255)
    # What a format keeps per package rather than per version (npm: dist-tags, readme).
    metadata = models.JSONField(default=dict, blank=True)
    revision = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["normalized_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "normalized_name"], name="unique_package_per_repository"
            )
        ]

    def __str__(self):
        return self.name

    def bump_revision(self):
        Package.objects.filter(pk=self.pk).update(revision=F("revision") + 1, updated=timezone.now())


class PackageVersion(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=255)
    # A string that sorts in the format's own version order (PEP 440, semver, Maven…).
    sort_key = models.CharField(max_length=512, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    # One line, whatever the format calls it (summary, description, a control file's first
    # Description line): what lists show and search matches.
    summary = models.CharField(max_length=512, blank=True)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)
    yanked = models.BooleanField(default=False)
    yank_reason = models.TextField(blank=True)
    deprecated = models.TextField(blank=True)

    class Meta:
        ordering = ["package", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["package", "version"], name="unique_version_per_package")
        ]

    def __str__(self):
        return f"{self.package.name} {self.version}"


class PackageFile(models.Model):
    version = models.ForeignKey(PackageVersion, on_delete=models.CASCADE, related_name="files")
    repository = models.ForeignKey(
        "registry.Repository", on_delete=models.CASCADE, related_name="files"
    )
    # Where clients download it, relative to the repository root.
    path = models.CharField(max_length=1024)
    filename = models.CharField(max_length=255)
    blob = models.ForeignKey("registry.Blob", on_delete=models.PROTECT, related_name="files")
    # A derived file served beside this one (PyPI's PEP 658 core metadata).
    metadata_blob = models.ForeignKey(
        "registry.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    metadata = models.JSONField(default=dict, blank=True)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filename"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "path"], name="unique_path_per_repository")
        ]

    def __str__(self):
        return self.path


class FileTombstone(models.Model):
    """A deleted file's path: released files are immutable, so the name stays taken."""

    repository = models.ForeignKey(
        "registry.Repository", on_delete=models.CASCADE, related_name="tombstones"
    )
    path = models.CharField(max_length=1024)
    sha256 = models.CharField(max_length=64)
    deleted = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "path"], name="unique_tombstone_path")
        ]


class FileDownloads(models.Model):
    """How often a file was downloaded on a day: the package page's counts and chart."""

    file = models.ForeignKey(PackageFile, on_delete=models.CASCADE, related_name="downloads")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "day"], name="unique_downloads_per_file_and_day")
        ]
