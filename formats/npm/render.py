"""Packuments: the JSON documents npm reads, built from stored rows (plain Python).

The full document is what `npm view` and publishing tools read; the abbreviated ("corgi") one,
asked for with `Accept: application/vnd.npm.install-v1+json`, is what installers read.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone

ABBREVIATED_TYPE = "application/vnd.npm.install-v1+json"

# The manifest fields an installer needs (npm's registry documentation of the corgi format).
ABBREVIATED_FIELDS = (
    "name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies",
    "bundleDependencies", "bundledDependencies", "peerDependencies", "peerDependenciesMeta",
    "bin", "directories", "engines", "os", "cpu", "funding", "license", "libc",
    "hasInstallScript", "_hasShrinkwrap", "acceptDependencies",
)
# Taken from the latest version into the top of the full packument, as the npm registry does.
TOP_LEVEL_FIELDS = (
    "description", "homepage", "keywords", "repository", "author", "bugs", "license",
    "contributors",
)


@dataclass
class VersionRow:
    version: str
    manifest: dict
    created: datetime
    deprecated: str
    tarball_url: str
    sha1: str
    sha512: str  # hex, as the blob keeps it
    size: int
    uploader: str
    uploader_email: str = ""


def iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def integrity(sha512_hex):
    """The Subresource Integrity string npm records for a tarball: sha512-<base64>."""
    return "sha512-" + base64.b64encode(bytes.fromhex(sha512_hex)).decode()


def dist(row):
    return {
        "tarball": row.tarball_url,
        "shasum": row.sha1,
        "integrity": integrity(row.sha512),
        "size": row.size,
    }


def version_document(name, row):
    """One version's manifest as the registry serves it (also `GET /<name>/<version>`)."""
    document = dict(row.manifest)
    document.update({"name": name, "version": row.version, "_id": f"{name}@{row.version}"})
    document["dist"] = dist(row)
    if row.uploader:
        document["_npmUser"] = _person(row)
    if row.deprecated:
        document["deprecated"] = row.deprecated
    else:
        document.pop("deprecated", None)
    return document


def _person(row):
    person = {"name": row.uploader}
    if row.uploader_email:
        person["email"] = row.uploader_email
    return person


def full(name, rev, package_metadata, rows, created, modified):
    """`rows` in version order (oldest first)."""
    tags = package_metadata.get("dist-tags", {})
    versions = {row.version: version_document(name, row) for row in rows}
    document = {"_id": name, "_rev": rev, "name": name, "dist-tags": tags}
    latest = versions.get(tags.get("latest")) or (versions[rows[-1].version] if rows else {})
    for field in TOP_LEVEL_FIELDS:
        if field in latest:
            document[field] = latest[field]
    maintainers = {row.uploader: _person(row) for row in rows if row.uploader}
    document.update({
        "versions": versions,
        "time": {
            "created": iso(created),
            "modified": iso(modified),
            **{row.version: iso(row.created) for row in rows},
        },
        "maintainers": [maintainers[name] for name in sorted(maintainers)],
        "readme": package_metadata.get("readme", ""),
        "readmeFilename": package_metadata.get("readmeFilename", ""),
    })
    return document


def abbreviated(name, package_metadata, rows, modified):
    versions = {}
    for row in rows:
        complete = version_document(name, row)
        versions[row.version] = {
            field: complete[field] for field in ABBREVIATED_FIELDS if field in complete
        }
        versions[row.version]["dist"] = complete["dist"]
    return {
        "name": name,
        "modified": iso(modified),
        "dist-tags": package_metadata.get("dist-tags", {}),
        "versions": versions,
    }


def search_result(objects, total, moment):
    return {"objects": objects, "total": total, "time": moment.strftime("%a %b %d %Y %H:%M:%S GMT+0000")}


def dumps(document):
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
