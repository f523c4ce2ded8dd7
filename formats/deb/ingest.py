"""Debian packages in the terms of the core: a .deb stored in the pool with its Packages stanza
(so a rebuild reads rows, never package files), its distributions and component; publications
built from those rows and signed."""

import gzip
import hashlib
import lzma
from collections import defaultdict
from datetime import timedelta

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from formats.archives import Limits
from registry.errors import Conflict, InvalidPackage
from registry.models import PackageFile, Role
from registry.services import access, ingest, publications, signing_keys

from . import parser, render

DEFAULT_DISTRIBUTION = "stable"
DEFAULT_COMPONENT = "main"
DEFAULT_ARCHITECTURES = ("amd64", "arm64")
# Ten years: a Valid-Until much further out is no expiry, and past year 9999 no date can say it.
MAX_VALID_UNTIL_DAYS = 3650


def clean_settings(settings):
    """`distributions` always published (the first is where uploads go by default),
    `architectures` indexed even with no package of their own (for `Architecture: all`),
    `valid_until_days` (a Valid-Until in every Release), `origin` and `label`."""
    unknown = set(settings) - {"distributions", "architectures", "valid_until_days", "origin", "label"}
    if unknown:
        raise ValueError(f"unknown APT settings: {', '.join(sorted(unknown))}")
    architectures = settings.get("architectures") or list(DEFAULT_ARCHITECTURES)
    if not isinstance(architectures, list) or not all(
        isinstance(a, str) and parser.ARCHITECTURE_RE.match(a) and a not in ("all", "any")
        for a in architectures
    ):
        raise ValueError("architectures must be a list of Debian architecture names, e.g. [\"amd64\"]")
    days = settings.get("valid_until_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)
                             or not 1 <= days <= MAX_VALID_UNTIL_DAYS):
        raise ValueError("valid_until_days must be a whole number of days, "
                         f"from 1 to {MAX_VALID_UNTIL_DAYS}")
    names = settings.get("distributions") or [DEFAULT_DISTRIBUTION]
    if not isinstance(names, list):
        raise ValueError('distributions must be a list of names, e.g. ["bookworm", "trixie"]')
    try:
        names = [parser.check_name("distribution", name) for name in names]
    except InvalidPackage as exc:
        raise ValueError(str(exc)) from None
    cleaned = {"distributions": list(dict.fromkeys(names)), "architectures": sorted(set(architectures)),
               "valid_until_days": days}
    for field in ("origin", "label"):
        value = settings.get(field)
        if value is not None:
            if not isinstance(value, str) or "\n" in value or len(value) > 100:
                raise ValueError(f"{field} must be one line of text")
            cleaned[field] = value
    return cleaned


def upload(repository, actor, filename, spooled, distribution=None, component=None):
    """Store a .deb into `distribution`/`component`. Returns (PackageFile, created)."""
    access.require(actor, repository, Role.WRITE)
    distribution = parser.check_name("distribution", distribution or configured_distributions(repository)[0])
    component = parser.check_name("component", component or DEFAULT_COMPONENT)
    if not filename.endswith(".deb"):
        raise InvalidPackage(f"{filename!r} is not a .deb file name.")
    package = parser.read(spooled.path, filename, Limits.from_settings(django_settings))
    canonical = parser.canonical_filename(package)
    path = parser.pool_path(component, package.source, canonical)
    placement = {"distribution": distribution, "component": component}

    with transaction.atomic():
        stored, created = ingest.store(
            repository,
            actor,
            ingest.NewFile(
                package_name=package.package,
                version=package.version,
                path=path,
                filename=canonical,
                spooled=spooled,
                version_metadata={"source": package.source},
                file_metadata={
                    "architecture": package.architecture,
                    "component": component,
                    "distributions": [distribution],
                    "fields": package.fields,
                },
                conflict=(f"Conflict: {canonical} is already in this repository with other "
                          "content; a released .deb cannot change, build a new version"),
            ),
        )
        # store() bumped the revision of a new file; an old one is changed only by a new place.
        changed = created or _add_distribution(stored, placement)
        if changed and not created:
            repository.bump_revision()
        if changed:
            publications.request_publish(repository)
    return stored, created


def cache_file(repository, actor, path, spooled, source_url):
    """A .deb an APT proxy fetched from its upstream's pool and verified against the upstream's
    Packages: stored at the upstream's own pool path (apt asks for that path), audited as
    file.cache. A proxy publishes nothing: its dists/ are the upstream's."""
    filename = path.rsplit("/", 1)[-1]
    package = parser.read(spooled.path, filename, Limits.from_settings(django_settings))
    return ingest.store(
        repository,
        actor,
        ingest.NewFile(
            package_name=package.package,
            version=package.version,
            path=path,
            filename=filename,
            spooled=spooled,
            version_metadata={"source": package.source},
            file_metadata={"architecture": package.architecture, "fields": package.fields},
            conflict=f"Conflict: {path} is already cached with other content",
            action="file.cache",
            detail={"cached_from": source_url},
        ),
    )


