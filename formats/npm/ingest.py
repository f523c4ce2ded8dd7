"""npm's writes in the terms of the core: publish a version, change dist-tags, deprecate,
unpublish. Every check happens before anything is stored; every change is audited."""

import hashlib
import hmac
import re

from django.db import transaction

from registry.errors import Conflict, Forbidden, InvalidPackage, NotFound
from registry.models import FileTombstone, Package, PackageVersion, Role
from registry.services import access, audit, ingest, versions

from . import parser, render

# Fields of a published manifest the registry computes itself or does not keep per version.
DROPPED_MANIFEST_FIELDS = ("dist", "readme", "readmeFilename", "_attachments", "_npmUser", "_id")
TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,99}$")


def file_path(name, version):
    return f"{name}/-/{parser.tarball_filename(name, version)}"


def rev(package):
    """The package document's revision, as CouchDB spells it: it changes on every write."""
    digest = hashlib.sha1(f"{package.pk}:{package.revision}".encode()).hexdigest()[:16]
    return f"{package.revision + 1}-{digest}"


def find_package(repository, name):
    try:
        return Package.objects.get(repository=repository, normalized_name=name)
    except Package.DoesNotExist:
        return None


def require_package(repository, name):
    package = find_package(repository, name)
    if package is None:
        raise NotFound(f"Not found: package {name!r} is not in this repository.")
    return package


def check_tag(tag):
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise InvalidPackage(
            f"Invalid dist-tag {tag!r}: a tag starts with a letter and holds letters, digits, "
            "'.', '_' or '-'."
        )
    try:
        parser.check_version(tag.removeprefix("v"))
    except InvalidPackage:
        return tag
    raise InvalidPackage(f"Invalid dist-tag {tag!r}: a tag must not look like a version.")


# --- publish ---------------------------------------------------------------------------------


def publish(repository, actor, name, document, attachment_name, spooled, tarball):
    """Store the one new version a publish document carries. `tarball` is the parsed
    parser.Tarball of `spooled`. Returns the PackageFile."""
    access.require(actor, repository, Role.WRITE)
    version, manifest = _the_new_version(name, document)
    _check_attachment(document, attachment_name, spooled)
    _check_tarball_agrees(name, version, tarball)
    _check_client_digests(manifest, spooled)
    tags = _tags_for(document, version)
    _refuse_republish(repository, name, version)

    def record_tags(package, _version, _file):
        locked = Package.objects.select_for_update().get(pk=package.pk)
        metadata = dict(locked.metadata)
        metadata["dist-tags"] = {**metadata.get("dist-tags", {}), **tags}
        readme = document.get("readme") or manifest.get("readme") or tarball.readme
        if readme:
            metadata["readme"] = readme
            metadata["readmeFilename"] = (
                document.get("readmeFilename") or manifest.get("readmeFilename")
                or tarball.readme_filename
            )
        locked.metadata = metadata
        locked.save(update_fields=["metadata"])

    kept = {k: v for k, v in manifest.items() if k not in DROPPED_MANIFEST_FIELDS}
    try:
        package_file, _created = ingest.store(
            repository,
            actor,
            ingest.NewFile(
                package_name=name,
                version=version,
                path=file_path(name, version),
                filename=parser.tarball_filename(name, version),
                spooled=spooled,
                version_metadata=kept,
                file_metadata={"tags": sorted(tags)},
                then=record_tags,
            ),
        )
    except Conflict:
        raise _republish_error(version) from None
    return package_file


def _the_new_version(name, document):
    if document.get("name") != name:
        raise InvalidPackage(
            f"The document's name {document.get('name')!r} is not the package name {name!r} of the URL."
        )
    found = document.get("versions")
    if not isinstance(found, dict) or len(found) != 1:
        raise InvalidPackage("A publish carries exactly one version in 'versions'.")
    [(version, manifest)] = found.items()
    parser.check_version(version)
    if not isinstance(manifest, dict):
        raise InvalidPackage(f"versions[{version!r}] must be an object (the package.json).")
    if manifest.get("name") != name or manifest.get("version") != version:
        raise InvalidPackage(
            f"versions[{version!r}] names {manifest.get('name')}@{manifest.get('version')}, "
            f"not {name}@{version}."
        )
    return version, manifest


def _check_attachment(document, attachment_name, spooled):
    attachments = document.get("_attachments")
    if attachment_name is None or not isinstance(attachments, dict) or len(attachments) != 1:
        raise InvalidPackage("A publish carries exactly one tarball in '_attachments'.")
    declared = attachments[attachment_name].get("length")
    if declared is not None and declared != spooled.digests.size:
        raise InvalidPackage(
            f"The attachment's length is {declared} but its data holds {spooled.digests.size} bytes."
        )
    if spooled.digests.size == 0:
        raise InvalidPackage("The tarball in '_attachments' is empty.")


def _check_tarball_agrees(name, version, tarball):
    inner_name, inner_version = tarball.manifest.get("name"), tarball.manifest.get("version")
    if inner_name != name:
        raise InvalidPackage(
            f"The package.json in the tarball names {inner_name!r}, not {name!r}."
        )
    if inner_version != version:
        raise InvalidPackage(
            f"The package.json in the tarball has version {inner_version!r}, not {version!r}."
        )


def _check_client_digests(manifest, spooled):
    """When the client says what it sent, the bytes must agree."""
    dist = manifest.get("dist")
    if not isinstance(dist, dict):
        return
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and not hmac.compare_digest(shasum.lower(), spooled.digests.sha1):
        raise InvalidPackage("The tarball does not match its shasum: it was damaged on the way.")
    integrity = dist.get("integrity")
    if isinstance(integrity, str):
        ours = render.integrity(spooled.digests.sha512)
        claimed = [part.split("?")[0] for part in integrity.split() if part.startswith("sha512-")]
        if claimed and not any(hmac.compare_digest(c, ours) for c in claimed):
            raise InvalidPackage("The tarball does not match its integrity: it was damaged on the way.")


