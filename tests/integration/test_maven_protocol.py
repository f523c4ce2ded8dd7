"""The Maven 2 layout over HTTP with the personas: deploy as mvn does (files, checksums,
metadata), resolve, SNAPSHOT builds, policies, listings, and every bad input."""

import hashlib

import pytest

from registry.models import AuditEvent, PackageFile, PackageVersion, Repository, RepositoryRole, Role

pytestmark = pytest.mark.django_db

BASE = "com/acme/lib"


def pom_xml(version, group="com.acme", artifact="lib", extra=""):
    return (f'<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">'
            f"<modelVersion>4.0.0</modelVersion><groupId>{group}</groupId>"
            f"<artifactId>{artifact}</artifactId><version>{version}</version>"
            f"<name>Acme Lib</name>{extra}</project>\n").encode()


@pytest.fixture
def maven_repos(personas):
    repos = {
        "private": Repository.objects.create(name="private-mvn", format="maven", visibility="private"),
        "public": Repository.objects.create(name="public-mvn", format="maven", visibility="public"),
        "releases": Repository.objects.create(name="releases", format="maven", visibility="public",
                                              settings={"version_policy": "release", "snapshot_keep": None}),
        "snapshots": Repository.objects.create(name="snapshots", format="maven", visibility="public",
                                               settings={"version_policy": "snapshot", "snapshot_keep": 2}),
    }
    for persona, role in [("owner", Role.ADMIN), ("writer", Role.WRITE), ("reader", Role.READ)]:
        for repository in repos.values():
            RepositoryRole.objects.create(repository=repository, user=personas[persona].user, role=role)
    return repos


def put(client, repo, path, data, persona=None):
    headers = persona.auth if persona is not None else {}
    return client.put(f"/repository/{repo}/{path}", data, content_type="application/octet-stream", **headers)


def deploy(client, repo, path, data, persona, checksums=("sha1", "md5")):
    """A file and its checksums, in mvn's order."""
    response = put(client, repo, path, data, persona)
    assert response.status_code in (200, 201), response.reason_phrase
    for algorithm in checksums:
        digest = hashlib.new(algorithm, data).hexdigest()
        checked = put(client, repo, f"{path}.{algorithm}", digest.encode(), persona)
        assert checked.status_code == 201, checked.reason_phrase
    return response


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_release_deploy_and_resolve(client, personas, maven_repos):
    writer, reader = personas["writer"], personas["reader"]
    jar = b"PK\x03\x04 a jar"
    deploy(client, "private-mvn", f"{BASE}/1.0/lib-1.0.pom", pom_xml("1.0"), writer)
    deploy(client, "private-mvn", f"{BASE}/1.0/lib-1.0.jar", jar, writer)
    # mvn asks for the artifact metadata before it uploads its own.
    assert client.get(f"/repository/private-mvn/{BASE}/maven-metadata.xml", **writer.auth).status_code == 200
    assert put(client, "private-mvn", f"{BASE}/maven-metadata.xml",
               b"<metadata><groupId>com.acme</groupId></metadata>", writer).status_code == 201
    assert put(client, "private-mvn", f"{BASE}/maven-metadata.xml.sha1", b"0" * 40, writer).status_code == 201

    version = PackageVersion.objects.get(package__name="com.acme:lib")
    assert version.metadata["name"] == "Acme Lib"
    assert PackageFile.objects.count() == 2  # checksums and metadata are not stored

    response = client.get(f"/repository/private-mvn/{BASE}/1.0/lib-1.0.jar", **reader.auth)
    assert response.status_code == 200 and body(response) == jar
    assert response["Content-Type"] == "application/java-archive"
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        checksum = client.get(f"/repository/private-mvn/{BASE}/1.0/lib-1.0.jar.{algorithm}", **reader.auth)
        assert checksum.status_code == 200
        assert checksum.content.decode() == hashlib.new(algorithm, jar).hexdigest()
    head = client.head(f"/repository/private-mvn/{BASE}/1.0/lib-1.0.pom", **reader.auth)
    assert head.status_code == 200 and head["Content-Length"] == str(len(pom_xml("1.0")))
    assert client.get(f"/repository/private-mvn/{BASE}/1.0/lib-1.0-sources.jar", **reader.auth).status_code == 404


