"""Maven end to end: the real mvn (3.8, offline on Debian's packaged plugins) against the live
server.

alice deploys `com.acme:greeter` with `mvn deploy` (her token in settings.xml `<servers>`), a
second project `com.acme:app` resolves it from an empty local repository, compiles against it and
runs. mvn is slow to start, so the deploys a group of tests looks at are made once per module
(fixtures `greeter` and `private_greeter`); every test that runs mvn itself has its own
settings.xml and an empty local repository in its temporary folder. What mvn prints is checked,
and so is what the server then serves (files, checksums and metadata fetched over HTTP).
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import USER, Run
from .maven_clients import (
    MavenClients,
    artifact_path,
    built_jar,
    create_maven_repository,
    fetch,
    local_artifact,
    maven_tools,
    parse_metadata,
    sha1_of,
    with_context,
)

pytestmark = pytest.mark.e2e

GROUP, ARTIFACT = "com.acme", "greeter"
RELEASE = "1.0"
SNAPSHOT = "1.1-SNAPSHOT"
RELEASE_MESSAGE = "Hello from greeter 1.0"
SNAPSHOT_MESSAGES = ("Hello from greeter 1.1-SNAPSHOT, build one",
                     "Hello from greeter 1.1-SNAPSHOT, build two")
ARTIFACT_METADATA = f"{GROUP.replace('.', '/')}/{ARTIFACT}/maven-metadata.xml"
SNAPSHOT_METADATA = artifact_path(GROUP, ARTIFACT, SNAPSHOT, "maven-metadata.xml")
APP_MAIN = "com.acme.app.Main"
# The server's reasons, in the HTTP reason phrase (mvn prints the status line, not the body).
IMMUTABLE = "releases are immutable"
RELEASES_ONLY = "takes releases only"
READ_SCOPE = "This token's scope is read; write access is needed"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maven():
    """mvn and java, once Debian's Maven plugins are known to be installed."""
    return maven_tools()


@dataclass
class Build:
    """One `mvn deploy` of the library: the run, the jar it built, the metadata served after."""
    project: Path
    run: Run
    jar: bytes = b""
    metadata: object = None  # the Response for the metadata fetched right after the deploy

    @property
    def jar_sha1(self):
        return sha1_of(self.jar)


@dataclass
class Deployed:
    repository: str
    release: Build
    snapshots: list = field(default_factory=list)


def deploy(clients, settings, project):
    run = clients.mvn(project, settings, "deploy")
    jars = sorted((project / "target").glob("*.jar"))
    return Build(project, run, jars[0].read_bytes() if len(jars) == 1 else b"")


def assert_ok(run, server):
    assert run.ok, f"mvn failed:\n{with_context(run, server)}"


@pytest.fixture(scope="module")
def greeter(maven, server, tmp_path_factory):
    """A public Maven repository where alice (write role) deployed greeter 1.0, then 1.1-SNAPSHOT
    twice (build two's greet() returns another string), with her write token in settings.xml."""
    repository = create_maven_repository(server, "e2e-maven-public", "public")
    server.grant(repository, USER, "write")
    clients = MavenClients(server, tmp_path_factory.mktemp("maven-greeter"), maven)
    settings = clients.settings("deployer", {"reg": server.user_tokens["write"]})

    release = deploy(clients, settings,
                     clients.library("greeter-1.0", RELEASE, RELEASE_MESSAGE, repository=repository))
    release.metadata = fetch(server, repository, ARTIFACT_METADATA)
    deployed = Deployed(repository, release)
    for number, message in enumerate(SNAPSHOT_MESSAGES, 1):
        project = clients.library(f"greeter-snapshot-{number}", SNAPSHOT, message,
                                  repository=repository)
        build = deploy(clients, settings, project)
        build.metadata = fetch(server, repository, SNAPSHOT_METADATA)
        deployed.snapshots.append(build)
    return deployed


@pytest.fixture(scope="module")
def private_greeter(maven, server, tmp_path_factory):
    """A private Maven repository where alice (write role) deployed greeter 1.0 with her write
    token."""
    repository = create_maven_repository(server, "e2e-maven-private", "private")
    server.grant(repository, USER, "write")
    clients = MavenClients(server, tmp_path_factory.mktemp("maven-private"), maven)
    settings = clients.settings("deployer", {"reg": server.user_tokens["write"]})
    project = clients.library("greeter-1.0", RELEASE, RELEASE_MESSAGE, repository=repository)
    return Deployed(repository, deploy(clients, settings, project))


