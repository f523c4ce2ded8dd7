"""What the package page shows of a Maven version, from the POM's metadata (pom.as_metadata)
and its files' classifier and extension; takes dicts, so it is tested without a database."""

import inspect
from xml.sax.saxutils import escape

from registry.plugins import VersionDetails, first_line

# Files beside the artifact that describe it rather than being it (POM, Gradle module metadata),
# and signature suffixes ("lib-1.0.jar.asc" has the extension "jar.asc").
DESCRIPTORS = ("pom", "module")
SIGNATURES = (".asc", ".sig")


def artifact_type(files):
    """The dependency <type> of a version whose files are [(classifier, extension)]: the
    extension of its main artifact, or "pom" when the POM is all it has (a parent or BOM)."""
    main = sorted({extension for classifier, extension in files
                   if not classifier and extension not in DESCRIPTORS
                   and not extension.endswith(SIGNATURES)})
    if "jar" in main:
        return "jar"
    if main:
        return main[0]
    return "pom" if ("", "pom") in files else "jar"


def dependency_block(group_id, artifact_id, version, type_="jar"):
    """The <dependency> a pom.xml declares; <type> only when it is not Maven's default jar."""
    lines = ["<dependency>",
             f"  <groupId>{escape(group_id)}</groupId>",
             f"  <artifactId>{escape(artifact_id)}</artifactId>",
             f"  <version>{escape(version)}</version>"]
    if type_ != "jar":
        lines.append(f"  <type>{escape(type_)}</type>")
    return "\n".join(lines + ["</dependency>"])


def coordinates(dependency):
    """groupId:artifactId[:type[:classifier]]:version, as Maven Resolver spells an artifact;
    a version the POM leaves to dependencyManagement is left out."""
    type_ = dependency.get("type", "")
    classifier = dependency.get("classifier", "")
    parts = [dependency.get("groupId", ""), dependency.get("artifactId", "")]
    if classifier:
        parts += [type_ or "jar", classifier]
    elif type_ and type_ != "jar":
        parts.append(type_)
    if dependency.get("version"):
        parts.append(dependency["version"])
    spec = ":".join(parts)
    return spec + " (optional)" if dependency.get("optional") == "true" else spec


def dependencies(pom_metadata):
    """[(scope, coordinates)]; no scope is Maven's default, compile."""
    return [(dependency.get("scope") or "compile", coordinates(dependency))
            for dependency in pom_metadata.get("dependencies", [])]


def version_details(pom_metadata):
    # POM descriptions are indented like the XML around them; cleandoc takes that indent off.
    description = inspect.cleandoc(pom_metadata.get("description", "") or "")
    return VersionDetails(
        summary=first_line(description) or pom_metadata.get("name", ""),
        readme=description,
        readme_format="text",
        dependencies=dependencies(pom_metadata),
    )
