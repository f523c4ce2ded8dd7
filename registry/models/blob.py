from django.db import models


class Blob(models.Model):
    """Bytes stored once, whatever number of files point at them; identity is the sha256."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32)
    sha1 = models.CharField(max_length=40)
    sha512 = models.CharField(max_length=128)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.sha256[:12]} ({self.size} bytes)"

    @property
    def storage_key(self):
        # Two levels of fan-out keep directories small on a filesystem.
        return f"sha256/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"