def test_artifact_metadata_in_maven_order(client, personas, maven_repos):
    writer = personas["writer"]
    for version in ("1.9", "1.10", "1.0-alpha", "1.0", "2.0-SNAPSHOT", "1.0-rc1"):
        folder = f"{BASE}/{version}"
        name = f"lib-{version}.pom"
        assert put(client, "public-mvn", f"{folder}/{name}", pom_xml(version), writer).status_code == 201
    response = client.get(f"/repository/public-mvn/{BASE}/maven-metadata.xml")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    xml = response.content.decode()
    versions = [line.strip()[len("<version>"):-len("</version>")]
                for line in xml.splitlines() if line.strip().startswith("<version>")]
    assert versions == ["1.0-alpha", "1.0-rc1", "1.0", "1.9", "1.10", "2.0-SNAPSHOT"]
    assert "<latest>2.0-SNAPSHOT</latest>" in xml
    assert "<release>1.10</release>" in xml
    assert "<groupId>com.acme</groupId>" in xml and "<artifactId>lib</artifactId>" in xml
    sha1 = client.get(f"/repository/public-mvn/{BASE}/maven-metadata.xml.sha1").content.decode()
    assert sha1 == hashlib.sha1(response.content).hexdigest()
    assert client.get(f"/repository/public-mvn/{BASE}/maven-metadata.xml",
                      HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_snapshot_builds_and_version_metadata(client, personas, maven_repos):
    writer = personas["writer"]
    folder = f"{BASE}/1.1-SNAPSHOT"
    for stamp, build in (("20261125.040932", 1), ("20261126.101010", 2)):
        value = f"1.1-{stamp}-{build}"
        deploy(client, "public-mvn", f"{folder}/lib-{value}.pom", pom_xml("1.1-SNAPSHOT"), writer)
        deploy(client, "public-mvn", f"{folder}/lib-{value}.jar", f"jar {build}".encode(), writer)
    deploy(client, "public-mvn", f"{folder}/lib-1.1-20261125.040932-1-sources.jar", b"src", writer)

    xml = client.get(f"/repository/public-mvn/{folder}/maven-metadata.xml").content.decode()
    assert "<version>1.1-SNAPSHOT</version>" in xml
    assert "<timestamp>20261126.101010</timestamp>" in xml and "<buildNumber>2</buildNumber>" in xml
    assert "<value>1.1-20261126.101010-2</value>" in xml
    # The sources jar only exists in build 1: its snapshotVersion names build 1.
    assert "<classifier>sources</classifier>" in xml and "<value>1.1-20261125.040932-1</value>" in xml
    assert PackageVersion.objects.filter(version="1.1-SNAPSHOT").count() == 1
    listing = client.get(f"/repository/public-mvn/{folder}/").content.decode()
    assert "lib-1.1-20261126.101010-2.jar" in listing and "maven-metadata.xml" in listing


def test_non_unique_snapshot_is_replaced_but_release_is_immutable(client, personas, maven_repos):
    writer = personas["writer"]
    snapshot = f"{BASE}/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar"
    assert put(client, "public-mvn", snapshot, b"first", writer).status_code == 201
    assert put(client, "public-mvn", snapshot, b"second", writer).status_code == 201
    assert body(client.get(f"/repository/public-mvn/{snapshot}")) == b"second"
    assert AuditEvent.objects.filter(action="file.replace").count() == 1

    release = f"{BASE}/2.0/lib-2.0.jar"
    assert put(client, "public-mvn", release, b"release", writer).status_code == 201
    assert put(client, "public-mvn", release, b"release", writer).status_code == 200  # same bytes
    refused = put(client, "public-mvn", release, b"rebuilt", writer)
    assert refused.status_code == 409
    assert "releases are immutable" in refused.reason_phrase
    assert body(client.get(f"/repository/public-mvn/{release}")) == b"release"


def test_version_policies(client, personas, maven_repos):
    writer = personas["writer"]
    refused = put(client, "releases", f"{BASE}/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.jar", b"x", writer)
    assert refused.status_code == 400 and "takes releases only" in refused.reason_phrase
    refused = put(client, "snapshots", f"{BASE}/1.0/lib-1.0.jar", b"x", writer)
    assert refused.status_code == 400 and "takes SNAPSHOTs only" in refused.reason_phrase
    assert put(client, "releases", f"{BASE}/1.0/lib-1.0.jar", b"x", writer).status_code == 201
    assert not PackageFile.objects.filter(repository__name="snapshots").exists()


def test_snapshot_retention_keeps_the_newest_builds(client, personas, maven_repos,
                                                    django_capture_on_commit_callbacks):
    writer = personas["writer"]
    folder = f"{BASE}/3.0-SNAPSHOT"
    with django_capture_on_commit_callbacks(execute=True):
        for build in range(1, 5):
            value = f"3.0-20261125.00000{build}-{build}"
            assert put(client, "snapshots", f"{folder}/lib-{value}.jar", f"b{build}".encode(),
                       writer).status_code == 201
    left = sorted(PackageFile.objects.filter(repository__name="snapshots").values_list("filename", flat=True))
    assert left == ["lib-3.0-20261125.000003-3.jar", "lib-3.0-20261125.000004-4.jar"]
    assert AuditEvent.objects.filter(action="file.delete").count() == 2
    xml = client.get(f"/repository/snapshots/{folder}/maven-metadata.xml").content.decode()
    assert "<buildNumber>4</buildNumber>" in xml and "-1</value>" not in xml


def test_checksum_mismatch_and_missing_file(client, personas, maven_repos):
    writer = personas["writer"]
    put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar", b"jar", writer)
    wrong = put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar.sha1", b"0" * 40, writer)
    assert wrong.status_code == 400 and "Checksum mismatch" in wrong.reason_phrase
    garbage = put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar.md5", b"not hex", writer)
    assert garbage.status_code == 400 and "32 hex digits" in garbage.reason_phrase
    # The "hex  filename" form of sha256sum is accepted.
    line = f"{hashlib.sha256(b'jar').hexdigest()}  lib-1.0.jar\n".encode()
    assert put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar.sha256", line, writer).status_code == 201
    orphan = put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.pom.sha1", b"0" * 40, writer)
    assert orphan.status_code == 400 and "upload the file before its checksum" in orphan.reason_phrase
    assert PackageFile.objects.count() == 1


@pytest.mark.parametrize("path, data, message", [
    (f"{BASE}/1.0/lib-1.0.pom", b"not xml at all", "not well-formed XML"),
    (f"{BASE}/1.0/lib-1.0.pom", pom_xml("1.1"), "version '1.1' does not match"),
    (f"{BASE}/1.0/lib-1.0.pom", pom_xml("1.0", group="org.other"), "groupId 'org.other' does not match"),
    (f"{BASE}/1.0/lib-1.0.pom", pom_xml("1.0", artifact="other"), "artifactId 'other' does not match"),
    (f"{BASE}/1.0/lib-1.0.pom",
     b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
     b"<project><groupId>com.acme</groupId><artifactId>lib</artifactId><version>&b;</version></project>",
     "DTDs, entities"),
    (f"{BASE}/1.0/lib-1.1.jar", b"jar", "not of version 1.0"),
    (f"{BASE}/1.0/other-1.0.jar", b"jar", "are named lib-1.0"),
    (f"{BASE}/1.0/lib-1.0.jar", b"", "is empty"),
    ("com/acme/%2e%2e/lib/1.0/lib-1.0.jar", b"jar", "'..'"),
    ("lib-1.0.jar", b"jar", "groupId/artifactId/version/file"),
])
def test_bad_input_stores_nothing(client, personas, maven_repos, path, data, message):
    response = put(client, "public-mvn", path, data, personas["writer"])
    assert response.status_code == 400, (response.status_code, response.reason_phrase)
    assert message in response.reason_phrase
    assert not PackageFile.objects.exists()


def test_oversize(client, personas, maven_repos, settings):
    settings.MAX_UPLOAD_SIZE = 10
    response = put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar", b"x" * 11, personas["writer"])
    assert response.status_code == 413
    assert not PackageFile.objects.exists()


@pytest.mark.parametrize("persona, status", [(None, 401), ("outsider", 404), ("reader", 403)])
def test_deploy_needs_write(client, personas, maven_repos, persona, status):
    response = put(client, "private-mvn", f"{BASE}/1.0/lib-1.0.jar", b"jar",
                   personas[persona] if persona else None)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")
    assert not PackageFile.objects.exists()


def test_private_reads_challenge(client, personas, maven_repos):
    put(client, "private-mvn", f"{BASE}/1.0/lib-1.0.jar", b"jar", personas["writer"])
    for path in (f"{BASE}/1.0/lib-1.0.jar", f"{BASE}/maven-metadata.xml", f"{BASE}/"):
        response = client.get(f"/repository/private-mvn/{path}")
        assert response.status_code == 401 and "WWW-Authenticate" in response, path
        assert client.get(f"/repository/private-mvn/{path}", **personas["outsider"].auth).status_code == 404


def test_directory_listings(client, personas, maven_repos):
    writer = personas["writer"]
    put(client, "public-mvn", f"{BASE}/1.0/lib-1.0.jar", b"jar", writer)
    put(client, "public-mvn", "org/other/thing/2.0/thing-2.0.pom", pom_xml("2.0", "org.other", "thing"), writer)
    root = client.get("/repository/public-mvn/").content.decode()
    assert 'href="com/"' in root and 'href="org/"' in root
    artifact = client.get(f"/repository/public-mvn/{BASE}/").content.decode()
    assert 'href="1.0/"' in artifact and 'href="maven-metadata.xml"' in artifact and 'href="../"' in artifact
    version = client.get(f"/repository/public-mvn/{BASE}/1.0/").content.decode()
    assert 'href="lib-1.0.jar"' in version
    redirect = client.get(f"/repository/public-mvn/{BASE}/1.0")
    assert redirect.status_code == 301 and redirect["Location"].endswith(f"{BASE}/1.0/")
    assert client.get("/repository/public-mvn/com/nothing/").status_code == 404


def test_rest_upload_with_a_path(client, personas, maven_repos):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/v1/repositories/public-mvn/upload/",
                           {"file": SimpleUploadedFile("lib-1.0.pom", pom_xml("1.0")),
                            "path": f"{BASE}/1.0/lib-1.0.pom"}, **personas["writer"].auth)
    assert response.status_code == 201, response.content
    missing = client.post("/api/v1/repositories/public-mvn/upload/",
                          {"file": SimpleUploadedFile("lib-1.0.jar", b"jar")}, **personas["writer"].auth)
    assert missing.status_code == 400 and "'path'" in missing.json()["detail"]


