"""Maven deploys in the terms of the core: a file stored under its checked path, a checksum
verified against it, metadata accepted (and rebuilt on read), old SNAPSHOT builds pruned."""

import hmac
import logging

from django.db import transaction

from registry import files
from registry.errors import InvalidPackage, UpstreamFailed
from registry.models import PackageVersion, Repository, Role
from registry.services import access, ingest, versions

from . import pom

logger = logging.getLogger(__name__)

POLICIES = ("mixed", "release", "snapshot")
MAX_CHECKSUM_BYTES = 1024


def clean_settings(settings):
    """`version_policy` (default mixed) and `snapshot_keep` (builds kept per SNAPSHOT; unset
    keeps all)."""
    unknown = set(settings) - {"version_policy", "snapshot_keep"}
    if unknown:
        raise ValueError(f"unknown Maven settings: {', '.join(sorted(unknown))}")
    policy = settings.get("version_policy") or "mixed"
    if policy not in POLICIES:
        raise ValueError(f"version_policy must be one of {', '.join(POLICIES)}")
    keep = settings.get("snapshot_keep")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        raise ValueError("snapshot_keep must be a whole number of builds, at least 1")
    return {"version_policy": policy, "snapshot_keep": keep}


def policy_of(repository):
    return (repository.settings or {}).get("version_policy") or "mixed"


def check_policy(repository, maven_path):
    policy = policy_of(repository)
    if policy == "release" and maven_path.is_snapshot:
        raise InvalidPackage(
            f"Repository {repository.name!r} takes releases only; {maven_path.version} is a SNAPSHOT."
        )
    if policy == "snapshot" and not maven_path.is_snapshot:
        raise InvalidPackage(
            f"Repository {repository.name!r} takes SNAPSHOTs only; {maven_path.version} is a release."
        )


def store_file(repository, actor, maven_path, spooled):
    """A deployed artifact, POM, signature or module file. Returns (PackageFile, created)."""
    access.require(actor, repository, Role.WRITE)
    check_policy(repository, maven_path)
    if spooled.digests.size == 0:
        raise InvalidPackage(f"{maven_path.filename} is empty.")
    described = None
    if maven_path.extension == "pom" and not maven_path.classifier:
        with spooled.open() as handle:
            described = pom.parse(handle.read(pom.MAX_POM_BYTES + 1))
        _check_pom_agrees(described, maven_path)

    return _record(repository, actor, maven_path, spooled, described)


def cache_file(repository, actor, maven_path, spooled, source_url):
    """A file a proxy fetched from its upstream and verified: stored like a deploy (audited as
    file.cache), for whoever asked for it. A POM is read for the package pages when it can be;
    one this server cannot read (a parent's property it does not resolve) is still served as
    the upstream has it. Returns (PackageFile, created)."""
    if spooled.digests.size == 0:
        raise UpstreamFailed(f"{maven_path.filename} from the upstream is empty: not stored.")
    described = None
    if maven_path.extension == "pom" and not maven_path.classifier:
        try:
            with spooled.open() as handle:
                described = pom.parse(handle.read(pom.MAX_POM_BYTES + 1))
            _check_pom_agrees(described, maven_path)
        except InvalidPackage as exc:
            logger.info("repository %s: %s cached without its details: %s", repository.name,
                        maven_path.path, exc.message)
            described = None
    return _record(repository, actor, maven_path, spooled, described,
                   action="file.cache", detail={"cached_from": source_url})


