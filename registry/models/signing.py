from django.db import models
from django.utils import timezone


class SigningKey(models.Model):
    """An OpenPGP key the registry signs with. The private key is sealed with
    SIGNING_KEY_SECRETS (signing.sealing), so every worker can sign and a database copy alone
    does not give it away."""

    fingerprint = models.CharField(max_length=64, unique=True)
    uid = models.CharField(max_length=255)
    algorithm = models.CharField(max_length=20)
    public_armored = models.TextField()
    private_sealed = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.uid} ({self.fingerprint[-16:]})"


class RepositoryKey(models.Model):
    """A key's place in a repository. The primary key signs; during a rotation the previous
    one keeps signing beside it until `retire_after`, and the key file serves both."""

    class State(models.TextChoices):
        PRIMARY = "primary"
        TRANSITION = "transition"
        RETIRED = "retired"

    repository = models.ForeignKey("registry.Repository", on_delete=models.CASCADE,
                                   related_name="keys")
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="uses")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PRIMARY)
    retire_after = models.DateTimeField(null=True, blank=True)
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "key"], name="unique_key_per_repository"),
            models.UniqueConstraint(fields=["repository"], condition=models.Q(state="primary"),
                                    name="one_primary_key_per_repository"),
        ]

    def __str__(self):
        return f"{self.repository} {self.current_state} {self.key}"

    @property
    def current_state(self):
        """The state now: a transition whose time is over is retired, without a write."""
        if self.state == self.State.TRANSITION and self.retire_after and self.retire_after <= timezone.now():
            return self.State.RETIRED
        return self.state
