"""What the package page shows of an RPM version, from its header fields kept at upload
(ingest._version_metadata, ingest._file_metadata); takes dicts, so it is tested without a
database."""

import re
import shlex

from registry.plugins import VersionDetails, first_line

from .parser import DEPENDENCY_KINDS

# The comparison flags of a dependency as createrepo_c records them, in rpm's spelling.
OPERATORS = {"LT": "<", "LE": "<=", "EQ": "=", "GE": ">=", "GT": ">"}
# rpm's %{_isa} suffix: "(x86-64)", "(aarch-64)", "(x86-32)".
ISA_RE = re.compile(r"\([A-Za-z0-9_]+-(32|64)\)")


def install_command(name, evr):
    # dnf takes name-[epoch:]version-release (a NEVRA without the arch).
    return f"sudo dnf install {shlex.quote(f'{name}-{evr}')}"


def spec(dependency):
    """A dependency as `rpm -q --requires` prints it, e.g. hello-lib >= 1:2.0-1: the epoch
    only when there is one, the release only when given."""
    operator = OPERATORS.get(dependency.get("flags", ""))
    if not operator:
        return dependency["name"]
    evr = dependency.get("version", "")
    if dependency.get("epoch") not in ("", "0", None):
        evr = f"{dependency['epoch']}:{evr}"
    if dependency.get("release"):
        evr = f"{evr}-{dependency['release']}"
    return f"{dependency['name']} {operator} {evr}"


def _shown(kind, dependency, file_metadata, name):
    # rpmlib(...) requirements are rpm's own feature checks, not packages to install.
    if kind == "requires" and dependency["name"].startswith("rpmlib("):
        return False
    return not (kind == "provides" and _is_self_provide(dependency, file_metadata, name))


def _is_self_provide(dependency, file_metadata, name):
    """rpmbuild makes every package provide itself, plain and per ISA ("hello = 1.0-1",
    "hello(x86-64) = 1.0-1"): true of every package, so not worth a line."""
    own = (str(file_metadata.get("epoch") or 0), file_metadata.get("version"),
           file_metadata.get("release"))
    theirs = (dependency.get("epoch") or "0", dependency.get("version"), dependency.get("release"))
    named = dependency["name"] == name or (
        dependency["name"].startswith(name) and ISA_RE.fullmatch(dependency["name"][len(name):]))
    return dependency.get("flags") == "EQ" and bool(named) and own == theirs


def dependencies(file_metadata, name):
    """[(kind, spec)] of one file's header; a requirement needed before installing (Requires(pre))
    is the kind "requires(pre)"."""
    found = []
    for kind in DEPENDENCY_KINDS:
        for dependency in file_metadata.get("dependencies", {}).get(kind, []):
            if _shown(kind, dependency, file_metadata, name):
                label = f"{kind}(pre)" if dependency.get("pre") else kind
                found.append((label, spec(dependency)))
    return found


def representative(files_metadata):
    """The file whose header the page shows: the first binary package, else the source one
    (its BuildRequires are what it requires)."""
    binaries = [meta for meta in files_metadata if meta.get("arch") != "src"]
    return (binaries or files_metadata or [{}])[0]


def version_details(version_metadata, files_metadata, name):
    return VersionDetails(
        summary=first_line(version_metadata.get("summary", "")),
        readme=version_metadata.get("description", "") or "",
        readme_format="text",
        dependencies=dependencies(representative(files_metadata), name),
    )