@pytest.fixture
def mvn_clients(maven, server, tmp_path):
    return MavenClients(server, tmp_path, maven)


# --- helpers -----------------------------------------------------------------------------------


def served(server, repository, path, context, token=None):
    response = fetch(server, repository, path, token=token)
    assert response.status == 200, f"GET {path}: {response!r}\n{context}"
    return response.body


def assert_absent(server, repository, path, context, token=None):
    response = fetch(server, repository, path, token=token)
    assert response.status == 404, f"GET {path} should be 404: {response!r}\n{context}"


def metadata_of(response, context):
    assert response is not None and response.status == 200, f"metadata: {response!r}\n{context}"
    return parse_metadata(response.text)


def build_and_run_app(server, clients, repository, version, *, servers=None, snapshots=False):
    """com.acme:app depending on greeter `version`, built with `mvn package` from an empty
    local repository, then run with greeter's jar from that local repository.
    Returns (package run, java run, the greeter jar Maven resolved)."""
    settings = clients.settings("app", servers)
    local = settings[1]
    assert not local.exists(), f"{local} should start empty"
    app = clients.application("app", version, repository=repository, snapshots=snapshots)
    package = clients.mvn(app, settings, "package")
    assert_ok(package, server)
    jar = local_artifact(local, GROUP, ARTIFACT, version)
    found = sorted(str(p.relative_to(local)) for p in local.glob("com/acme/**/*") if p.is_file())
    assert jar.is_file(), f"{jar} was not resolved; the local repository holds {found}\n{package}"
    ran = clients.java([app / "target" / "classes", jar], APP_MAIN, check=True)
    return package, ran, jar


# --- a. release deploy ---------------------------------------------------------------------------


def test_release_deploy_serves_the_built_jar_its_checksums_and_metadata(server, greeter):
    release = greeter.release
    context = with_context(release.run, server)
    assert_ok(release.run, server)
    local_jar = built_jar(release.project)
    assert local_jar.name == "greeter-1.0.jar", context
    built = local_jar.read_bytes()

    jar_path = artifact_path(GROUP, ARTIFACT, RELEASE, "greeter-1.0.jar")
    pom_path = artifact_path(GROUP, ARTIFACT, RELEASE, "greeter-1.0.pom")
    assert served(server, greeter.repository, jar_path, context) == built, \
        f"the served jar is not the one mvn built\n{context}"
    assert served(server, greeter.repository, pom_path, context) == \
        (release.project / "pom.xml").read_bytes(), f"the served POM is not pom.xml\n{context}"

    # Every checksum of the jar, computed by the server, is the local jar's.
    for algorithm in ("sha1", "md5", "sha256", "sha512"):
        text = served(server, greeter.repository, f"{jar_path}.{algorithm}", context).decode()
        expected = hashlib.new(algorithm, built).hexdigest()
        assert text.strip() == expected, f"{jar_path}.{algorithm} is {text!r}, not {expected}"

    # The artifact-level metadata the server generated right after the deploy.
    metadata = metadata_of(release.metadata, context)
    assert (metadata["groupId"], metadata["artifactId"]) == (GROUP, ARTIFACT), f"{metadata}"
    assert metadata["versions"] == [RELEASE], f"{metadata}\n{release.metadata.text}"
    assert metadata["release"] == RELEASE, f"{metadata}\n{release.metadata.text}"
    assert metadata["latest"] == RELEASE, f"{metadata}\n{release.metadata.text}"
    # Its checksum is the checksum of the metadata served now.
    current = served(server, greeter.repository, ARTIFACT_METADATA, context)
    sha1 = served(server, greeter.repository, ARTIFACT_METADATA + ".sha1", context).decode()
    assert sha1.strip() == sha1_of(current), f"maven-metadata.xml.sha1 is {sha1!r}\n{current!r}"


# --- b. SNAPSHOT deployed twice ------------------------------------------------------------------


