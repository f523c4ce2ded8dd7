"""The import rules of DESIGN.md and STYLE.md, held by walking the AST of the tree."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORMATS = sorted(p.name for p in (ROOT / "formats").iterdir()
                 if (p / "apps.py").exists() or (p / "parser.py").exists())
# What a parser or renderer may use besides the standard library: the ecosystem's libraries,
# the registry's plain-Python error family and bounded JSON parsing, and the bounded readers of
# archives (formats/archives.py, itself held to the same rule).
PARSER_ALLOWED = {"packaging", "semver", "defusedxml", "debian", "createrepo_c",
                  "registry.errors", "registry.bounded_json", "formats.archives"}
# The decompressors formats/archives.py uses besides the standard library's (zstd: Debian's).
ARCHIVES_ALLOWED = PARSER_ALLOWED | {"zstandard"}


def imports(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def python_files(folder):
    return sorted((ROOT / folder).rglob("*.py"))


def test_formats_are_found():
    assert "pypi" in FORMATS


@pytest.mark.parametrize("fmt", FORMATS)
def test_parser_and_renderer_are_plain_python(fmt):
    import sys

    stdlib = sys.stdlib_module_names
    for name in ("parser.py", "render.py", "negotiate.py", "publish_body.py", "paths.py", "pom.py",
                 "version.py", "upstream_index.py"):
        path = ROOT / "formats" / fmt / name
        if not path.exists():
            continue
        for module in imports(path):
            top = module.split(".")[0]
            assert top in stdlib or module in PARSER_ALLOWED or top in PARSER_ALLOWED, (
                f"{path.relative_to(ROOT)} imports {module}")


def test_the_bounded_archive_readers_are_plain_python():
    import sys

    path = ROOT / "formats" / "archives.py"
    for module in imports(path):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or module in ARCHIVES_ALLOWED or top in ARCHIVES_ALLOWED, (
            f"{path.relative_to(ROOT)} imports {module}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_format_never_imports_another(fmt):
    others = {f"formats.{other}" for other in FORMATS if other != fmt}
    for path in python_files(f"formats/{fmt}"):
        for module in imports(path):
            assert not any(module == o or module.startswith(o + ".") for o in others), (
                f"{path.relative_to(ROOT)} imports {module}")


def test_registry_reaches_formats_only_through_the_plugin_registry():
    for path in python_files("registry"):
        for module in imports(path):
            assert not module.startswith("formats"), f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("package", ["storage", "signing"])
def test_storage_and_signing_stand_alone(package):
    for path in python_files(package):
        for module in imports(path):
            assert not module.startswith(("registry", "formats")), (
                f"{path.relative_to(ROOT)} imports {module}")
