"""A repository's stored files by path, and sending one to a client: what every format's
download view does."""

from registry import pages
from registry.errors import NotFound
from registry.models import PackageFile
from registry.services import downloads
from storage.serving import serve_blob


def find(repository, path):
    """The PackageFile at `path` (with its blob), or None."""
    return (PackageFile.objects.filter(repository=repository, path=path)
            .select_related("blob", "metadata_blob").first())


def serve_path(request, repository, path, content_type):
    """GET/HEAD of the stored file at `path`; NotFound when there is none."""
    row = find(repository, path)
    if row is None:
        raise NotFound(f"Not found: {path}")
    return serve(request, repository, row, content_type)


def serve(request, repository, row, content_type, *, blob=None, filename=None):
    """GET/HEAD of a stored file (or of its sidecar `blob`), cacheable as long as files are
    immutable, privately for a private repository. A GET of the file itself is counted."""
    blob = blob or row.blob
    if request.method == "GET" and blob.pk == row.blob_id:
        downloads.count(row)
    return serve_blob(
        request, key=blob.storage_key, size=blob.size, sha256=blob.sha256,
        filename=filename or row.filename, content_type=content_type, last_modified=row.created,
        cache_control=pages.file_cache_control(repository),
    )
