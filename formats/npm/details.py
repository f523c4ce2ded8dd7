"""What the package page shows of an npm version, from the kept manifest (ingest.publish) and
the package's readme; takes dicts, so it is tested without a database."""

import shlex

from registry.plugins import VersionDetails, first_line

# The manifest fields npm installs from (devDependencies are the author's, not the user's).
DEPENDENCY_FIELDS = ("dependencies", "peerDependencies", "optionalDependencies")
MARKDOWN_SUFFIXES = (".md", ".markdown")


def install_command(base_url, name, version):
    return f"npm install {shlex.quote(f'{name}@{version}')} --registry {shlex.quote(base_url)}"


def readme_format(readme_filename):
    # npm's readmes are Markdown; one the author named README.txt or .rst is shown as written.
    if not readme_filename or readme_filename.lower().endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    return "text"


def dependencies(manifest):
    """[(field, "name range")], each field's names sorted: PostgreSQL's jsonb does not keep
    the manifest's key order, so sorting is what makes the list the same on every database."""
    found = []
    for kind in DEPENDENCY_FIELDS:
        declared = manifest.get(kind)
        if not isinstance(declared, dict):
            continue  # a manifest is what the client sent; a malformed field is not shown
        found += [(kind, f"{name} {spec}".strip()) for name, spec in sorted(declared.items())
                  if isinstance(spec, str)]
    return found


def version_details(manifest, package_metadata):
    """npm keeps one readme per package (the latest publish's), as the npm registry does."""
    return VersionDetails(
        summary=first_line(_text(manifest.get("description"))),
        readme=_text(package_metadata.get("readme")),
        readme_format=readme_format(_text(package_metadata.get("readmeFilename"))),
        dependencies=dependencies(manifest),
    )


def _text(value):
    # Manifest fields are whatever JSON the client sent.
    return value if isinstance(value, str) else ""
