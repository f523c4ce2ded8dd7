"""Pages to read: the repositories you may read, one repository's packages and client set-up,
a package's versions and files, search across repositories."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from registry import plugins
from registry.models import Role
from registry.services import access, downloads, signing_keys

from . import listing, lookup, markup

PACKAGES_PER_PAGE = 50
SEARCH_RESULTS_PER_PAGE = 50
CHART_DAYS = 30


# Pages to read answer GET and HEAD only: anything else is a 405, not a page.
@require_safe
def home(request):
    actor = access.actor_from(request)
    repositories = listing.with_stats(access.readable_repositories(actor)).order_by("name")
    return render(request, "registry/home.html", {"repositories": repositories})


@require_safe
@lookup.sends_to_login
def repository_page(request, name):
    actor = access.actor_from(request)
    repository = lookup.repository(request, actor, name)
    plugin = plugins.get(repository.format)
    query = request.GET.get("q", "").strip()
    packages = listing.with_latest(listing.matching(repository.packages.all(), query)).order_by("normalized_name")
    page = Paginator(packages, PACKAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/repository.html", {
        "repository": repository,
        "plugin": plugin,
        "page": page,
        "query": query,
        "base_url": request.build_absolute_uri(f"/repository/{repository.name}/"),
        "host": request.get_host(),
        "can_write": access.can(actor, repository, Role.WRITE),
        "can_admin": access.can(actor, repository, Role.ADMIN),
        "signing_keys": signing_keys.active_keys(repository) if plugin.publishes else [],
    })


@require_safe
@lookup.sends_to_login
def package_page(request, name, package):
    actor = access.actor_from(request)
    repository = lookup.repository(request, actor, name)
    plugin = plugins.get(repository.format)
    package = lookup.package(repository, package)
    versions = list(package.versions.select_related("uploader").order_by("-sort_key"))
    if "version" in request.GET:
        selected = lookup.version(package, request.GET["version"])
    else:
        # The newest version an installer would pick: yanked ones only when nothing else is left.
        selected = next((v for v in versions if not v.yanked), versions[0])
    version_downloads = downloads.totals_by_version(versions)
    for version in versions:
        version.download_count = version_downloads.get(version.pk, 0)
    files = list(selected.files.select_related("blob", "uploader").order_by("filename"))
    file_downloads = downloads.totals_by_file(files)
    for row in files:
        row.download_count = file_downloads.get(row.pk, 0)
        row.url = plugin.file_url(request, repository, row)
    details = plugin.version_details(selected)
    base_url = request.build_absolute_uri(f"/repository/{repository.name}/")
    can_admin = access.can(actor, repository, Role.ADMIN)
    return render(request, "registry/package.html", {
        "repository": repository,
        "plugin": plugin,
        "package": package,
        "versions": versions,
        "selected": selected,
        "files": files,
        "details": details,
        "readme": markup.readme_html(details.readme, details.readme_format),
        "install_command": plugin.install_command(base_url, package, selected),
        "chart": _chart(downloads.daily(selected, CHART_DAYS)),
        "can_admin": can_admin,
        "can_yank": can_admin and plugin.can_yank(),
        "can_deprecate": can_admin and plugin.can_deprecate(),
    })


@require_safe
def search_page(request):
    actor = access.actor_from(request)
    query = request.GET.get("q", "").strip()
    fmt = request.GET.get("format", "")
    if fmt not in plugins.all_plugins():
        fmt = ""
    page = None
    if query:
        results = listing.search(access.readable_repositories(actor), query, fmt)
        page = Paginator(results, SEARCH_RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/search.html", {
        "search_query": query,
        "format": fmt,
        "formats": [(name, plugins.get(name).label) for name in plugins.format_choices()],
        "page": page,
    })


def _chart(daily):
    """Bars of an inline SVG for [(day, downloads)]: x, height and label of each."""
    width, height = 8, 40
    peak = max((count for _day, count in daily), default=0) or 1
    bars = []
    for index, (day, count) in enumerate(daily):
        bar = round(height * count / peak) if count else 0
        bars.append({"x": index * (width + 2), "y": height - bar, "height": bar, "width": width,
                     "label": f"{day.isoformat()}: {count}"})
    return {"bars": bars, "width": len(daily) * (width + 2), "height": height,
            "total": sum(count for _day, count in daily), "days": len(daily)}
