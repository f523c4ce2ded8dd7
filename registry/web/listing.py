"""The queries behind the pages' lists: repositories with their counts, packages with their
latest version, search. Always over repositories the caller may read."""

from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from registry.models import Package, PackageFile, PackageVersion


def with_stats(repositories):
    """`repositories` annotated with package_count, total_size and last_upload (subqueries, so
    that the counts are not multiplied by the joins)."""
    packages = (Package.objects.filter(repository=OuterRef("pk")).order_by().values("repository")
                .annotate(n=Count("pk")).values("n"))
    files = PackageFile.objects.filter(repository=OuterRef("pk")).order_by().values("repository")
    return repositories.annotate(
        package_count=Coalesce(Subquery(packages, output_field=IntegerField()), Value(0)),
        total_size=Coalesce(Subquery(files.annotate(s=Sum("blob__size")).values("s"),
                                     output_field=IntegerField()), Value(0)),
        last_upload=Subquery(files.annotate(m=Max("created")).values("m")),
    )


def with_latest(packages):
    """`packages` annotated with the latest version (the format's order) and its summary."""
    latest = PackageVersion.objects.filter(package=OuterRef("pk")).order_by("-sort_key")
    return packages.annotate(
        latest_version=Subquery(latest.values("version")[:1]),
        latest_summary=Subquery(latest.values("summary")[:1]),
    )


def matching(packages, query):
    """Packages whose name or any version's summary contains `query` (any case)."""
    if not query:
        return packages
    summary = PackageVersion.objects.filter(package=OuterRef("pk"), summary__icontains=query)
    return packages.filter(Q(name__icontains=query) | Q(normalized_name__icontains=query)
                           | Q(pk__in=Subquery(summary.values("package_id"))))


def search(repositories, query, fmt=""):
    """Packages in `repositories` matching `query`, optionally of one format, with their
    repository and latest version."""
    packages = Package.objects.filter(repository__in=repositories)
    if fmt:
        packages = packages.filter(repository__format=fmt)
    return with_latest(matching(packages, query)).select_related("repository").order_by(
        "normalized_name", "repository__name")
