"""What the package page shows of a Python release, from the core metadata the parser kept
(parser._json_metadata); takes dicts, so it is tested without a database."""

import shlex

from registry.plugins import VersionDetails, first_line


def install_command(base_url, name, version):
    # Quoted for the shell: a PEP 440 epoch ("1!2.0") would trip bash's history expansion.
    index = shlex.quote(base_url + "simple/")
    requirement = shlex.quote(f"{name}=={version}")
    return f"pip install --index-url {index} {requirement}"


def readme_format(content_type):
    """Description-Content-Type to how the page shows it. Absent means reStructuredText, shown
    as text: https://packaging.python.org/en/latest/specifications/core-metadata/"""
    mime = (content_type or "").split(";")[0].strip().lower()
    return "markdown" if mime == "text/markdown" else "text"


def version_details(metadata):
    return VersionDetails(
        summary=first_line(metadata.get("summary", "")),
        readme=metadata.get("description", "") or "",
        readme_format=readme_format(metadata.get("description_content_type", "")),
        dependencies=[("requires", requirement) for requirement in metadata.get("requires_dist", [])],
    )
