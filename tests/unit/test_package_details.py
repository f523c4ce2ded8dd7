"""The formats' details modules on the dicts their ingest stores: the edge cases the
integration story does not reach."""

from types import SimpleNamespace

import pytest

from formats.deb import details as deb
from formats.maven import details as maven
from formats.npm import details as npm
from formats.pypi import details as pypi
from formats.rpm import details as rpm
from registry.plugins import FormatPlugin, VersionDetails


def test_version_details_refuses_an_unknown_readme_format():
    with pytest.raises(ValueError, match="readme_format"):
        VersionDetails(readme_format="html")


def test_the_default_hooks():
    version = SimpleNamespace(metadata={"summary": "\n  First line\nsecond", "description": "Long."})
    assert FormatPlugin().install_command("http://h/repository/r/", None, version) == ""
    assert FormatPlugin().version_details(version) == VersionDetails(
        summary="First line", readme="Long.", readme_format="text", dependencies=[])
    assert FormatPlugin().version_details(SimpleNamespace(metadata={})) == VersionDetails()


# --- PyPI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type, expected", [
    ("text/markdown", "markdown"),
    ("Text/Markdown; charset=UTF-8; variant=GFM", "markdown"),
    ("text/x-rst", "text"),
    ("text/plain", "text"),
    ("", "text"),
])
def test_pypi_readme_format(content_type, expected):
    assert pypi.readme_format(content_type) == expected


def test_pypi_install_command_quotes_an_epoch_for_the_shell():
    assert pypi.install_command("http://h/repository/r/", "alpha", "1!2.0") == (
        "pip install --index-url http://h/repository/r/simple/ 'alpha==1!2.0'")


# --- npm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename, expected", [
    ("README.md", "markdown"), ("readme.MARKDOWN", "markdown"), ("", "markdown"),
    ("README.txt", "text"), ("README.rst", "text"),
])
def test_npm_readme_format(filename, expected):
    assert npm.readme_format(filename) == expected


def test_npm_ignores_malformed_manifest_fields():
    manifest = {"description": ["not", "text"], "dependencies": "lodash",
                "peerDependencies": {"react": ">=18", "broken": 3}}
    assert npm.version_details(manifest, {"readme": {"not": "text"}}) == VersionDetails(
        summary="", readme="", readme_format="markdown",
        dependencies=[("peerDependencies", "react >=18")])


def test_npm_install_command_for_an_unscoped_package():
    assert npm.install_command("http://h/repository/r/", "left-pad", "1.3.0") == (
        "npm install left-pad@1.3.0 --registry http://h/repository/r/")


# --- Maven --------------------------------------------------------------------------------------


@pytest.mark.parametrize("files, expected", [
    ([("", "pom"), ("", "jar"), ("sources", "jar"), ("", "jar.asc")], "jar"),
    ([("", "pom"), ("", "war"), ("", "module")], "war"),
    ([("", "pom"), ("", "pom.asc")], "pom"),
    # Gradle uploads the jar before the POM: a jar alone is a jar.
    ([("", "jar")], "jar"),
])
def test_maven_artifact_type(files, expected):
    assert maven.artifact_type(files) == expected


@pytest.mark.parametrize("dependency, expected", [
    ({"groupId": "g", "artifactId": "a", "version": "1"}, "g:a:1"),
    ({"groupId": "g", "artifactId": "a"}, "g:a"),
    ({"groupId": "g", "artifactId": "a", "version": "1", "type": "war"}, "g:a:war:1"),
    ({"groupId": "g", "artifactId": "a", "version": "1", "classifier": "tests"}, "g:a:jar:tests:1"),
    ({"groupId": "g", "artifactId": "a", "version": "1", "optional": "false"}, "g:a:1"),
])
def test_maven_coordinates(dependency, expected):
    assert maven.coordinates(dependency) == expected


def test_maven_dependency_scopes_default_to_compile():
    metadata = {"dependencies": [{"groupId": "g", "artifactId": "a", "version": "1"},
                                 {"groupId": "g", "artifactId": "b", "version": "2",
                                  "scope": "provided"}]}
    assert maven.dependencies(metadata) == [("compile", "g:a:1"), ("provided", "g:b:2")]


# --- APT ----------------------------------------------------------------------------------------


def test_deb_description_without_an_extended_part():
    assert deb.split_description("just a synopsis ") == ("just a synopsis", "")


def test_deb_description_keeps_verbatim_lines_and_tab_continuations():
    assert deb.split_description("synopsis\n para\n .\n  code  here\n\ttabbed") == (
        "synopsis", "para\n\n code  here\ntabbed")


def test_deb_relationships_over_several_lines_and_any_case():
    fields = [["depends", "libc6 (>= 2.36),\n libfoo1 |\n  libfoo2,"], ["Package", "x"]]
    assert deb.relationships(fields) == [("Depends", "libc6 (>= 2.36)"),
                                         ("Depends", "libfoo1 | libfoo2")]


def test_deb_install_command_quotes_a_tilde():
    assert deb.install_command("hello", "1.0~rc1-1") == "sudo apt-get install 'hello=1.0~rc1-1'"


# --- RPM ----------------------------------------------------------------------------------------


def dependency(name, flags="", epoch="", version="", release="", pre=False):
    return {"name": name, "flags": flags, "epoch": epoch, "version": version, "release": release,
            "pre": pre}


@pytest.mark.parametrize("entry, expected", [
    (dependency("bash"), "bash"),
    (dependency("lib", "GE", "1", "2.0", "1"), "lib >= 1:2.0-1"),
    (dependency("lib", "LT", "0", "3"), "lib < 3"),
    (dependency("lib", "EQ", "", "1.0", "2"), "lib = 1.0-2"),
    (dependency("lib", "GT", "2", "1"), "lib > 2:1"),
    (dependency("lib", "LE", "", "4"), "lib <= 4"),
])
def test_rpm_spec(entry, expected):
    assert rpm.spec(entry) == expected


def test_rpm_leaves_out_rpmlib_and_self_provides_only():
    header = {"arch": "aarch64", "epoch": 0, "version": "1.0", "release": "1", "dependencies": {
        "provides": [dependency("hello", "EQ", "0", "1.0", "1"),
                     dependency("hello(aarch-64)", "EQ", "0", "1.0", "1"),
                     dependency("hello", "EQ", "0", "0.9", "1"),
                     dependency("hello(api)")],
        "requires": [dependency("rpmlib(PayloadIsZstd)", "LE", "0", "5.4.18", "1"),
                     dependency("/bin/sh", pre=True)],
    }}
    assert rpm.dependencies(header, "hello") == [
        ("provides", "hello = 0.9-1"), ("provides", "hello(api)"), ("requires(pre)", "/bin/sh")]


def test_rpm_shows_the_source_package_when_there_is_no_binary():
    source = {"arch": "src", "dependencies": {"requires": [dependency("gcc")]}}
    assert rpm.representative([source]) is source
    assert rpm.version_details({"summary": "S"}, [], "hello") == VersionDetails(summary="S")
