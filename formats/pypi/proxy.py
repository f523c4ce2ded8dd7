"""A PyPI proxy repository over HTTP: the upstream's simple index (read by upstream_index,
cached by registry.proxy.documents) rendered with this server's URLs, in the same shape as a
hosted repository (`packages/<project>/<file>`), and files fetched on first request through
registry.proxy.fetches, verified against the sha256 the upstream's index gave.

Each view gets (request, repository, …) from the core dispatcher, which has already checked
read access, exactly as for a hosted repository.
"""

from urllib.parse import urljoin

from django.http import HttpResponsePermanentRedirect
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import MethodNotAllowed, NotFound, RegistryError, UpstreamFailed
from registry.proxy import documents, fetches
from storage.serving import serve_blob

from . import render, upstream_index
from .ingest import file_path, ingest_distribution, normalize
from .render import JSON_TYPE
from .views import _file_type, _negotiate, _not_acceptable, _with_charset, to_normalized_name


def refuse_upload(request, repository, **_kwargs):
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(request.path + "simple/")
    raise MethodNotAllowed(
        f"{repository.name} is a proxy of {repository.upstream_url}: it takes no uploads. "
        "Upload to a hosted repository.")


@require_http_methods(["GET", "HEAD"])
def simple_root(request, repository):
    content_type = _negotiate(request)
    if content_type is None:
        return _not_acceptable()
    document = documents.get(repository, "simple/", repository.upstream_url,
                             accept=upstream_index.ACCEPT, parse=_parse_list)

    def render_list():
        names = [(name, normalize(name)) for name in document.content["projects"]]
        if content_type == JSON_TYPE:
            return render.project_list_json(names)
        return render.project_list_html(names)

    return _page(request, repository, document, content_type, render_list)


@require_http_methods(["GET", "HEAD"])
def simple_project(request, repository, project):
    normalized = normalize(project)
    redirect = to_normalized_name(request, repository, project)
    if redirect is not None:
        return redirect
    content_type = _negotiate(request)
    if content_type is None:
        return _not_acceptable()
    document = _project_document(repository, normalized)
    return _page(request, repository, document, content_type,
                 lambda: _render_project(request, repository, normalized, document, content_type))


@require_http_methods(["GET", "HEAD"])
def download(request, repository, project, filename):
    metadata_file = filename.endswith(".metadata")
    name = filename.removesuffix(".metadata") if metadata_file else filename
    project = normalize(project)
    path = file_path(project, name)
    stored = files.find(repository, path)
    if stored is not None and not metadata_file:
        return files.serve(request, repository, stored, _file_type(filename))
    entry = _entry(repository, project, name)
    if metadata_file:
        return _metadata(request, repository, stored, entry, filename)
    return fetches.serve(request, repository, fetches.Wanted(
        path=path, url=entry["url"], digests={"sha256": entry["sha256"]}, filename=name,
        content_type=_file_type(name), size=entry["size"], store=_store(path, name, entry["url"]),
    ))


def _metadata(request, repository, stored, entry, filename):
    """PEP 658: the upstream's metadata file, verified against the hash its index gave. pip and
    uv read it before deciding to download the file."""
    if entry is None or not entry.get("metadata_sha256"):
        raise NotFound(f"Not found: {filename}")
    if stored is not None and stored.metadata_blob_id == entry["metadata_sha256"]:
        blob = stored.metadata_blob  # extracted from the cached file at ingest: the same bytes
    else:
        blob = fetches.verified_blob(repository, entry["url"] + ".metadata",
                                     {"sha256": entry["metadata_sha256"]}, filename)
    return serve_blob(request, key=blob.storage_key, size=blob.size, sha256=blob.sha256,
                      filename=filename, content_type="text/plain; charset=utf-8",
                      cache_control=pages.file_cache_control(repository))


def _entry(repository, project, filename):
    """The upstream index's entry of a file (from the cached page, refreshed by its max age)."""
    try:
        document = _project_document(repository, project)
    except NotFound:
        raise NotFound(f"Not found: {filename}") from None
    entry = next((f for f in document.content["files"] if f["filename"] == filename), None)
    if entry is None:
        raise NotFound(f"Not found: {filename} is not in the upstream's index of {project}")
    return entry


def _store(path, filename, url):
    def store(repository, actor, spooled):
        try:
            # replace: a cached file an admin deleted is fetched again (no tombstone holds its
            # name), and bytes the upstream's index now vouches for replace older ones.
            return ingest_distribution(repository, actor, filename, spooled, path=path,
                                       action="file.cache", detail={"cached_from": url},
                                       replace=True)
        except RegistryError:
            raise  # the fetch answers it as an upstream failure
        except Exception as exc:
            # Verified against the upstream's index, yet not a distribution the libraries read.
            raise UpstreamFailed(f"{filename} from the upstream cannot be stored: {exc}") from None
    return store


def project_key(normalized):
    return f"simple/{normalized}/"


def _project_document(repository, normalized):
    return documents.get(repository, project_key(normalized),
                         urljoin(repository.upstream_url, f"{normalized}/"),
                         accept=upstream_index.ACCEPT, parse=_parse_project)


def _parse_project(body, content_type, final_url):
    try:
        return upstream_index.parse_project(body, content_type, final_url)
    except upstream_index.UnreadableIndex as exc:
        raise documents.Unreadable(str(exc)) from None


def _parse_list(body, content_type, _final_url):
    try:
        return upstream_index.parse_project_list(body, content_type)
    except upstream_index.UnreadableIndex as exc:
        raise documents.Unreadable(str(exc)) from None


def _page(request, repository, document, content_type, render_body):
    response = pages.cached_page(request, repository, document.row, content_type,
                                 _with_charset(content_type), render_body)
    for name, value in documents.stale_headers(document).items():
        response[name] = value
    return response


def _render_project(request, repository, normalized, document, content_type):
    content = document.content
    base = request.build_absolute_uri(f"/repository/{repository.name}/")
    listed = [
        render.IndexFile(
            filename=entry["filename"],
            url=base + file_path(normalized, entry["filename"]),
            sha256=entry["sha256"],
            size=entry["size"],
            upload_time=entry["upload_time"],
            requires_python=entry["requires_python"],
            yanked=entry["yanked"],
            metadata_sha256=entry["metadata_sha256"],
        )
        for entry in content["files"]
    ]
    name = content.get("name") or normalized
    if content_type == JSON_TYPE:
        versions = content.get("versions")
        if versions is None:
            versions = upstream_index.versions_of(content["files"])
        return render.project_json(name, versions, listed)
    return render.project_html(name, listed)
