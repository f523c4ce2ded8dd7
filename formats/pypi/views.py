"""PyPI over HTTP: the simple index, downloads and the legacy upload API.

Each view gets (request, repository, …) from the core dispatcher, which has already checked read
access; errors are raised as RegistryError and translated by PypiPlugin.error_response.
"""

import hashlib
import hmac

from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponsePermanentRedirect
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import InvalidPackage, NotFound
from registry.models import Package, PackageFile, Role
from registry.services import access
from registry.uploads import parse_multipart
from storage.hashing import spooled_from_upload

from . import negotiate, render
from .ingest import ingest_distribution, normalize
from .render import JSON_TYPE

@require_http_methods(["GET", "HEAD", "POST"])
def root(request, repository):
    """The repository root is the upload URL (`twine upload --repository-url <root>`)."""
    if request.method == "POST":
        return upload(request, repository)
    return HttpResponsePermanentRedirect(request.path + "simple/")


def legacy(request, repository):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return upload(request, repository)


@require_http_methods(["GET", "HEAD"])
def simple_root(request, repository):
    content_type = _negotiate(request)
    if content_type is None:
        return _not_acceptable()
    def render_list():
        names = list(
            Package.objects.filter(repository=repository)
            .order_by("normalized_name")
            .values_list("name", "normalized_name")
        )
        if content_type == JSON_TYPE:
            return render.project_list_json(names)
        return render.project_list_html(names)

    return _cached_index(request, repository, repository, content_type, render_list)


def to_normalized_name(request, repository, project):
    """PEP 503: the redirect to the project's normalised name (with a trailing slash), keeping
    the query (?format=…); None when the request already names it so."""
    normalized = normalize(project)
    if normalized == project and request.path.endswith("/"):
        return None
    target = f"/repository/{repository.name}/simple/{normalized}/"
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return HttpResponsePermanentRedirect(target)


@require_http_methods(["GET", "HEAD"])
def simple_project(request, repository, project):
    normalized = normalize(project)
    redirect = to_normalized_name(request, repository, project)
    if redirect is not None:
        return redirect
    content_type = _negotiate(request)
    if content_type is None:
        return _not_acceptable()
    package = Package.objects.filter(repository=repository, normalized_name=normalized).first()
    if package is None:
        raise NotFound(f"No project named {project!r} in repository {repository.name!r}")
    return _cached_index(
        request, repository, package, content_type,
        lambda: _render_project(request, repository, package, content_type),
    )


def _cached_index(request, repository, subject, content_type, render_body):
    return pages.cached_page(request, repository, subject, content_type,
                             _with_charset(content_type), render_body)


def _render_project(request, repository, package, content_type):
    versions = sorted(
        package.versions.all(), key=lambda v: v.sort_key
    )
    files = []
    rows = (
        PackageFile.objects.filter(version__package=package)
        .select_related("version", "blob")
        .order_by("filename")
    )
    by_version = {}
    for row in rows:
        by_version.setdefault(row.version_id, []).append(row)
    base = request.build_absolute_uri(f"/repository/{repository.name}/")
    for version in versions:
        for row in by_version.get(version.pk, []):
            files.append(
                render.IndexFile(
                    filename=row.filename,
                    url=base + row.path,
                    sha256=row.blob_id,
                    size=row.blob.size,
                    upload_time=row.created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    requires_python=row.metadata.get("requires_python") or None,
                    yanked=(version.yank_reason if version.yanked else False),
                    metadata_sha256=row.metadata_blob_id,
                )
            )
    if content_type == JSON_TYPE:
        return render.project_json(package.name, [v.version for v in versions], files)
    return render.project_html(package.name, files)


@require_http_methods(["GET", "HEAD"])
def download(request, repository, project, filename):
    metadata_file = filename.endswith(".metadata")
    path = f"packages/{project}/{filename.removesuffix('.metadata') if metadata_file else filename}"
    row = files.find(repository, path)
    if row is None or (metadata_file and row.metadata_blob is None):
        raise NotFound(f"Not found: {filename}")
    return files.serve(
        request, repository, row,
        "text/plain; charset=utf-8" if metadata_file else _file_type(filename),
        blob=row.metadata_blob if metadata_file else row.blob, filename=filename,
    )


def upload(request, repository):
    actor = request.actor
    access.require(actor, repository, Role.WRITE)
    post, files = parse_multipart(request)
    action = post.get(":action", "file_upload")
    if action != "file_upload":
        raise InvalidPackage(f"Unsupported :action {action!r}; only file_upload is supported.")
    content = files.get("content")
    if content is None:
        raise InvalidPackage("Upload payload does not have a file.", field="content")
    spooled = spooled_from_upload(content)
    _verify_digests(post, spooled)
    package_file, created = ingest_distribution(
        repository, actor, content.name, spooled, form=post
    )
    message = "OK" if created else "OK (identical file already present)"
    return HttpResponse(message + "\n", content_type="text/plain; charset=utf-8")


def _verify_digests(post, spooled):
    digests = spooled.digests
    sent = {
        "md5_digest": (post.get("md5_digest"), digests.md5),
        "sha256_digest": (post.get("sha256_digest"), digests.sha256),
    }
    for name, (claimed, actual) in sent.items():
        if claimed and not hmac.compare_digest(claimed.strip().lower(), actual):
            raise InvalidPackage(
                f"The {name} sent does not match the uploaded file: the upload was damaged "
                "or the digest is wrong.",
                field=name,
            )
    blake2 = post.get("blake2_256_digest")
    if blake2 and not post.get("sha256_digest"):
        # Only when no sha256 came with it: sha256 already proves the bytes arrived intact,
        # and checking blake2 means reading the file a second time.
        hasher = hashlib.blake2b(digest_size=32)
        with spooled.open() as handle:
            while chunk := handle.read(1024 * 1024):
                hasher.update(chunk)
        if not hmac.compare_digest(blake2.strip().lower(), hasher.hexdigest()):
            raise InvalidPackage(
                "The blake2_256_digest sent does not match the uploaded file.",
                field="blake2_256_digest",
            )


def _negotiate(request):
    return negotiate.choose(request.headers.get("Accept"), request.GET.get("format"))


def _not_acceptable():
    response = HttpResponse(
        "Not acceptable: ask for application/vnd.pypi.simple.v1+json, "
        "application/vnd.pypi.simple.v1+html or text/html\n",
        status=406,
        content_type="text/plain; charset=utf-8",
    )
    response["Vary"] = "Accept"
    return response


def _with_charset(content_type):
    return content_type if content_type == JSON_TYPE else content_type + "; charset=utf-8"


def _file_type(filename):
    if filename.endswith(".whl") or filename.endswith(".zip"):
        return "application/zip"
    if filename.endswith(".tar.gz"):
        return "application/gzip"
    return "application/octet-stream"