def test_snapshot_deployed_twice_has_build_two_and_both_timestamped_jars(server, greeter):
    first, second = greeter.snapshots
    for build in (first, second):
        assert_ok(build.run, server)
    context = with_context(second.run, server)
    assert first.jar_sha1 != second.jar_sha1, "the two builds should differ"

    values = []
    for number, build in enumerate((first, second), 1):
        metadata = metadata_of(build.metadata, context)
        assert metadata["version"] == SNAPSHOT, f"{metadata}"
        assert metadata["buildNumber"] == str(number), \
            f"after deploy {number}: {metadata}\n{build.metadata.text}"
        jar_value = metadata["snapshotVersions"].get(("", "jar"))
        pom_value = metadata["snapshotVersions"].get(("", "pom"))
        expected = f"1.1-{metadata['timestamp']}-{number}"
        assert jar_value == expected and pom_value == expected, \
            f"after deploy {number}: {metadata}\n{build.metadata.text}"
        values.append(jar_value)

    # Both timestamped jars are there, each the bytes of its own build.
    for value, build in zip(values, (first, second)):
        path = artifact_path(GROUP, ARTIFACT, SNAPSHOT, f"greeter-{value}.jar")
        jar = served(server, greeter.repository, path, context)
        assert sha1_of(jar) == build.jar_sha1, f"{path} is not the jar of its build\n{build.run}"
        sha1 = served(server, greeter.repository, path + ".sha1", context).decode().strip()
        assert sha1 == build.jar_sha1, f"{path}.sha1 is {sha1}"

    # People see both builds in the folder's listing.
    listing = served(server, greeter.repository, artifact_path(GROUP, ARTIFACT, SNAPSHOT) + "/",
                     context).decode()
    for value in values:
        assert f"greeter-{value}.jar" in listing, listing

    # The artifact-level metadata lists the SNAPSHOT, and `release` still names 1.0.
    response = fetch(server, greeter.repository, ARTIFACT_METADATA)
    metadata = metadata_of(response, context)
    assert metadata["versions"] == [RELEASE, SNAPSHOT], f"{metadata}\n{response.text}"
    assert metadata["release"] == RELEASE, f"{metadata}\n{response.text}"
    assert metadata["latest"] == SNAPSHOT, f"{metadata}\n{response.text}"


# --- c. a consumer resolves, compiles and runs ----------------------------------------------------


def test_app_resolves_the_release_from_an_empty_local_repository_and_runs(
        server, greeter, mvn_clients):
    assert_ok(greeter.release.run, server)
    package, ran, jar = build_and_run_app(server, mvn_clients, greeter.repository, RELEASE)
    assert ran.output.strip() == f"app says: {RELEASE_MESSAGE}", f"{ran}\n{package}"
    assert sha1_of(jar.read_bytes()) == greeter.release.jar_sha1, \
        f"{jar} is not the deployed jar\n{package}"


def test_app_resolves_the_latest_snapshot_build_and_runs_it(server, greeter, mvn_clients):
    first, second = greeter.snapshots
    assert_ok(second.run, server)
    package, ran, jar = build_and_run_app(server, mvn_clients, greeter.repository, SNAPSHOT,
                                          snapshots=True)
    # Build two's string, not build one's: Maven read the version metadata to pick the build.
    assert ran.output.strip() == f"app says: {SNAPSHOT_MESSAGES[1]}", f"{ran}\n{package}"
    resolved = sha1_of(jar.read_bytes())
    assert resolved == second.jar_sha1, \
        f"{jar} is not build two's jar (build one's: {resolved == first.jar_sha1})\n{package}"


# --- d. releases are immutable ---------------------------------------------------------------------


def test_redeploying_a_release_with_changed_code_is_refused(server, greeter, mvn_clients):
    assert_ok(greeter.release.run, server)
    settings = mvn_clients.settings("deployer", {"reg": server.user_tokens["write"]})
    project = mvn_clients.library("greeter-1.0-changed", RELEASE, "Changed code under 1.0",
                                  repository=greeter.repository)
    run = mvn_clients.mvn(project, settings, "deploy")
    context = with_context(run, server)
    assert not run.ok, f"the redeploy should fail\n{context}"
    assert "409" in run.output and IMMUTABLE in run.output, context
    assert sha1_of(built_jar(project).read_bytes()) != greeter.release.jar_sha1, \
        "the changed build should differ"

    jar_path = artifact_path(GROUP, ARTIFACT, RELEASE, "greeter-1.0.jar")
    jar = served(server, greeter.repository, jar_path, context)
    assert sha1_of(jar) == greeter.release.jar_sha1, f"the served jar changed\n{context}"
    sha1 = served(server, greeter.repository, jar_path + ".sha1", context).decode().strip()
    assert sha1 == greeter.release.jar_sha1, f"{jar_path}.sha1 changed to {sha1}\n{context}"


# --- e. a private repository -------------------------------------------------------------------