def _tags_for(document, version):
    tags = document.get("dist-tags") or {"latest": version}
    if not isinstance(tags, dict):
        raise InvalidPackage("'dist-tags' must be an object.")
    for tag, target in tags.items():
        check_tag(tag)
        if target != version:
            raise InvalidPackage(f"dist-tag {tag!r} must point at the published version {version}.")
    return tags


def _refuse_republish(repository, name, version):
    exists = PackageVersion.objects.filter(
        package__repository=repository, package__normalized_name=name, version=version
    ).exists()
    if exists or FileTombstone.objects.filter(
        repository=repository, path=file_path(name, version)
    ).exists():
        raise _republish_error(version)


def _republish_error(version):
    # npm prints this field; the wording is the npm registry's.
    return Forbidden(f"You cannot publish over the previously published versions: {version}.")


# --- changes after publish ---------------------------------------------------------------------


def check_rev(package, given):
    if given is not None and given != rev(package):
        raise Conflict(
            "Document update conflict: the package changed since it was read; try again."
        )


def update(repository, actor, package, document):
    """A metadata-only write of the whole document: deprecations, removed versions (an
    unpublish), dist-tags. Other fields are not the client's to change here."""
    sent = document.get("versions")
    if not isinstance(sent, dict):
        raise InvalidPackage("The package document has no 'versions' object.")
    stored = {v.version: v for v in package.versions.all()}
    unknown = set(sent) - set(stored)
    if unknown:
        raise InvalidPackage(
            f"Versions {', '.join(sorted(unknown))} are not published; use npm publish."
        )
    removed = [stored[v] for v in stored if v not in sent]
    deprecations = {}
    for version, manifest in sent.items():
        message = manifest.get("deprecated", "") if isinstance(manifest, dict) else ""
        message = message if isinstance(message, str) else ""
        if message != stored[version].deprecated:
            deprecations[version] = message
    tags = document.get("dist-tags")
    if tags is not None and not isinstance(tags, dict):
        raise InvalidPackage("'dist-tags' must be an object.")

    access.require(actor, repository, Role.ADMIN if removed else Role.WRITE)
    with transaction.atomic():
        for version in removed:
            versions.delete_version(actor, version)
        for version, message in deprecations.items():
            versions.set_deprecated(actor, stored[version], message)
        retagged = tags is not None and package.versions.exists() and _replace_tags(
            actor, repository, package, tags, set(sent))
        # Deleted and deprecated versions bumped the revision already; a PUT that changes
        # nothing leaves the cached documents alone.
        if retagged:
            package.bump_revision()
            repository.bump_revision()


def _replace_tags(actor, repository, package, tags, existing):
    locked = Package.objects.select_for_update().get(pk=package.pk)
    current = locked.metadata.get("dist-tags", {})
    wanted = {}
    for tag, target in tags.items():
        check_tag(tag)
        if target not in existing:
            raise InvalidPackage(f"dist-tag {tag!r} points at {target!r}, which is not published.")
        wanted[tag] = target
    if wanted == current:
        return False
    locked.metadata = {**locked.metadata, "dist-tags": wanted}
    locked.save(update_fields=["metadata"])
    audit.record(actor, "npm.dist-tags", repository=repository, package_name=package.name,
                 before=current, after=wanted)
    return True


def set_tag(repository, actor, package, tag, version):
    access.require(actor, repository, Role.WRITE)
    check_tag(tag)
    if not isinstance(version, str) or not package.versions.filter(version=version).exists():
        raise InvalidPackage(f"Cannot tag {tag!r}: version {version!r} is not published.")
    with transaction.atomic():
        locked = Package.objects.select_for_update().get(pk=package.pk)
        tags = {**locked.metadata.get("dist-tags", {}), tag: version}
        locked.metadata = {**locked.metadata, "dist-tags": tags}
        locked.save(update_fields=["metadata"])
        locked.bump_revision()
        repository.bump_revision()
        audit.record(actor, "npm.dist-tag.add", repository=repository, package_name=package.name,
                     version=version, tag=tag)
    return tags


def remove_tag(repository, actor, package, tag):
    access.require(actor, repository, Role.WRITE)
    if tag == "latest":
        raise InvalidPackage("The 'latest' dist-tag cannot be removed; point it at another version.")
    with transaction.atomic():
        locked = Package.objects.select_for_update().get(pk=package.pk)
        tags = dict(locked.metadata.get("dist-tags", {}))
        if tag not in tags:
            raise NotFound(f"Package {package.name!r} has no dist-tag {tag!r}.")
        del tags[tag]
        locked.metadata = {**locked.metadata, "dist-tags": tags}
        locked.save(update_fields=["metadata"])
        locked.bump_revision()
        repository.bump_revision()
        audit.record(actor, "npm.dist-tag.remove", repository=repository,
                     package_name=package.name, tag=tag)
    return tags


def unpublish_package(repository, actor, package):
    access.require(actor, repository, Role.ADMIN)
    with transaction.atomic():
        for version in list(package.versions.all()):
            versions.delete_version(actor, version)


def unpublish_file(repository, actor, name, filename):
    """The last step of `npm unpublish <name>@<version>`: the version is usually gone already."""
    access.require(actor, repository, Role.ADMIN)
    path = f"{name}/-/{filename}"
    version = PackageVersion.objects.filter(
        package__repository=repository, files__path=path
    ).first()
    if version is not None:
        versions.delete_version(actor, version)
        return
    if not FileTombstone.objects.filter(repository=repository, path=path).exists():
        raise NotFound(f"Not found: {filename}")
