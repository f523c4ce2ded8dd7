"""npm over HTTP: packuments, tarballs, publish and the `/-/` endpoints of the npm registry API.

Each view gets (request, repository, …) from the core dispatcher, which has already checked
read access (except login, which decides itself); errors are raised as RegistryError and
answered as JSON `{"error": …}` by NpmPlugin.error_response, which npm prints.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from formats.archives import Limits
from registry import bounded_json, files, pages, plugins
from registry.errors import Forbidden, InvalidPackage, NotFound, TooLarge, Unauthorized
from registry.models import Role
from registry.services import access, audit, tokens
from registry.uploads import spool_body
from storage.hashing import SpoolWriter, UploadTooLarge

from . import ingest, parser, publish_body, render
from .ingest import require_package

JSON_TYPE = "application/json"
# base64 makes the body a third larger than the tarball; the rest of the document is small.
BODY_OVERHEAD = 16 * 1024 * 1024
LOGIN_TOKEN_DAYS = 90


def ok(extra=None, status=200):
    return JsonResponse({"ok": True, **(extra or {})}, status=status)


# --- packuments and tarballs -----------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "PUT"])
def package(request, repository, name, rev=None):
    if request.method == "PUT":
        return _write_document(request, repository, name, rev)
    package = require_package(repository, name)
    abbreviated = render.ABBREVIATED_TYPE in request.headers.get("Accept", "") and "write" not in request.GET
    if abbreviated:
        content_type = render.ABBREVIATED_TYPE
        build = lambda: render.dumps(render.abbreviated(  # noqa: E731
            package.name, package.metadata, _rows(request, repository, package), package.updated))
    else:
        content_type = JSON_TYPE
        build = lambda: render.dumps(render.full(  # noqa: E731
            package.name, ingest.rev(package), package.metadata,
            _rows(request, repository, package), package.created, package.updated))
    return pages.cached_page(request, repository, package, content_type, content_type, build)


@require_http_methods(["PUT", "DELETE"])
def package_revision(request, repository, name, rev):
    if request.method == "PUT":
        return _write_document(request, repository, name, rev)
    package = require_package(repository, name)
    ingest.check_rev(package, rev)
    ingest.unpublish_package(repository, request.actor, package)
    return ok()


@require_http_methods(["GET", "HEAD"])
def version_manifest(request, repository, name, spec):
    """`GET /<name>/<version>` or `/<name>/<dist-tag>`."""
    package = require_package(repository, name)
    version = package.metadata.get("dist-tags", {}).get(spec, spec)
    rows = _rows(request, repository, package, only=version)
    if not rows:
        raise NotFound(f"Not found: version or tag {spec!r} of {name}.")
    return JsonResponse(render.version_document(package.name, rows[0]))


@require_http_methods(["GET", "HEAD"])
def tarball(request, repository, name, filename):
    return files.serve_path(request, repository, f"{name}/-/{filename}", "application/octet-stream")


@require_http_methods(["DELETE"])
def tarball_revision(request, repository, name, filename, rev):
    ingest.unpublish_file(repository, request.actor, name, filename)
    return ok()


def _rows(request, repository, package, only=None):
    plugin = plugins.get(repository.format)
    versions = package.versions.select_related("uploader").prefetch_related("files__blob")
    if only is not None:
        versions = versions.filter(version=only)
    rows = []
    for version in versions.order_by("sort_key"):
        files = list(version.files.all())
        if not files:
            continue
        blob = files[0].blob
        rows.append(render.VersionRow(
            version=version.version,
            manifest=version.metadata,
            created=version.created,
            deprecated=version.deprecated,
            tarball_url=plugin.file_url(request, repository, files[0]),
            sha1=blob.sha1,
            sha512=blob.sha512,
            size=blob.size,
            uploader=version.uploader.get_username() if version.uploader else "",
            uploader_email=version.uploader.email if version.uploader else "",
        ))
    return rows


# --- publish and document writes -----------------------------------------------------------


def _write_document(request, repository, name, rev):
    """PUT of a package document: a publish when it carries a tarball, otherwise a
    metadata change (deprecate, unpublish of a version, dist-tags)."""
    access.require(request.actor, repository, Role.WRITE)
    parser.check_name(name)
    body = _spool_body(request)
    writer = SpoolWriter(settings.MAX_UPLOAD_SIZE)
    try:
        document, attachment_name = publish_body.split(body.path, writer)
    except UploadTooLarge as exc:
        writer.discard()
        raise TooLarge(f"The package is larger than the limit of {exc.limit} bytes.") from None
    except BaseException:
        writer.discard()
        raise
    finally:
        body.delete()
    spooled = writer.finish()
    try:
        if attachment_name is None:
            package = require_package(repository, name)
            ingest.check_rev(package, rev)
            ingest.update(repository, request.actor, package, document)
            return ok()
        contents = parser.read_tarball(spooled.path, Limits.from_settings(settings))
        ingest.publish(repository, request.actor, name, document, attachment_name, spooled, contents)
        return ok(status=201)
    finally:
        spooled.delete()


def _spool_body(request):
    return spool_body(request, "The package", limit=settings.MAX_UPLOAD_SIZE * 4 // 3 + BODY_OVERHEAD,
                      shown_limit=settings.MAX_UPLOAD_SIZE)


# --- dist-tags ---------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def dist_tags(request, repository, name):
    package = require_package(repository, name)
    return JsonResponse(package.metadata.get("dist-tags", {}))


@require_http_methods(["PUT", "POST", "DELETE"])
def dist_tag(request, repository, name, tag):
    package = require_package(repository, name)
    if request.method == "DELETE":
        return JsonResponse(ingest.remove_tag(repository, request.actor, package, tag))
    version = _json_body(request)
    return JsonResponse(ingest.set_tag(repository, request.actor, package, tag, version), status=201)


def _json_body(request, limit=64 * 1024):
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge("The request body is too large.")
    return bounded_json.loads(raw, error=InvalidPackage)


# --- the rest of the npm registry API ------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def ping(request, repository):
    return JsonResponse({})


@require_http_methods(["GET"])
def whoami(request, repository):
    if not request.actor.is_authenticated:
        raise Unauthorized("You are not logged in to this registry.")
    return JsonResponse({"username": request.actor.user.get_username()})


@require_http_methods(["GET"])
def search(request, repository):
    text = request.GET.get("text", "").strip()
    size = _bounded_int(request.GET.get("size"), 20, 1, 250)
    start = _bounded_int(request.GET.get("from"), 0, 0, 100000)
    packages = repository.packages.all().order_by("normalized_name")
    for word in text.split():
        if ":" in word:
            continue  # qualifiers like maintainer:x or keywords:y are not indexed
        packages = packages.filter(Q(normalized_name__icontains=word)
                                   | Q(versions__metadata__description__icontains=word)).distinct()
    total = packages.count()
    objects = []
    for package in packages[start:start + size]:
        latest = _latest(package)
        if latest is None:
            continue
        manifest = latest.metadata
        publisher = latest.uploader.get_username() if latest.uploader else ""
        objects.append({
            "package": {
                "name": package.name,
                "scope": parser.split_name(package.name)[0].lstrip("@") or "unscoped",
                "version": latest.version,
                "description": manifest.get("description", ""),
                "keywords": manifest.get("keywords", []) if isinstance(manifest.get("keywords"), list) else [],
                "date": render.iso(latest.created),
                "links": {"npm": request.build_absolute_uri(f"/ui/repositories/{repository.name}/")},
                "publisher": {"username": publisher},
                "maintainers": [{"username": publisher}] if publisher else [],
            },
            "score": {"final": 1.0, "detail": {"quality": 1.0, "popularity": 1.0, "maintenance": 1.0}},
            "searchScore": 1.0,
        })
    return JsonResponse(render.search_result(objects, total, timezone.now()))


def _latest(package):
    tag = package.metadata.get("dist-tags", {}).get("latest")
    versions = package.versions.select_related("uploader")
    return versions.filter(version=tag).first() or versions.order_by("-sort_key").first()


def _bounded_int(raw, default, low, high):
    try:
        return min(max(int(raw), low), high)
    except (TypeError, ValueError):
        return default


@require_http_methods(["POST"])
def web_login(request, repository):
    # A 4xx here makes npm fall back to the username/password login below.
    raise NotFound("Web login is not offered by this registry; log in with username and password.")


@plugins.checks_access_itself
@require_http_methods(["PUT", "GET"])
def couch_user(request, repository, username, rev=None):
    """`npm login` / `npm adduser`: a username and password exchanged for an API token that
    is limited to this repository. Accounts are not created here.

    The core calls it without its read check (the password in the body is the credential) and
    answers any refusal of a caller who may not read as for a missing repository."""
    if request.method == "GET":
        # No body to authenticate with: the caller's own rights decide, as for every other view.
        access.require(request.actor, repository, Role.READ)
        if not request.actor.is_authenticated or request.actor.user.get_username() != username:
            raise Unauthorized("Log in to see this user.")
        return JsonResponse({"_id": f"org.couchdb.user:{username}", "name": username})
    body = _json_body(request)
    if not isinstance(body, dict):
        raise InvalidPackage("The login body must be a JSON object.")
    password = body.get("password")
    if body.get("name") != username or not isinstance(password, str):
        raise InvalidPackage("The login body needs the name of the URL and a password.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise Unauthorized("Incorrect username or password.")
    caller = request.actor.token
    if caller is not None and caller.user_id != user.pk:
        raise Forbidden("This request carries another user's token; log in without it.")
    # A token sent along (npm sends the one it has) holds the login to its own limits.
    actor = access.Actor(user=user, token=caller, remote_addr=request.actor.remote_addr)
    access.require(actor, repository, Role.READ)
    token, secret = tokens.issue_shaped(
        actor, f"npm login ({repository.name})", scope=Role.ADMIN, repositories=[repository],
        expires=timezone.now() + timedelta(days=LOGIN_TOKEN_DAYS), repository=repository,
        via="npm login",
    )
    return JsonResponse({"ok": True, "id": f"org.couchdb.user:{username}", "token": secret},
                        status=201)


@require_http_methods(["DELETE"])
def logout(request, repository, secret):
    token = tokens.authenticate(secret)
    actor = request.actor
    if token is None or not actor.is_authenticated or token.user_id != actor.user.pk:
        raise NotFound("Not found: no such token.")
    tokens.revoke(token)
    audit.record(actor, "token.revoke", prefix=token.prefix, via="npm logout")
    return ok()


@require_http_methods(["GET", "POST"])
def npm_tokens(request, repository):
    actor = request.actor
    tokens.require_manager(actor)
    if request.method == "GET":
        mine = tokens.manageable(actor).filter(revoked__isnull=True)
        objects = [_token_json(t) for t in mine if t.is_active]
        return JsonResponse({"objects": objects, "total": len(objects), "urls": {"next": None}})
    body = _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("password"), str):
        raise InvalidPackage("Creating a token needs your password.")
    if authenticate(request, username=actor.user.get_username(), password=body["password"]) is None:
        raise Unauthorized("Incorrect password.")
    if body.get("cidr_whitelist"):
        raise InvalidPackage("CIDR-restricted tokens are not supported by this registry.")
    scope = Role.READ if body.get("readonly") else Role.WRITE
    # npm cannot say which repositories or how long: the new token has the asking one's limits.
    token, secret = tokens.issue_shaped(
        actor, f"npm token ({repository.name})", scope=scope,
        repositories=tokens.own_repositories(actor), expires=None, via="npm token create",
    )
    return JsonResponse({**_token_json(token), "token": secret}, status=201)


@require_http_methods(["DELETE"])
def npm_token(request, repository, key):
    actor = request.actor
    token = tokens.manageable(actor).filter(key_hash=key, revoked__isnull=True).first()
    if token is None:
        raise NotFound("Not found: no such token.")
    tokens.withdraw(actor, token, via="npm token revoke")
    return HttpResponse(status=204)


def _token_json(token):
    return {
        "key": token.key_hash,
        "token": token.prefix + "…",
        "name": token.name,
        "readonly": token.scope == Role.READ,
        "automation": False,
        "cidr_whitelist": None,
        "created": render.iso(token.created),
        "updated": render.iso(token.last_used or token.created),
    }


def audit_endpoint(request, repository, rest=""):
    # No advisory database here: a 404 makes npm skip the audit quietly, instead of a
    # "found 0 vulnerabilities" that would claim a check that never happened.
    raise NotFound("This registry has no security advisory database; npm audit is not available.")

