"""What an admin of a repository does to a version from its page: yank, deprecate, delete.
Forms with CSRF over the same services as the REST API; each change audited there."""

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from registry import plugins
from registry.models import PackageVersion, Role
from registry.services import access, versions

from . import lookup

REASON_LIMIT = 1000


def _admin_target(request, name, package, version_id, allowed=lambda plugin: True):
    """(actor, repository, package, version) of an admin action the format `allowed`; 404
    for anyone else, as for a missing page."""
    actor = access.actor_from(request)
    repository = lookup.repository(request, actor, name)
    if not access.can(actor, repository, Role.ADMIN) or not allowed(plugins.get(repository.format)):
        raise Http404("No such action")
    package = lookup.package(repository, package)
    return actor, repository, package, lookup.version(package, version_id)


def package_url(repository, package, version=None):
    url = f"/ui/repositories/{repository.name}/packages/{quote(package.name, safe='@/')}/"
    return f"{url}?version={version.pk}" if version is not None else url


@require_POST
@lookup.sends_to_login
def yank(request, name, package, version_id):
    actor, repository, package, version = _admin_target(request, name, package, version_id,
                                                        lambda plugin: plugin.can_yank())
    undo = request.POST.get("undo") == "1"
    versions.set_yanked(actor, version, not undo, request.POST.get("reason", "").strip()[:REASON_LIMIT])
    messages.success(request, f"{'Unyanked' if undo else 'Yanked'} {package.name} {version.version}.")
    return redirect(package_url(repository, package, version))


@require_POST
@lookup.sends_to_login
def deprecate(request, name, package, version_id):
    actor, repository, package, version = _admin_target(request, name, package, version_id,
                                                        lambda plugin: plugin.can_deprecate())
    undo = request.POST.get("undo") == "1"
    message = "" if undo else request.POST.get("message", "").strip()[:REASON_LIMIT]
    if not undo and not message:
        messages.error(request, "Say why the version is deprecated (clients show the message).")
        return redirect(package_url(repository, package, version))
    versions.set_deprecated(actor, version, message)
    messages.success(request, f"{'Deprecated' if message else 'Took back the deprecation of'} "
                              f"{package.name} {version.version}.")
    return redirect(package_url(repository, package, version))


@require_http_methods(["GET", "POST"])
@lookup.sends_to_login
def delete(request, name, package, version_id):
    actor, repository, package, version = _admin_target(request, name, package, version_id)
    files = list(version.files.order_by("filename"))
    if request.method == "GET" or request.POST.get("confirm") != version.version:
        if request.method == "POST":
            messages.error(request, f"Type the version, {version.version}, to confirm.")
        return render(request, "registry/confirm_delete.html", {
            "repository": repository, "package": package, "version": version, "files": files,
            "cancel_url": package_url(repository, package, version),
        })
    package_id = package.pk
    versions.delete_version(actor, version)
    messages.success(request, f"Deleted {package.name} {version.version} and its {len(files)} file(s); "
                              "their file names cannot be used again.")
    if PackageVersion.objects.filter(package_id=package_id).exists():
        return redirect(package_url(repository, package))
    return redirect(f"/ui/repositories/{repository.name}/")
