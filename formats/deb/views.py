"""An APT repository over HTTP: upload by PUT, dists/ from the current publication (by-hash
also from recent ones), pool/ from stored files, the public key and a ready sources line."""

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from registry import files, published
from registry.errors import NotFound
from registry.http import stored_answer
from registry.uploads import spool_body

from . import ingest


@require_http_methods(["PUT"])
def upload(request, repository, filename):
    spooled = spool_body(request, filename)
    try:
        stored, created = ingest.upload(repository, request.actor, filename, spooled,
                                        request.GET.get("distribution"), request.GET.get("component"))
    finally:
        spooled.delete()
    return stored_answer(stored, created)


@require_http_methods(["GET", "HEAD"])
def dists(request, repository, rest):
    path = "dists/" + rest
    # by-hash files never change; Release and the indexes change with every publication.
    return published.serve(request, repository, path, _index_type(path), named_by_content="/by-hash/" in path)


def _index_type(path):
    if path.endswith(".gz"):
        return "application/gzip"
    if path.endswith(".xz"):
        return "application/x-xz"
    return "text/plain; charset=utf-8"


@require_http_methods(["GET", "HEAD"])
def pool(request, repository, rest):
    return files.serve_path(request, repository, "pool/" + rest, "application/vnd.debian.binary-package")


@require_http_methods(["GET", "HEAD"])
def sources_list(request, repository, name):
    if name != repository.name:
        raise NotFound(f"Not found: {name}.list (this repository's is {repository.name}.list)")
    base = request.build_absolute_uri(f"/repository/{repository.name}/")
    keyring = f"/etc/apt/keyrings/{repository.name}.asc"
    lines = [f"# apt source for {repository.name}; the key: "
             f"curl -fsSL {base}key.asc -o {keyring}"]
    for distribution, components in ingest.distributions(repository).items():
        lines.append(f"deb [signed-by={keyring}] {base} {distribution} {' '.join(components)}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