def _record(repository, actor, maven_path, spooled, described, action="file.upload", detail=None):
    def record_pom(_package, version, _file):
        if described is not None:
            PackageVersion.objects.filter(pk=version.pk).update(metadata=described.as_metadata())

    return ingest.store(
        repository,
        actor,
        ingest.NewFile(
            package_name=maven_path.package_name,
            version=maven_path.version,
            path=maven_path.path,
            filename=maven_path.filename,
            spooled=spooled,
            version_metadata=described.as_metadata() if described else {},
            file_metadata={
                "classifier": maven_path.classifier,
                "extension": maven_path.extension,
                "timestamp": maven_path.timestamp,
                "build_number": maven_path.build_number,
            },
            then=record_pom,
            replace=maven_path.is_snapshot,
            conflict=(
                f"Conflict: {maven_path.filename} is a release and releases are immutable; "
                "deploy a new version"
            ),
            action=action,
            detail=detail or {},
        ),
    )


def _check_pom_agrees(described, maven_path):
    for label, in_pom, in_path in (
        ("groupId", described.group_id, maven_path.group_id),
        ("artifactId", described.artifact_id, maven_path.artifact_id),
        ("version", described.version, maven_path.version),
    ):
        if in_pom != in_path:
            raise InvalidPackage(
                f"The POM's {label} {in_pom!r} does not match the path ({in_path!r})."
            )


def verify_checksum(repository, actor, maven_path, body):
    """A checksum the client uploads: checked against the stored file, never stored."""
    access.require(actor, repository, Role.WRITE)
    if maven_path.kind == "metadata":
        return  # the served metadata is rebuilt by the server; the client's copy is not kept
    stored = files.find(repository, maven_path.path)
    if stored is None:
        raise InvalidPackage(
            f"No {maven_path.filename} in this repository to check a {maven_path.checksum} against; "
            "upload the file before its checksum."
        )
    claimed = _checksum_value(body, maven_path.checksum)
    ours = getattr(stored.blob, maven_path.checksum)
    if not hmac.compare_digest(claimed, ours):
        raise InvalidPackage(
            f"Checksum mismatch: the {maven_path.checksum} of {maven_path.filename} is {ours}, "
            f"not {claimed}."
        )


def _checksum_value(body, algorithm):
    lengths = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
    text = body[: MAX_CHECKSUM_BYTES].decode("ascii", "replace").strip()
    value = text.split()[0].lower() if text else ""
    if len(value) != lengths[algorithm] or any(c not in "0123456789abcdef" for c in value):
        raise InvalidPackage(f"Invalid {algorithm} checksum file: expected {lengths[algorithm]} hex digits.")
    return value


def accept_metadata(repository, actor, maven_path, body):
    """An uploaded maven-metadata.xml: must be well-formed XML, then is dropped (the served one
    is rebuilt from what is stored)."""
    access.require(actor, repository, Role.WRITE)
    if maven_path.version:
        check_policy(repository, maven_path)
    pom.parse_xml(body, "maven-metadata.xml", "metadata")


def prune_all_snapshots():
    """prune_snapshots in every Maven repository that keeps a number of builds: {name: files
    deleted} (a setting lowered since the last deploy takes effect here)."""
    done = {}
    for repository in Repository.objects.filter(format="maven").order_by("name"):
        if (repository.settings or {}).get("snapshot_keep"):
            done[repository.name] = prune_snapshots(repository)
    return done


def prune_snapshots(repository, actor=None):
    """Keep the newest `snapshot_keep` builds of each SNAPSHOT version; returns files deleted."""
    keep = (repository.settings or {}).get("snapshot_keep")
    if not keep:
        return 0
    doomed = []
    snapshots = PackageVersion.objects.filter(package__repository=repository,
                                              version__endswith="-SNAPSHOT")
    for version in snapshots:
        files = list(version.files.select_related("version__package__repository"))
        builds = sorted({(f.metadata.get("timestamp", ""), f.metadata.get("build_number", 0))
                         for f in files if f.metadata.get("timestamp")})
        old = set(builds[:-keep])
        doomed += [f for f in files
                   if (f.metadata.get("timestamp", ""), f.metadata.get("build_number", 0)) in old]
    with transaction.atomic():
        versions.delete_files(actor, doomed, reason=f"snapshot_keep={keep}")
    return len(doomed)

