"""A signed repository's published metadata (APT dists/, RPM repodata/) and its public key, as
clients fetch them: what the views of every format with publications share."""

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from registry import pages
from registry.errors import NotFound
from registry.services import publications, signing_keys
from storage.serving import serve_blob


def serve(request, repository, path, content_type, *, named_by_content):
    """GET/HEAD of a file of the current publication. A file named by its content (APT by-hash,
    RPM's checksum-named metadata) never changes, and is also found in the publications still
    in their grace period, for clients that read the previous index."""
    blob = publications.find_file(repository, path, any_live=named_by_content)
    if blob is None:
        raise NotFound(f"Not found: {path}")
    cache_control = pages.file_cache_control if named_by_content else pages.page_cache_control
    return serve_blob(request, key=blob.storage_key, size=blob.size, sha256=blob.sha256,
                      filename=path.rsplit("/", 1)[-1], content_type=content_type,
                      cache_control=cache_control(repository))


@require_http_methods(["GET", "HEAD"])
def public_key(request, repository):
    """key.asc: the armored public keys that sign the repository (two during a rotation)."""
    armored = signing_keys.public_keys(repository)
    if not armored:
        raise NotFound("This repository has no signing key yet.")
    return HttpResponse(armored, content_type="application/pgp-keys")
