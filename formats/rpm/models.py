from django.db import models


class RpmRecord(models.Model):
    """A package's records in primary.xml, filelists.xml and other.xml, dumped once at upload
    (formats/rpm/parser.py) with its final location: a publication joins these, it never reads
    a package file again."""

    package_file = models.OneToOneField("registry.PackageFile", on_delete=models.CASCADE,
                                        primary_key=True, related_name="rpm_record")
    primary = models.TextField()
    filelists = models.TextField()
    other = models.TextField()

    def __str__(self):
        return f"repodata records of {self.package_file_id}"
