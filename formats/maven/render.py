"""maven-metadata.xml and directory listings, built from stored rows (plain Python)."""

import html
from dataclasses import dataclass
from datetime import timezone
from xml.sax.saxutils import escape

from . import version as maven_version


def stamp(moment):
    """Maven's lastUpdated form: yyyyMMddHHmmss in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def artifact_metadata(group_id, artifact_id, versions, updated):
    """Artifact-level metadata: `versions` in any order, sorted here in Maven order."""
    ordered = sorted(set(versions), key=maven_version.key)
    releases = [v for v in ordered if not maven_version.is_snapshot(v)]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<metadata>",
        f"  <groupId>{escape(group_id)}</groupId>",
        f"  <artifactId>{escape(artifact_id)}</artifactId>",
        "  <versioning>",
    ]
    if ordered:
        lines.append(f"    <latest>{escape(ordered[-1])}</latest>")
    if releases:
        lines.append(f"    <release>{escape(releases[-1])}</release>")
    lines.append("    <versions>")
    lines += [f"      <version>{escape(v)}</version>" for v in ordered]
    lines += ["    </versions>", f"    <lastUpdated>{stamp(updated)}</lastUpdated>",
              "  </versioning>", "</metadata>", ""]
    return "\n".join(lines).encode()


@dataclass
class BuildFile:
    classifier: str
    extension: str
    timestamp: str  # "" for a file named with -SNAPSHOT itself
    build_number: int
    created: object  # datetime


def snapshot_metadata(group_id, artifact_id, version, files, updated):
    """Version-level metadata of a SNAPSHOT: its latest build and, per classifier and extension,
    the file of the latest build that has one."""
    base = version.removesuffix("SNAPSHOT")
    builds = sorted((f for f in files if f.timestamp), key=lambda f: (f.timestamp, f.build_number))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<metadata modelVersion="1.1.0">',
        f"  <groupId>{escape(group_id)}</groupId>",
        f"  <artifactId>{escape(artifact_id)}</artifactId>",
        f"  <version>{escape(version)}</version>",
        "  <versioning>",
    ]
    if builds:
        latest = builds[-1]
        lines += ["    <snapshot>", f"      <timestamp>{latest.timestamp}</timestamp>",
                  f"      <buildNumber>{latest.build_number}</buildNumber>", "    </snapshot>"]
    lines.append(f"    <lastUpdated>{stamp(updated)}</lastUpdated>")
    newest = {}
    for f in sorted(files, key=lambda f: (f.timestamp, f.build_number, f.created)):
        newest[(f.classifier, f.extension)] = f
    lines.append("    <snapshotVersions>")
    for (classifier, extension), f in sorted(newest.items()):
        value = f"{base}{f.timestamp}-{f.build_number}" if f.timestamp else version
        lines.append("      <snapshotVersion>")
        if classifier:
            lines.append(f"        <classifier>{escape(classifier)}</classifier>")
        lines += [f"        <extension>{escape(extension)}</extension>",
                  f"        <value>{escape(value)}</value>",
                  f"        <updated>{stamp(f.created)}</updated>",
                  "      </snapshotVersion>"]
    lines += ["    </snapshotVersions>", "  </versioning>", "</metadata>", ""]
    return "\n".join(lines).encode()


def listing(title, entries):
    """A directory listing like a static Maven repository's: `entries` are (name, is_dir,
    size or None, modified datetime or None)."""
    rows = ['<a href="../">../</a>'] if title.strip("/") else []
    for name, is_dir, size, modified in entries:
        label = name + ("/" if is_dir else "")
        when = modified.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if modified else ""
        size_text = "-" if size is None else str(size)
        link = f'<a href="{html.escape(label, quote=True)}">{html.escape(label)}</a>'
        rows.append(f"{link}{' ' * max(1, 60 - len(label))}{when:>16}  {size_text:>12}")
    body = "\n".join(rows)
    safe_title = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>Index of {safe_title}</title></head>\n<body>\n<h1>Index of {safe_title}</h1>\n"
        f"<hr><pre>{body}\n</pre><hr>\n</body></html>\n"
    ).encode()
