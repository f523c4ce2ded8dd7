"""mvn as a user runs it, sealed like the other clients, and offline.

Maven Central is out of reach here: the build plugins come from Debian's packaged Maven
repository (/usr/share/maven-repo), which every test's settings.xml mirrors for `central` over
file:// (see ../shared/maven-offline.md). Every mvn run gets HOME in the test's temporary folder,
a settings.xml written by the test (its own local repository, the Debian mirror, the servers and
their tokens), an empty global settings.xml instead of this machine's, and none of the machine's
MAVEN_* variables. Projects are written as a developer has them: pom.xml and Java sources.
"""

import hashlib
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape


from .conftest import ANSI, Clients, Run, _find_client, fail_or_skip

DEBIAN_REPO = Path("/usr/share/maven-repo")
# What `mvn deploy` of a jar project needs (the lifecycle up to deploy, tests skipped: surefire
# still has to load).
NEEDED_PLUGINS = (
    "maven-resources-plugin", "maven-compiler-plugin", "maven-surefire-plugin",
    "maven-jar-plugin", "maven-install-plugin", "maven-deploy-plugin",
)
POM_NS = "http://maven.apache.org/POM/4.0.0"
JAVA_RELEASE = "11"
_DROPPED = ("MAVEN_OPTS", "MAVEN_ARGS", "MAVEN_CONFIG", "MAVEN_HOME", "M2_HOME", "MAVEN_SKIP_RC",
            "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS")


def maven_tools():
    """{"mvn", "java"}: the clients, once Debian's plugins are known to be there."""
    tools = {"mvn": _find_client("mvn"), "java": _find_client("java")}
    plugins = DEBIAN_REPO / "org" / "apache" / "maven" / "plugins"
    missing = [name for name in NEEDED_PLUGINS if not any((plugins / name).glob("*/*.jar"))]
    if missing:
        fail_or_skip(
            f"Debian's Maven plugins are missing from {plugins}: {', '.join(missing)} "
            "(apt-get install libmaven-deploy-plugin-java libmaven-install-plugin-java "
            "libmaven-jar-plugin-java libmaven-compiler-plugin-java "
            "libmaven-resources-plugin-java libsurefire-java)"
        )
    return tools


# --- the server side ---------------------------------------------------------------------------


def create_maven_repository(server, name, visibility="private", settings=None):
    """A Maven repository made by the administrator through the REST API."""
    body = {"name": name, "format": "maven", "visibility": visibility}
    if settings is not None:
        body["settings"] = settings
    server.api("POST", "repositories/", body, expect=(201,))
    return name


def artifact_path(group, artifact, version, filename=None):
    folder = f"{group.replace('.', '/')}/{artifact}/{version}"
    return f"{folder}/{filename}" if filename else folder


def fetch(server, repository, path, token=None):
    """GET /repository/<repository>/<path> (anonymous unless a token is given)."""
    return server.request("GET", f"/repository/{repository}/{path}", token=token)


def sha1_of(data):
    return hashlib.sha1(data).hexdigest()


def parse_metadata(text):
    """maven-metadata.xml as a dict: versions, latest, release, and for a SNAPSHOT the
    snapshot's timestamp and buildNumber and the snapshotVersions (extension → value)."""
    root = ET.fromstring(text)
    # Accept the file with or without a namespace.
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]

    def find(path):
        found = root.find(path)
        return found.text.strip() if found is not None and found.text else None

    return {
        "groupId": find("groupId"),
        "artifactId": find("artifactId"),
        "version": find("version"),
        "latest": find("versioning/latest"),
        "release": find("versioning/release"),
        "versions": [v.text.strip() for v in root.findall("versioning/versions/version")],
        "timestamp": find("versioning/snapshot/timestamp"),
        "buildNumber": find("versioning/snapshot/buildNumber"),
        "snapshotVersions": {
            (sv.findtext("classifier") or "", sv.findtext("extension") or ""):
                (sv.findtext("value") or "").strip()
            for sv in root.findall("versioning/snapshotVersions/snapshotVersion")
        },
    }


# --- the client --------------------------------------------------------------------------------