def test_repository_settings_are_checked(client, personas):
    from django.contrib.auth.models import Permission

    personas["owner"].user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    bad = client.post("/api/v1/repositories/", {"name": "m2", "format": "maven", "kind": "hosted",
                                                "visibility": "public", "settings": {"version_policy": "nightly"}},
                      content_type="application/json", **personas["owner"].auth)
    assert bad.status_code == 400 and "version_policy" in str(bad.json())
    good = client.post("/api/v1/repositories/", {"name": "m2", "format": "maven", "kind": "hosted",
                                                 "visibility": "public", "settings": {"snapshot_keep": 5}},
                       content_type="application/json", **personas["owner"].auth)
    assert good.status_code == 201, good.content
    assert good.json()["settings"] == {"version_policy": "mixed", "snapshot_keep": 5}


def test_gradle_maven_publish_sequence(client, personas, maven_repos):
    """What Gradle's maven-publish sends: every file with sha1, md5, sha256 and sha512, a Gradle
    module metadata file beside the POM, then the artifact metadata and its four checksums."""
    writer = personas["writer"]
    module = b'{"formatVersion": "1.1", "component": {"group": "com.acme", "module": "lib", "version": "4.0"}}'
    every = ("sha1", "md5", "sha256", "sha512")
    deploy(client, "public-mvn", f"{BASE}/4.0/lib-4.0.jar", b"gradle jar", writer, checksums=every)
    deploy(client, "public-mvn", f"{BASE}/4.0/lib-4.0.module", module, writer, checksums=every)
    deploy(client, "public-mvn", f"{BASE}/4.0/lib-4.0.pom", pom_xml("4.0"), writer, checksums=every)
    assert client.get(f"/repository/public-mvn/{BASE}/maven-metadata.xml").status_code == 200
    metadata = b"<metadata><groupId>com.acme</groupId><artifactId>lib</artifactId></metadata>"
    assert put(client, "public-mvn", f"{BASE}/maven-metadata.xml", metadata, writer).status_code == 201
    for algorithm in every:
        digest = hashlib.new(algorithm, metadata).hexdigest().encode()
        assert put(client, "public-mvn", f"{BASE}/maven-metadata.xml.{algorithm}", digest, writer).status_code == 201

    served = client.get(f"/repository/public-mvn/{BASE}/4.0/lib-4.0.module")
    assert served["Content-Type"] == "application/json" and body(served) == module
    assert client.get(f"/repository/public-mvn/{BASE}/4.0/lib-4.0.module.sha512").content.decode() == (
        hashlib.sha512(module).hexdigest())
    assert sorted(PackageFile.objects.values_list("filename", flat=True)) == [
        "lib-4.0.jar", "lib-4.0.module", "lib-4.0.pom"]


@pytest.mark.parametrize("data, message", [
    (b"not xml", "Invalid maven-metadata.xml: not well-formed XML"),
    (b"<project/>", "the root element is <project>, not <metadata>"),
    (b'<!DOCTYPE m [<!ENTITY a "x">]><metadata>&a;</metadata>', "DTDs, entities"),
])
def test_uploaded_metadata_must_be_metadata(client, personas, maven_repos, data, message):
    response = put(client, "public-mvn", f"{BASE}/maven-metadata.xml", data, personas["writer"])
    assert response.status_code == 400 and message in response.reason_phrase


def test_a_twine_upload_into_a_maven_repository_is_refused(client, personas, maven_repos, tmp_path):
    from tests.fixtures.dists import build_wheel

    from .pypi_helpers import upload

    response = upload(client, "public-mvn", build_wheel(tmp_path, "gamma", "0.1"), personas["writer"])
    assert response.status_code == 405
    assert not PackageFile.objects.exists()
