"""Maven 2 layout over HTTP: PUT to deploy, GET/HEAD to resolve, checksums from the stored
hashes, metadata rebuilt from rows, directory listings for people.

The core dispatcher has checked read access; errors are RegistryError, answered by the plugin
as text with the message in the reason phrase, which is what mvn prints.
"""

import hashlib

from django.db import transaction
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.views.decorators.http import require_http_methods

from registry import files, pages
from registry.errors import InvalidPackage, NotFound, TooLarge
from registry.models import Package, PackageFile, Role
from registry.services import access
from registry.uploads import spool_body

from . import ingest, paths, render, tasks

SMALL_BODY = 1024 * 1024  # checksums and metadata
CONTENT_TYPES = {
    "pom": "application/xml", "xml": "application/xml", "jar": "application/java-archive",
    "module": "application/json", "asc": "text/plain",
}


@require_http_methods(["GET", "HEAD", "PUT"])
def resource(request, repository, rest=""):
    if rest == "" or rest.endswith("/"):
        if request.method == "PUT":
            raise InvalidPackage("Cannot PUT a directory: give the file's path.")
        return _listing(request, repository, rest)
    if request.method == "PUT":
        return _put(request, repository, paths.parse(rest))
    try:
        maven_path = paths.parse(rest)
    except InvalidPackage:
        # Not a file of the layout: a folder typed without its slash, or nothing.
        return _folder_or_404(request, repository, rest)
    if maven_path.kind == "metadata":
        return _metadata(request, repository, maven_path)
    stored = files.find(repository, maven_path.path)
    if stored is None:
        if maven_path.checksum:
            raise NotFound(f"Not found: {rest}")
        return _folder_or_404(request, repository, rest)
    if maven_path.checksum:
        return _checksum_response(request, getattr(stored.blob, maven_path.checksum))
    content_type = CONTENT_TYPES.get(maven_path.extension.rsplit(".", 1)[-1], "application/octet-stream")
    return files.serve(request, repository, stored, content_type)


def _folder_or_404(request, repository, rest):
    # A folder asked for without its slash, as people type it: send them to the listing.
    if PackageFile.objects.filter(repository=repository, path__startswith=rest + "/").exists():
        return HttpResponsePermanentRedirect(request.path + "/")
    raise NotFound(f"Not found: {rest}")


# --- deploy ------------------------------------------------------------------------------------


def _put(request, repository, maven_path):
    actor = request.actor
    if maven_path.checksum:
        ingest.verify_checksum(repository, actor, maven_path, _small_body(request))
        return HttpResponse(status=201)
    if maven_path.kind == "metadata":
        ingest.accept_metadata(repository, actor, maven_path, _small_body(request))
        return HttpResponse(status=201)
    access.require(actor, repository, Role.WRITE)
    ingest.check_policy(repository, maven_path)
    spooled = spool_body(request, maven_path.filename)
    try:
        _stored, created = ingest.store_file(repository, actor, maven_path, spooled)
    finally:
        spooled.delete()
    if created and maven_path.timestamp and (repository.settings or {}).get("snapshot_keep"):
        transaction.on_commit(lambda: tasks.prune_snapshots.delay(repository.pk))
    return HttpResponse(status=201 if created else 200)


def _small_body(request):
    body = request.read(SMALL_BODY + 1)
    if len(body) > SMALL_BODY:
        raise TooLarge("The body is too large for a checksum or metadata file.")
    return body


# --- metadata ------------------------------------------------------------------------------------


def _metadata(request, repository, maven_path):
    package = Package.objects.filter(repository=repository,
                                     normalized_name=maven_path.package_name).first()
    if package is None:
        raise NotFound(f"Not found: {maven_path.path}")
    if maven_path.version:
        version = package.versions.filter(version=maven_path.version).first()
        if version is None:
            raise NotFound(f"Not found: {maven_path.path}")

        def build():
            files = [render.BuildFile(classifier=f.metadata.get("classifier", ""),
                                      extension=f.metadata.get("extension", ""),
                                      timestamp=f.metadata.get("timestamp", ""),
                                      build_number=f.metadata.get("build_number", 0),
                                      created=f.created)
                     for f in version.files.all()]
            return render.snapshot_metadata(maven_path.group_id, maven_path.artifact_id,
                                            version.version, files, package.updated)
    else:
        def build():
            return render.artifact_metadata(maven_path.group_id, maven_path.artifact_id,
                                            package.versions.values_list("version", flat=True),
                                            package.updated)

    variant = f"maven:{maven_path.path}"
    if maven_path.checksum:
        body = pages.cached_body(package, variant, build)
        return _checksum_response(request, hashlib.new(maven_path.checksum, body).hexdigest())
    return pages.cached_page(request, repository, package, variant, "application/xml", build)


def _checksum_response(request, hex_digest):
    response = HttpResponse(hex_digest, content_type="text/plain")
    response["Content-Length"] = str(len(hex_digest))
    return response


# --- listings ------------------------------------------------------------------------------------


def _listing(request, repository, rest):
    prefix = "/".join(paths.directory(rest))
    prefix = prefix + "/" if prefix else ""
    rows = PackageFile.objects.filter(repository=repository, path__startswith=prefix).select_related("blob")
    entries = {}
    for row in rows.only("path", "created", "blob__size"):
        child, _, below = row.path[len(prefix):].partition("/")
        if below:
            entries.setdefault(child, (child, True, None, None))
        else:
            entries[child] = (child, False, row.blob.size, row.created)
    if not entries and prefix:
        raise NotFound(f"Not found: {rest}")
    for name in _metadata_names(repository, prefix):
        entries[name] = (name, False, None, None)
    listed = sorted(entries.values(), key=lambda e: (not e[1], e[0]))
    body = render.listing(f"/repository/{repository.name}/{prefix}", listed)
    return HttpResponse(body, content_type="text/html; charset=utf-8")


def _metadata_names(repository, prefix):
    """maven-metadata.xml (and its checksums) where a listing's folder has generated metadata."""
    segments = prefix.strip("/").split("/") if prefix else []
    if len(segments) < 2:
        return []
    candidates = [":".join([".".join(segments[:-1]), segments[-1]])]
    if len(segments) >= 3 and segments[-1].endswith("-SNAPSHOT"):
        candidates.append(":".join([".".join(segments[:-2]), segments[-2]]))
    if not Package.objects.filter(repository=repository, normalized_name__in=candidates).exists():
        return []
    return [paths.METADATA] + [f"{paths.METADATA}.{c}" for c in paths.CHECKSUMS]
