"""A proxy repository's upstream: how it is reached, how it has been answering, what of it is
cached (index documents) and which first fetches are under way (single-flight records)."""

from django.db import models
from django.db.models import F
from django.utils import timezone


class Upstream(models.Model):
    """The settings of a proxy repository's upstream (its URL is Repository.upstream_url) and
    the upstream's health, which the circuit breaker reads."""

    repository = models.OneToOneField("registry.Repository", on_delete=models.CASCADE,
                                      related_name="upstream")
    # Credentials, sent only to the upstream's own origin: Basic when a username is given,
    # else the secret as a Bearer token. The secret is sealed (signing.sealing), never shown.
    username = models.CharField(max_length=255, blank=True)
    secret_sealed = models.BinaryField(null=True, blank=True)
    # Seconds an index document is served without asking the upstream again.
    metadata_max_age = models.PositiveIntegerField(default=1800)
    # Seconds an upstream "not found" is believed.
    negative_max_age = models.PositiveIntegerField(default=300)
    connect_timeout = models.FloatField(default=5.0)
    read_timeout = models.FloatField(default=30.0)
    # Serve only what is cached; never call the upstream.
    offline = models.BooleanField(default=False)
    # The upstream's armored OpenPGP public key (deb, rpm): its signed metadata is verified
    # with it before anything from it is cached. Empty: passed through unverified.
    public_key = models.TextField(blank=True)

    # Health: consecutive failures; while `retry_after` is in the future the upstream is not
    # called (the circuit is open) and cached documents are served stale.
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_failure = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"upstream of {self.repository_id}"

    @property
    def has_credentials(self):
        return bool(self.secret_sealed)

    @property
    def status(self):
        """offline, down (circuit open), failing, ok, or unknown (never called yet)."""
        if self.offline:
            return "offline"
        if self.retry_after and self.retry_after > timezone.now():
            return "down"
        if self.failures:
            return "failing"
        return "ok" if self.last_success else "unknown"


class UpstreamDocument(models.Model):
    """An index document of the upstream as the format parsed it (`content`), or the
    upstream's "not found" for that key (status 404, the negative cache)."""

    repository = models.ForeignKey("registry.Repository", on_delete=models.CASCADE,
                                   related_name="upstream_documents")
    key = models.CharField(max_length=1024)
    status = models.PositiveSmallIntegerField(default=200)
    content = models.JSONField(default=dict, blank=True)
    # Validators the upstream gave, sent back to revalidate (If-None-Match, If-Modified-Since).
    etag = models.CharField(max_length=1024, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # When the upstream last confirmed this answer: its age is measured from here.
    checked = models.DateTimeField()
    # Bumped when `content` changes: cached pages and their ETags are keyed by it.
    revision = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "key"], name="unique_upstream_document")
        ]

    def __str__(self):
        return f"{self.repository_id}:{self.key} ({self.status})"

    def bump_revision(self):
        UpstreamDocument.objects.filter(pk=self.pk).update(revision=F("revision") + 1,
                                                           updated=timezone.now())


class UpstreamBlob(models.Model):
    """A blob a proxy keeps outside any package file (an APT index, an RPM repodata file, PEP 658
    metadata), found again by its digest. The reference keeps the collection of unreferenced
    blobs from deleting it while the proxy still serves it — a hosted file with the same bytes
    (an empty Packages index, say) may be deleted meanwhile."""

    repository = models.ForeignKey("registry.Repository", on_delete=models.CASCADE,
                                   related_name="upstream_blobs")
    blob = models.ForeignKey("registry.Blob", on_delete=models.CASCADE, related_name="upstream_uses")
    # When the proxy last served it (a day's resolution): PROXY_CACHE_DAYS drops older ones.
    used = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "blob"], name="unique_upstream_blob")
        ]

    def __str__(self):
        return f"{self.repository_id}:{self.blob_id[:12]}"


class UpstreamFetch(models.Model):
    """A first fetch of an upstream file under way: the record that makes it single-flight.
    Whoever inserts the row fetches; others read the spool file as it grows (on the same host)
    or wait for the stored file. A leader that stops beating is taken over."""

    class State(models.TextChoices):
        STARTING = "starting"
        STREAMING = "streaming"
        DONE = "done"
        FAILED = "failed"

    repository = models.ForeignKey("registry.Repository", on_delete=models.CASCADE,
                                   related_name="+")
    path = models.CharField(max_length=1024)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STARTING)
    host = models.CharField(max_length=255)
    spool = models.CharField(max_length=1024, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    # The status and message every waiting request answers with when the fetch failed.
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    heartbeat = models.DateTimeField()
    started = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "path"], name="one_fetch_per_path")
        ]