def test_private_repository_deploy_with_a_write_token(server, private_greeter):
    release = private_greeter.release
    context = with_context(release.run, server)
    assert_ok(release.run, server)
    jar_path = artifact_path(GROUP, ARTIFACT, RELEASE, "greeter-1.0.jar")
    jar = served(server, private_greeter.repository, jar_path, context,
                 token=server.user_tokens["read"])
    assert jar == release.jar, f"the served jar is not the one mvn built\n{context}"
    # Anonymous: a challenge (that is what makes mvn send its credentials), not the file.
    anonymous = fetch(server, private_greeter.repository, jar_path)
    assert anonymous.status == 401, f"{anonymous!r}"
    assert anonymous.headers.get("WWW-Authenticate", "").startswith("Basic"), \
        f"{dict(anonymous.headers)}"


def test_private_repository_resolves_with_a_read_token_in_settings(
        server, private_greeter, mvn_clients):
    assert_ok(private_greeter.release.run, server)
    package, ran, jar = build_and_run_app(server, mvn_clients, private_greeter.repository, RELEASE,
                                          servers={"reg": server.user_tokens["read"]})
    assert ran.output.strip() == f"app says: {RELEASE_MESSAGE}", f"{ran}\n{package}"
    assert sha1_of(jar.read_bytes()) == private_greeter.release.jar_sha1, f"{package}"


def test_private_repository_without_credentials_does_not_resolve(
        server, private_greeter, mvn_clients):
    assert_ok(private_greeter.release.run, server)
    settings = mvn_clients.settings("anonymous")
    app = mvn_clients.application("app", RELEASE, repository=private_greeter.repository)
    run = mvn_clients.mvn(app, settings, "package")
    context = with_context(run, server)
    assert not run.ok, f"resolution without credentials should fail\n{context}"
    assert "com.acme:greeter" in run.output, context
    lowered = run.output.lower()
    assert "401" in run.output or "unauthorized" in lowered or "not authorized" in lowered, context
    assert not local_artifact(settings[1], GROUP, ARTIFACT, RELEASE).exists(), context


# --- f. version policy ---------------------------------------------------------------------------


def test_release_only_repository_refuses_a_snapshot(server, mvn_clients):
    repository = create_maven_repository(server, "e2e-maven-releases-only", "public",
                                         settings={"version_policy": "release"})
    server.grant(repository, USER, "write")
    shown = server.api("GET", f"repositories/{repository}/").json()
    assert shown.get("settings", {}).get("version_policy") == "release", f"{shown}"
    settings = mvn_clients.settings("deployer", {"reg": server.user_tokens["write"]})

    # A release goes in (so the refusal below is the policy's, not the setup's)…
    release = mvn_clients.mvn(
        mvn_clients.library("greeter-1.0", RELEASE, RELEASE_MESSAGE, repository=repository),
        settings, "deploy")
    assert_ok(release, server)

    # …a SNAPSHOT does not, and mvn prints why.
    run = mvn_clients.mvn(
        mvn_clients.library("greeter-snapshot", SNAPSHOT, SNAPSHOT_MESSAGES[0],
                            repository=repository),
        settings, "deploy")
    context = with_context(run, server)
    assert not run.ok, f"a SNAPSHOT deploy should fail\n{context}"
    assert RELEASES_ONLY in run.output, context
    assert_absent(server, repository, SNAPSHOT_METADATA, context)
    assert_absent(server, repository, artifact_path(GROUP, ARTIFACT, SNAPSHOT) + "/", context)
    metadata = metadata_of(fetch(server, repository, ARTIFACT_METADATA), context)
    assert metadata["versions"] == [RELEASE], f"{metadata}"


# --- g. a read-only token ------------------------------------------------------------------------


def test_a_read_only_token_cannot_deploy(server, greeter, mvn_clients):
    assert_ok(greeter.release.run, server)
    settings = mvn_clients.settings("reader", {"reg": server.user_tokens["read"]})
    project = mvn_clients.library("greeter-2.0", "2.0", "Hello from greeter 2.0",
                                  repository=greeter.repository)
    run = mvn_clients.mvn(project, settings, "deploy")
    context = with_context(run, server)
    assert not run.ok, f"a deploy with a read token should fail\n{context}"
    assert "403" in run.output and READ_SCOPE in run.output, context
    for filename in ("greeter-2.0.pom", "greeter-2.0.jar"):
        assert_absent(server, greeter.repository, artifact_path(GROUP, ARTIFACT, "2.0", filename),
                      context)
    metadata = metadata_of(fetch(server, greeter.repository, ARTIFACT_METADATA), context)
    assert "2.0" not in metadata["versions"], f"{metadata}"
