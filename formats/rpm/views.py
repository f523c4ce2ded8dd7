"""A yum/dnf repository over HTTP: upload by PUT, repodata/ from the current publication
(checksum-named files also from recent ones), packages from stored files, the public key and
a ready .repo file."""

import base64
import binascii

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from registry import files, published
from registry.errors import NotFound
from registry.http import stored_answer
from registry.uploads import spool_body

from . import ingest, render

RPM_CONTENT_TYPE = "application/x-rpm"


@require_http_methods(["PUT"])
def upload(request, repository, filename):
    spooled = spool_body(request, filename)
    try:
        stored, created = ingest.upload(repository, request.actor, filename, spooled)
    finally:
        spooled.delete()
    return stored_answer(stored, created)


@require_http_methods(["GET", "HEAD"])
def repodata(request, repository, name):
    # Every file but repomd.xml and its signature is named by its checksum.
    return published.serve(request, repository, "repodata/" + name, _metadata_type(name),
                           named_by_content=not name.startswith("repomd.xml"))


def _metadata_type(name):
    if name.endswith(".gz"):
        return "application/gzip"
    if name.endswith(".asc"):
        return "application/pgp-signature"
    return "application/xml"


@require_http_methods(["GET", "HEAD"])
def package(request, repository, rest):
    return files.serve_path(request, repository, "Packages/" + rest, RPM_CONTENT_TYPE)


@require_http_methods(["GET", "HEAD"])
def repo_file(request, repository, name):
    if name != repository.name:
        raise NotFound(f"Not found: {name}.repo (this repository's is {repository.name}.repo)")
    credentials = None
    if not repository.is_public:
        # The token this request came with (curl -u __token__:TOKEN …/r.repo) makes a file that
        # works as it is; without one, the lines to fill in.
        credentials = _request_credentials(request) or ("__token__", "YOUR_READ_TOKEN")
    text = render.repo_file(
        repository=repository.name,
        base_url=request.build_absolute_uri(f"/repository/{repository.name}/"),
        description=(repository.description.splitlines() or [""])[0].strip(),
        gpgcheck=ingest.signs_packages(repository),
        credentials=credentials,
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    if credentials is not None:
        response["Cache-Control"] = "private, no-store"
    return response


def _request_credentials(request):
    if request.actor.token is None:
        return None
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer":
        return ("__token__", value.strip())
    if scheme.lower() == "basic":
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (username, password)
    return None
