from django.db import models


class Publication(models.Model):
    """A complete, immutable set of metadata files of a repository (APT dists/, RPM repodata/).

    Built beside the current one and switched in one transaction, so a client never sees a
    Release whose hashes do not match its Packages files. Earlier ones stay served for a grace
    period (`superseded`), which keeps by-hash requests of a client that read an older index
    working."""

    repository = models.ForeignKey("registry.Repository", on_delete=models.CASCADE,
                                   related_name="publications")
    # The repository revision the publication was built from: nothing to do while it is current.
    source_revision = models.BigIntegerField()
    created = models.DateTimeField(auto_now_add=True)
    superseded = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        get_latest_by = "created"

    def __str__(self):
        return f"{self.repository} publication {self.pk} (revision {self.source_revision})"


class PublicationFile(models.Model):
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    blob = models.ForeignKey("registry.Blob", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["publication", "path"], name="unique_path_per_publication")
        ]


class PublishLease(models.Model):
    """Who is building a repository's next publication, until when. One builder at a time; a
    worker that dies mid-build leaves a lease that expires, and the next run takes over."""

    repository = models.OneToOneField("registry.Repository", on_delete=models.CASCADE,
                                      related_name="publish_lease")
    holder = models.CharField(max_length=64, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
