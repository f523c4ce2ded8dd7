"""What the package page shows of a Debian package version, from the control fields stored
with each file (parser.DebPackage.fields); takes lists, so it is tested without a database."""

import shlex

from registry.plugins import VersionDetails

# The relationship fields of Debian Policy 7, in the order `apt show` prints them.
RELATIONSHIP_FIELDS = ("Pre-Depends", "Depends", "Recommends", "Suggests", "Enhances", "Breaks",
                       "Conflicts", "Provides", "Replaces")


def install_command(name, version):
    # Quoted for the shell: a version may hold "~", which some shells expand.
    return f"sudo apt-get install {shlex.quote(f'{name}={version}')}"


def field(fields, name):
    """A control field's value ("" when absent); field names are case-insensitive."""
    return next((value for key, value in fields if key.lower() == name.lower()), "")


def split_description(value):
    """(synopsis, extended description) of a Description field (Debian Policy 5.6.13): each
    continuation line starts with a space, and " ." stands for an empty line."""
    synopsis, _, rest = value.partition("\n")
    lines = []
    for line in rest.split("\n") if rest else []:
        line = line[1:]  # the one space (or tab) that marks a continuation line
        lines.append("" if line.rstrip() == "." else line)
    return synopsis.strip(), "\n".join(lines)


def relationships(fields):
    """[(field, relation)], one per comma-separated relation; alternatives ("a | b") stay
    together, and a relation continued over lines becomes one line."""
    found = []
    for kind in RELATIONSHIP_FIELDS:
        found += [(kind, " ".join(relation.split()))
                  for relation in field(fields, kind).split(",") if relation.strip()]
    return found


def version_details(fields):
    summary, readme = split_description(field(fields, "Description"))
    return VersionDetails(summary=summary, readme=readme, readme_format="text",
                          dependencies=relationships(fields))
