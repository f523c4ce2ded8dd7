"""What the package page asks of each format: the install command of a version and its details
(summary, readme, dependencies), read back from real packages uploaded through each format's
own HTTP path."""

import json

import pytest

from registry import plugins
from registry.models import PackageVersion, Repository, RepositoryRole, Role
from registry.plugins import VersionDetails
from tests.fixtures.debs import build_deb
from tests.fixtures.dists import build_sdist, build_wheel
from tests.fixtures.npm_packages import npm_pack, publish_document
from tests.fixtures.rpms import build_rpm

from .pypi_helpers import upload

pytestmark = pytest.mark.django_db


def repository_for(fmt, name, personas):
    repository = Repository.objects.create(name=name, format=fmt, visibility="private")
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    return repository


def base_url(repository):
    return f"http://testserver/repository/{repository.name}/"


def version_of(repository, name, version):
    return PackageVersion.objects.select_related("package").get(
        package__repository=repository, package__name=name, version=version)


def shown(repository, name, version):
    """(install command, details) as the package page gets them: through the plugin."""
    row = version_of(repository, name, version)
    plugin = plugins.get(repository.format)
    return plugin.install_command(base_url(repository), row.package, row), plugin.version_details(row)


def put(client, repository, path, data, persona, content_type="application/octet-stream"):
    response = client.put(f"/repository/{repository.name}/{path}", data, content_type=content_type,
                          **persona.auth)
    assert response.status_code in (200, 201), response.content
    return response


# --- PyPI ---------------------------------------------------------------------------------------

MARKDOWN_METADATA = b"""Metadata-Version: 2.1
Name: Alpha_Lib
Version: 1.0
Summary: Alpha does things
Description-Content-Type: text/markdown; charset=UTF-8
Requires-Dist: requests>=2
Requires-Dist: tomli; python_version < "3.11"

# Alpha

Does **things**.
"""


def test_pypi_wheel_with_a_markdown_readme(client, personas, tmp_path):
    repository = repository_for("pypi", "team-py", personas)
    wheel = build_wheel(tmp_path, "Alpha_Lib", "1.0", metadata=MARKDOWN_METADATA)
    assert upload(client, "team-py", wheel, personas["writer"]).status_code == 200

    command, details = shown(repository, "Alpha_Lib", "1.0")

    assert command == ("pip install --index-url http://testserver/repository/team-py/simple/ "
                       "Alpha_Lib==1.0")
    assert details == VersionDetails(
        summary="Alpha does things",
        readme="# Alpha\n\nDoes **things**.\n",
        readme_format="markdown",
        dependencies=[("requires", "requests>=2"), ("requires", 'tomli; python_version < "3.11"')],
    )


def test_pypi_sdist_without_a_content_type_is_text(client, personas, tmp_path):
    repository = repository_for("pypi", "team-py", personas)
    sdist = build_sdist(tmp_path, "beta", "2.0rc1", requires_dist=["alpha-lib>=1.0"])
    assert upload(client, "team-py", sdist, personas["writer"]).status_code == 200

    command, details = shown(repository, "beta", "2.0rc1")

    assert command == "pip install --index-url http://testserver/repository/team-py/simple/ beta==2.0rc1"
    # No Description-Content-Type means reStructuredText, which the page shows as written.
    assert details == VersionDetails(summary="A test package", readme="Long description of beta.\n",
                                     readme_format="text", dependencies=[("requires", "alpha-lib>=1.0")])


# --- npm ----------------------------------------------------------------------------------------


def test_npm_version_with_every_kind_of_dependency(client, personas, tmp_path):
    repository = repository_for("npm", "team-npm", personas)
    tarball = npm_pack(
        tmp_path, "@acme/util", "1.2.0", description="Small helpers\nfor Acme",
        dependencies={"lodash": "^4.17.0", "chalk": "5.3.0"},
        readme="# Util\n\nUse `util()`.\n",
        extra={"peerDependencies": {"react": ">=18"},
               "optionalDependencies": {"fsevents": "^2.3.0"},
               "devDependencies": {"jest": "^29.0.0"}})
    document = publish_document(tarball, registry=base_url(repository))
    response = client.put("/repository/team-npm/@acme/util", json.dumps(document),
                          content_type="application/json", **personas["writer"].auth)
    assert response.status_code == 201, response.content

    command, details = shown(repository, "@acme/util", "1.2.0")

    assert command == "npm install @acme/util@1.2.0 --registry http://testserver/repository/team-npm/"
    assert details == VersionDetails(
        summary="Small helpers",
        readme="# Util\n\nUse `util()`.\n",
        readme_format="markdown",
        # devDependencies are the author's: installing the package does not fetch them.
        dependencies=[("dependencies", "chalk 5.3.0"), ("dependencies", "lodash ^4.17.0"),
                      ("peerDependencies", "react >=18"),
                      ("optionalDependencies", "fsevents ^2.3.0")],
    )


# --- Maven --------------------------------------------------------------------------------------

LIB_POM = b"""<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>lib</artifactId>
  <version>1.0</version>
  <name>Acme Lib</name>
  <description>
    Acme's library of helpers.
    Second line of the description.
  </description>
  <properties><slf4j.version>2.0.9</slf4j.version></properties>
  <dependencies>
    <dependency>
      <groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>${slf4j.version}</version>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
      <version>5.10.0</version><scope>test</scope>
    </dependency>
    <dependency>
      <groupId>com.acme</groupId><artifactId>native</artifactId><version>1.0</version>
      <classifier>linux-x86_64</classifier><optional>true</optional>
    </dependency>
  </dependencies>
</project>
"""

