"""A yum/dnf repository over HTTP: upload by PUT, repodata/ from the current publication
(checksum-named files also from recent ones), packages from stored files, the public key and
a ready .repo file."""

import base64
import binascii

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import NotFound
from registry.services import publications, signing_keys
from registry.uploads import spool_body
from storage.serving import serve_blob

from . import ingest, render

RPM_CONTENT_TYPE = "application/x-rpm"


@require_http_methods(["PUT"])
def upload(request, repository, filename):
    spooled = spool_body(request, filename)
    try:
        stored, created = ingest.upload(repository, request.actor, filename, spooled)
    finally:
        spooled.delete()
    message = f"{'Stored' if created else 'Already stored'}: {stored.path}\n"
    return HttpResponse(message, status=201 if created else 200, content_type="text/plain; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def repodata(request, repository, name):
    path = "repodata/" + name
    # Every file but repomd.xml and its signature is named by its checksum: a client that read
    # an older repomd.xml still finds what it lists while that publication is in its grace period.
    by_checksum = not name.startswith("repomd.xml")
    blob = publications.find_file(repository, path, any_live=by_checksum)
    if blob is None:
        raise NotFound(f"Not found: {path}")
    return serve_blob(
        request, key=blob.storage_key, size=blob.size, sha256=blob.sha256, filename=name,
        content_type=_metadata_type(name),
        cache_control=(pages.file_cache_control if by_checksum else pages.page_cache_control)(repository),
    )


def _metadata_type(name):
    if name.endswith(".gz"):
        return "application/gzip"
    if name.endswith(".asc"):
        return "application/pgp-signature"
    return "application/xml"


@require_http_methods(["GET", "HEAD"])
def package(request, repository, rest):
    row = files.find(repository, "Packages/" + rest)
    if row is None:
        raise NotFound(f"Not found: Packages/{rest}")
    return files.serve(request, repository, row, RPM_CONTENT_TYPE)


@require_http_methods(["GET", "HEAD"])
def public_key(request, repository):
    armored = signing_keys.public_keys(repository)
    if not armored:
        raise NotFound("This repository has no signing key yet.")
    return HttpResponse(armored, content_type="application/pgp-keys")


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