class MavenClients(Clients):
    """mvn and java in a sealed environment: HOME, settings and local repositories in the
    test's temporary folder."""

    def __init__(self, server, tmp_path, tools):
        super().__init__(server, tmp_path)
        self.tools = tools
        self.env = {key: value for key, value in self.env.items() if key not in _DROPPED}
        self.global_settings = self.home / "global-settings.xml"
        self.global_settings.write_text("<settings/>\n")
        self._folders = 0

    def folder(self, name):
        self._folders += 1
        path = self.tmp / f"{self._folders:02d}-{name}"
        path.mkdir()
        return path

    def repository_url(self, repository):
        return self.server.repository_url(repository)

    # configuration

    def settings(self, name, servers=None):
        """A settings.xml of its own with an EMPTY local repository next to it: the Debian
        mirror for `central` and a <server> (username __token__) per {id: token}.
        Returns (settings path, local repository path)."""
        folder = self.folder(f"settings-{name}")
        local = folder / "m2"
        server_lines = "".join(
            f"    <server><id>{escape(sid)}</id><username>__token__</username>"
            f"<password>{escape(token)}</password></server>\n"
            for sid, token in (servers or {}).items()
        )
        path = folder / "settings.xml"
        path.write_text(
            "<settings>\n"
            f"  <localRepository>{escape(str(local))}</localRepository>\n"
            "  <interactiveMode>false</interactiveMode>\n"
            "  <offline>false</offline>\n"
            f"  <servers>\n{server_lines}  </servers>\n"
            "  <mirrors>\n"
            "    <mirror><id>debian</id><mirrorOf>central</mirrorOf>"
            f"<url>{DEBIAN_REPO.as_uri()}</url></mirror>\n"
            "  </mirrors>\n"
            "</settings>\n"
        )
        return path, local

    # projects

    def library(self, name, version, message, *, repository, group="com.acme",
                artifact="greeter"):
        """A jar project: `com.acme.Greeter.greet()` returns `message`; deploys to
        `repository` (releases and SNAPSHOTs) through the server id `reg`."""
        folder = self.folder(name)
        url = escape(self.repository_url(repository))
        distribution = (
            "  <distributionManagement>\n"
            f"    <repository><id>reg</id><url>{url}</url></repository>\n"
            f"    <snapshotRepository><id>reg</id><url>{url}</url></snapshotRepository>\n"
            "  </distributionManagement>\n"
        )
        self._pom(folder, group, artifact, version, extra=distribution)
        java = "\n".join([
            f"package {group};",
            "",
            "public final class Greeter {",
            "    private Greeter() {}",
            "",
            "    public static String greet() {",
            f"        return \"{message}\";",
            "    }",
            "}",
            "",
        ])
        self._source(folder, group, "Greeter", java)
        return folder

    def application(self, name, dependency_version, *, repository, snapshots=False):
        """`com.acme:app`, whose main class prints `app says: ` + Greeter.greet(); it resolves
        com.acme:greeter:<dependency_version> from `repository` (server id `reg`)."""
        folder = self.folder(name)
        url = escape(self.repository_url(repository))
        extra = (
            "  <repositories>\n"
            "    <repository>\n"
            f"      <id>reg</id><url>{url}</url>\n"
            "      <releases><enabled>true</enabled></releases>\n"
            f"      <snapshots><enabled>{'true' if snapshots else 'false'}</enabled></snapshots>\n"
            "    </repository>\n"
            "  </repositories>\n"
            "  <dependencies>\n"
            "    <dependency><groupId>com.acme</groupId><artifactId>greeter</artifactId>"
            f"<version>{escape(dependency_version)}</version></dependency>\n"
            "  </dependencies>\n"
        )
        self._pom(folder, "com.acme", "app", "1.0", extra=extra)
        java = "\n".join([
            "package com.acme.app;",
            "",
            "import com.acme.Greeter;",
            "",
            "public final class Main {",
            "    public static void main(String[] args) {",
            "        System.out.println(\"app says: \" + Greeter.greet());",
            "    }",
            "}",
            "",
        ])
        self._source(folder, "com.acme.app", "Main", java)
        return folder

    @staticmethod
    def _pom(folder, group, artifact, version, extra=""):
        (folder / "pom.xml").write_text(
            f'<project xmlns="{POM_NS}">\n'
            "  <modelVersion>4.0.0</modelVersion>\n"
            f"  <groupId>{group}</groupId>\n"
            f"  <artifactId>{artifact}</artifactId>\n"
            f"  <version>{escape(version)}</version>\n"
            "  <packaging>jar</packaging>\n"
            "  <properties>\n"
            f"    <maven.compiler.release>{JAVA_RELEASE}</maven.compiler.release>\n"
            "    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>\n"
            "  </properties>\n"
            f"{extra}"
            "</project>\n"
        )

    @staticmethod
    def _source(folder, package, cls, text):
        source = folder / "src" / "main" / "java" / Path(*package.split(".")) / f"{cls}.java"
        source.parent.mkdir(parents=True)
        source.write_text(text)

    # running

    def mvn(self, project, settings, *goals, check=None):
        """`mvn -B -q` with the test's settings.xml and local repository, tests skipped."""
        settings_path, local = settings
        result = self.run([
            self.tools["mvn"], "--batch-mode", "--quiet",
            "-s", settings_path, "-gs", self.global_settings,
            f"-Dmaven.repo.local={local}", "-Dmaven.test.skip=true", "-Dstyle.color=never",
            *goals,
        ], cwd=project, check=check)
        return Run(result.args, result.returncode, ANSI.sub("", result.output))

    def java(self, classpath, main, check=True):
        return self.run([self.tools["java"], "-cp", os.pathsep.join(map(str, classpath)), main],
                        check=check)


def built_jar(project):
    """The jar `mvn package` left in target/ (exactly one)."""
    jars = sorted((project / "target").glob("*.jar"))
    assert len(jars) == 1, f"expected one jar in {project / 'target'}, found {jars}"
    return jars[0]


def local_artifact(local, group, artifact, version, extension="jar"):
    """Where Maven keeps a resolved artifact in a local repository (a SNAPSHOT under its base
    version's name: that is the file a build's classpath uses)."""
    return local / artifact_path(group, artifact, version, f"{artifact}-{version}.{extension}")


def with_context(run, server, tail=40):
    """An assertion message: the mvn run and the end of the server's log."""
    return f"{run}\n--- server log ---\n{server.log(tail)}"