BOM_POM = b"""<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>bom</artifactId>
  <version>3.1</version>
  <packaging>pom</packaging>
  <name>Acme BOM</name>
</project>
"""


def test_maven_jar_with_dependencies(client, personas):
    repository = repository_for("maven", "team-mvn", personas)
    writer = personas["writer"]
    put(client, repository, "com/acme/lib/1.0/lib-1.0.jar", b"PK\x03\x04 a jar", writer)
    put(client, repository, "com/acme/lib/1.0/lib-1.0.pom", LIB_POM, writer)
    put(client, repository, "com/acme/lib/1.0/lib-1.0-sources.jar", b"PK\x03\x04 sources", writer)

    command, details = shown(repository, "com.acme:lib", "1.0")

    assert command == ("<dependency>\n"
                       "  <groupId>com.acme</groupId>\n"
                       "  <artifactId>lib</artifactId>\n"
                       "  <version>1.0</version>\n"
                       "</dependency>")
    assert details == VersionDetails(
        summary="Acme's library of helpers.",
        readme="Acme's library of helpers.\nSecond line of the description.",
        readme_format="text",
        dependencies=[("compile", "org.slf4j:slf4j-api:2.0.9"),
                      ("test", "org.junit.jupiter:junit-jupiter:5.10.0"),
                      ("compile", "com.acme:native:jar:linux-x86_64:1.0 (optional)")],
    )
    # The stored one-line summary lists and search use comes from the POM, though the jar came first.
    assert version_of(repository, "com.acme:lib", "1.0").summary == "Acme's library of helpers."


def test_maven_pom_only_version_is_a_pom_dependency(client, personas):
    repository = repository_for("maven", "team-mvn", personas)
    put(client, repository, "com/acme/bom/3.1/bom-3.1.pom", BOM_POM, personas["writer"])

    command, details = shown(repository, "com.acme:bom", "3.1")

    assert command == ("<dependency>\n"
                       "  <groupId>com.acme</groupId>\n"
                       "  <artifactId>bom</artifactId>\n"
                       "  <version>3.1</version>\n"
                       "  <type>pom</type>\n"
                       "</dependency>")
    # No description: the POM's name is the one line there is.
    assert details == VersionDetails(summary="Acme BOM", readme="", readme_format="text",
                                     dependencies=[])


# --- APT ----------------------------------------------------------------------------------------


def test_deb_control_fields(client, personas, tmp_path):
    repository = repository_for("deb", "team-deb", personas)
    deb = build_deb(
        tmp_path, "hello-tool", "1:2.10-3", "amd64",
        depends="libc6 (>= 2.36), hello-data (= 1:2.10-3) | hello-data-lite",
        extra=["Pre-Depends: dpkg (>= 1.19)", "Recommends: ca-certificates",
               "Suggests: hello-doc", "Conflicts: hello-old", "Breaks: hello-plugin (<< 2)",
               "Provides: hello", "Replaces: hello-old"],
        description=("Say hello from the command line\n"
                     " hello-tool greets whoever runs it.\n"
                     " .\n"
                     " Usage:\n"
                     "   hello-tool --name you"))
    put(client, repository, deb.name, deb.read_bytes(), personas["writer"],
        content_type="application/vnd.debian.binary-package")

    command, details = shown(repository, "hello-tool", "1:2.10-3")

    assert command == "sudo apt-get install hello-tool=1:2.10-3"
    assert details == VersionDetails(
        summary="Say hello from the command line",
        readme="hello-tool greets whoever runs it.\n\nUsage:\n  hello-tool --name you",
        readme_format="text",
        dependencies=[("Pre-Depends", "dpkg (>= 1.19)"),
                      ("Depends", "libc6 (>= 2.36)"),
                      ("Depends", "hello-data (= 1:2.10-3) | hello-data-lite"),
                      ("Recommends", "ca-certificates"), ("Suggests", "hello-doc"),
                      ("Breaks", "hello-plugin (<< 2)"), ("Conflicts", "hello-old"),
                      ("Provides", "hello"), ("Replaces", "hello-old")],
    )


# --- RPM ----------------------------------------------------------------------------------------


def test_rpm_header_of_the_binary_package(client, personas, tmp_path):
    repository = repository_for("rpm", "team-rpm", personas)
    options = dict(epoch=1, summary="Say hello", description="hello-tool greets.\nTwice.",
                   requires=["hello-lib >= 1:2.0-1", "bash"], requires_pre=["shadow-utils"],
                   provides=["hello-api = 2"], conflicts=["hello-old < 1.0"])
    # The source package first: the page still shows the binary package's header.
    source = build_rpm(tmp_path, "hello-tool", "2.0", "1", source=True, **options)
    binary = build_rpm(tmp_path, "hello-tool", "2.0", "1", "x86_64", **options)
    for rpm in (source, binary):
        put(client, repository, rpm.name, rpm.read_bytes(), personas["writer"],
            content_type="application/x-rpm")

    command, details = shown(repository, "hello-tool", "1:2.0-1")

    assert command == "sudo dnf install hello-tool-1:2.0-1"
    # The package's own provides ("hello-tool = 1:2.0-1", "hello-tool(x86-64) = 1:2.0-1") are left out.
    assert details == VersionDetails(
        summary="Say hello",
        readme="hello-tool greets.\nTwice.",
        readme_format="text",
        dependencies=[("provides", "hello-api = 2"),
                      ("requires", "bash"), ("requires", "hello-lib >= 1:2.0-1"),
                      ("requires(pre)", "shadow-utils"),
                      ("conflicts", "hello-old < 1.0")],
    )
