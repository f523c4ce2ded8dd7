"""Upload from the browser: the repository page's form, sent by its script with a progress bar
(answered in JSON) or as a plain form (answered with a message). The same ingest and the same
messages as the clients get."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from registry import plugins
from registry.errors import RegistryError
from registry.models import Role
from registry.services import access
from registry.uploads import ingest_form, parse_multipart

from . import lookup
from .actions import package_url


# The CSRF check comes after the body is parsed with the upload rules (size limit, file
# names), which Django's own parsing in the middleware would skip.
@csrf_exempt
@require_POST
@lookup.sends_to_login
def upload(request, name):
    actor = access.actor_from(request)
    repository = lookup.repository(request, actor, name)
    if not access.can(actor, repository, Role.WRITE):
        raise Http404("No such page")
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        request._post, request._files = parse_multipart(request)
    except RegistryError as exc:
        return _refused(request, repository, exc, wants_json)
    refused = CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})
    if refused is not None:
        return refused
    plugin = plugins.get(repository.format)
    try:
        fields = {field.name: request.POST[field.name].strip() for field in plugin.upload_fields
                  if request.POST.get(field.name, "").strip()}
        stored, created = ingest_form(repository, actor, request.FILES, fields)
    except RegistryError as exc:
        return _refused(request, repository, exc, wants_json)
    version = stored.version
    page = package_url(repository, version.package, version)
    message = (f"{'Stored' if created else 'Already stored'}: {stored.filename} "
               f"({version.package.name} {version.version}).")
    if wants_json:
        return JsonResponse({"detail": message, "package": version.package.name, "version": version.version,
                             "path": stored.path, "url": page}, status=201 if created else 200)
    messages.success(request, message)
    return redirect(page)


def _refused(request, repository, exc, wants_json):
    if wants_json:
        return JsonResponse({"detail": str(exc)}, status=exc.status)
    messages.error(request, str(exc))
    return redirect(f"/ui/repositories/{repository.name}/")