def _add_distribution(stored, placement):
    """List an existing file in one more distribution; whether that changed anything."""
    locked = PackageFile.objects.select_for_update().get(pk=stored.pk)
    if locked.metadata.get("component") != placement["component"]:
        raise Conflict(f"{locked.filename} is already in component {locked.metadata.get('component')}.")
    distributions = locked.metadata.get("distributions", [])
    if placement["distribution"] in distributions:
        return False
    locked.metadata = {**locked.metadata,
                       "distributions": sorted(distributions + [placement["distribution"]])}
    locked.save(update_fields=["metadata"])
    return True


# --- publications --------------------------------------------------------------------------------


def build_publication(repository):
    """dists/<suite>/… for every distribution: Packages (plain, gz, xz) per component and
    architecture, by-hash copies, and Release, InRelease and Release.gpg signed by every active key."""
    settings = repository.settings or {}
    rows = (PackageFile.objects.filter(repository=repository)
            .select_related("blob", "version__package")
            .only("path", "metadata", "blob__size", "blob__md5", "blob__sha1", "blob__sha256",
                  "version__sort_key", "version__package__normalized_name"))
    # distribution -> component -> architecture -> [(sort key, stanza)]
    tree = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    architectures = defaultdict(set)
    for row in rows:
        meta = row.metadata
        arch = meta.get("architecture", "all")
        fields = [tuple(pair) for pair in meta.get("fields", [])]
        text = render.stanza(fields, filename=row.path, size=row.blob.size, md5=row.blob.md5,
                             sha1=row.blob.sha1, sha256=row.blob.sha256)
        order = (row.version.package.normalized_name, row.version.sort_key, arch)
        for distribution in meta.get("distributions", []):
            tree[distribution][meta.get("component", DEFAULT_COMPONENT)][arch].append((order, text))
            if arch != "all":
                architectures[distribution].add(arch)

    for distribution in configured_distributions(repository):
        # Published even while empty, signed: clients can add it before its first upload.
        if not tree[distribution]:
            tree[distribution][DEFAULT_COMPONENT]
    files, releases = {}, {}
    now = timezone.now()
    for distribution, components in sorted(tree.items()):
        archs = sorted(architectures[distribution] | set(settings.get("architectures") or DEFAULT_ARCHITECTURES))
        indexed = []
        for component, by_arch in sorted(components.items()):
            for arch in archs:
                entries = sorted(by_arch.get(arch, []) + by_arch.get("all", []))
                plain = render.packages([text for _order, text in entries])
                for suffix, data in (("", plain), (".gz", gzip.compress(plain, mtime=0)),
                                     (".xz", lzma.compress(plain))):
                    relative = f"{component}/binary-{arch}/Packages{suffix}"
                    indexed.append(_indexed(relative, data))
                    files[f"dists/{distribution}/{relative}"] = data
                    digest = hashlib.sha256(data).hexdigest()
                    files[f"dists/{distribution}/{component}/binary-{arch}/by-hash/SHA256/{digest}"] = data
        days = settings.get("valid_until_days")
        release = render.release(
            origin=settings.get("origin") or repository.name,
            label=settings.get("label") or repository.name,
            suite=distribution, codename=distribution, date=now,
            valid_until=now + timedelta(days=days) if days else None,
            architectures=archs, components=sorted(components), files=indexed,
            description=repository.description.splitlines()[0] if repository.description else "",
        )
        files[f"dists/{distribution}/Release"] = release
        releases[distribution] = release
    with signing_keys.signer(repository) as sign:
        for distribution, release in releases.items():
            files[f"dists/{distribution}/InRelease"] = sign.clearsign(release)
            files[f"dists/{distribution}/Release.gpg"] = sign.detached_signature(release)
    return files


def _indexed(relative, data):
    return render.IndexedFile(relative, len(data), hashlib.md5(data).hexdigest(),
                              hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest())


def configured_distributions(repository):
    """The repository's `distributions` setting (repositories made before it: stable)."""
    return (repository.settings or {}).get("distributions") or [DEFAULT_DISTRIBUTION]


def distributions(repository):
    """{distribution: [components]} of what is published now."""
    found = defaultdict(set)
    for distribution in configured_distributions(repository):
        found[distribution].add(DEFAULT_COMPONENT)
    for meta in PackageFile.objects.filter(repository=repository).values_list("metadata", flat=True):
        for distribution in meta.get("distributions", []):
            found[distribution].add(meta.get("component", DEFAULT_COMPONENT))
    return {d: sorted(c) for d, c in sorted(found.items())}
