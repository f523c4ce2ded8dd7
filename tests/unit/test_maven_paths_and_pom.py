"""Maven layout paths and POMs: what the path says is checked, and POMs are read safely."""

import pytest

from formats.maven import paths, pom
from registry.errors import InvalidPackage

POM = b"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>2.0</version></parent>
  <artifactId>lib</artifactId>
  <packaging>jar</packaging>
  <name>Acme Lib</name>
  <description>Does things.</description>
  <properties><guava.version>33.0</guava.version></properties>
  <licenses><license><name>Apache-2.0</name></license></licenses>
  <dependencies>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId>
      <version>${guava.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13</version>
      <scope>test</scope></dependency>
  </dependencies>
</project>
"""


@pytest.mark.parametrize("path, expected", [
    ("com/acme/lib/1.0/lib-1.0.jar",
     dict(kind="file", group_id="com.acme", artifact_id="lib", version="1.0", classifier="", extension="jar")),
    ("com/acme/lib/1.0/lib-1.0-sources.jar",
     dict(kind="file", classifier="sources", extension="jar")),
    ("com/acme/lib/1.0/lib-1.0.tar.gz", dict(extension="tar.gz")),
    ("com/acme/lib/1.0/lib-1.0.jar.asc", dict(extension="jar.asc")),
    ("com/acme/lib/1.0/lib-1.0.module", dict(extension="module")),
    ("com/acme/lib/1.0/lib-1.0.jar.sha256", dict(checksum="sha256", path="com/acme/lib/1.0/lib-1.0.jar")),
    ("com/acme/lib/1.1-SNAPSHOT/lib-1.1-20261125.040932-3.jar",
     dict(version="1.1-SNAPSHOT", timestamp="20261125.040932", build_number=3, extension="jar")),
    ("com/acme/lib/1.1-SNAPSHOT/lib-1.1-20261125.040932-12-tests.jar",
     dict(timestamp="20261125.040932", build_number=12, classifier="tests")),
    ("com/acme/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.pom", dict(timestamp="", extension="pom")),
    ("com/acme/lib/maven-metadata.xml",
     dict(kind="metadata", group_id="com.acme", artifact_id="lib", version="")),
    ("com/acme/lib/1.1-SNAPSHOT/maven-metadata.xml.sha1",
     dict(kind="metadata", artifact_id="lib", version="1.1-SNAPSHOT", checksum="sha1")),
    ("org/lib-a/lib-a/1.0-rc-1/lib-a-1.0-rc-1.jar", dict(artifact_id="lib-a", version="1.0-rc-1", classifier="")),
])
def test_paths(path, expected):
    parsed = paths.parse(path)
    for field, value in expected.items():
        assert getattr(parsed, field) == value, field


def test_file_version_of_a_build():
    parsed = paths.parse("com/acme/lib/1.1-SNAPSHOT/lib-1.1-20261125.040932-3.jar")
    assert parsed.file_version == "1.1-20261125.040932-3"
    assert parsed.package_name == "com.acme:lib"
    assert parsed.is_snapshot


@pytest.mark.parametrize("path, message", [
    ("com/acme/../lib/1.0/lib-1.0.jar", "'..'"),
    ("com/acme/lib/1.0/./lib-1.0.jar", "'.'"),
    ("com//lib/1.0/lib-1.0.jar", "empty"),
    ("com/acme/lib/1.0/lib 1.0.jar", "characters"),
    ("com/acme/lib/1.0/lib-1.0.jar\x00", "characters"),
    ("lib/1.0/lib-1.0.jar", "groupId/artifactId/version/file"),
    ("com/acme/lib/1.0/other-1.0.jar", "are named lib-1.0"),
    ("com/acme/lib/1.0/lib-1.1.jar", "not of version 1.0"),
    ("com/acme/lib/1.0/lib-1.0", "not of version 1.0"),
    ("com/acme/lib/1.0/lib-1.0-sources", "needs an extension"),
    ("com/acme/lib/1.1-SNAPSHOT/lib-1.2-20261125.040932-3.jar", "not of version 1.1-SNAPSHOT"),
    ("com/acme/lib/1.1-SNAPSHOT/lib-1.1-2026.jar", "not of version 1.1-SNAPSHOT"),
    ("maven-metadata.xml", "metadata lives under"),
])
def test_bad_paths(path, message):
    with pytest.raises(InvalidPackage, match=message):
        paths.parse(path)


def test_pom_fields_with_parent_and_properties():
    described = pom.parse(POM)
    assert (described.group_id, described.artifact_id, described.version) == ("com.acme", "lib", "2.0")
    assert described.name == "Acme Lib" and described.description == "Does things."
    assert described.licenses == ["Apache-2.0"]
    assert described.dependencies == [
        {"groupId": "com.google.guava", "artifactId": "guava", "version": "33.0"},
        {"groupId": "junit", "artifactId": "junit", "version": "4.13", "scope": "test"},
    ]
    assert described.packaging == "jar"


def test_pom_without_namespace():
    described = pom.parse(b"<project><groupId>g</groupId><artifactId>a</artifactId>"
                          b"<version>1</version><packaging>pom</packaging></project>")
    assert (described.group_id, described.packaging) == ("g", "pom")


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<project><groupId>g</groupId><artifactId>a</artifactId><version>&lol3;</version></project>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><name>&secret;</name></project>
"""


@pytest.mark.parametrize("raw, message", [
    (BOMB, "DTDs, entities and external references are not accepted"),
    (EXTERNAL, "DTDs, entities and external references are not accepted"),
    (b"this is not xml", "not well-formed XML"),
    (b"<project><groupId>g</groupId>", "not well-formed XML"),
    (b'<?xml version="1.0" encoding="TTF-8"?><project/>', "unknown encoding: TTF-8"),  # found by fuzzing
    (b"<settings/>", "not <project>"),
    (b"<project><groupId>g</groupId><version>1</version></project>", "no artifactId"),
    (b"<project><groupId>g</groupId><artifactId>a</artifactId><version>${revision}</version></project>",
     "unresolved property"),
])
def test_bad_poms(raw, message):
    with pytest.raises(InvalidPackage, match=message):
        pom.parse(raw)


def test_self_referencing_properties_stop():
    raw = (b"<project><properties><a>${a}${a}</a></properties><groupId>g</groupId>"
           b"<artifactId>a</artifactId><version>1</version><name>${a}</name></project>")
    assert "${a}" in pom.parse(raw).name
