"""A Maven proxy repository against real upstreams: this registry itself (pytest-django's live
server, a thread with a real HTTP socket) holding a hosted Maven repository that the tests
deploy to as mvn does, and a static Maven tree on disk served by a plain HTTP file server (as
many mirrors are), which lets a test tamper with a file behind its checksum.

Cache rules are tested with short max ages and an upstream address where nothing listens.
"""

import hashlib
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from formats.maven.proxy import checksum_value
from registry.models import AuditEvent, PackageFile, PackageVersion, Repository, UpstreamDocument
from tests.integration.test_pypi_proxy import body_of, closed_port

pytestmark = pytest.mark.django_db(transaction=True)

API = "application/json"
BASE = "com/acme/lib"
PROXY = "mvn-proxy"


def pom_xml(version):
    return (f'<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">'
            f"<modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId>"
            f"<artifactId>lib</artifactId><version>{version}</version>"
            f"<name>Acme Lib {version}</name></project>\n").encode()


def jar_bytes(label):
    return b"PK\x03\x04" + f"a jar: {label} ".encode() * 50


@pytest.fixture
def owner(personas):
    personas["owner"].user.is_superuser = True
    personas["owner"].user.save()
    return personas["owner"]


def deploy(client, owner, path, data, repository="upstream-mvn"):
    """A file and its checksums, as mvn deploys them."""
    response = client.put(f"/repository/{repository}/{path}", data,
                          content_type="application/octet-stream", **owner.auth)
    assert response.status_code in (200, 201), response.reason_phrase
    for algorithm in ("sha1", "md5"):
        digest = hashlib.new(algorithm, data).hexdigest().encode()
        response = client.put(f"/repository/{repository}/{path}.{algorithm}", digest,
                              content_type="application/octet-stream", **owner.auth)
        assert response.status_code == 201, response.reason_phrase


def deploy_release(client, owner, version):
    files = {f"{BASE}/{version}/lib-{version}.pom": pom_xml(version),
             f"{BASE}/{version}/lib-{version}.jar": jar_bytes(version)}
    for path, data in files.items():
        deploy(client, owner, path, data)
    return files


@pytest.fixture
def upstream(live_server, client, owner):
    """The public hosted Maven repository upstream-mvn on the live server, with com.acme:lib:1.0."""
    Repository.objects.create(name="upstream-mvn", format="maven", visibility="public")
    files = deploy_release(client, owner, "1.0")
    return {"url": f"{live_server.url}/repository/upstream-mvn/", "files": files}


def create_proxy(client, owner, url, visibility="public", **settings):
    body = {"name": PROXY, "format": "maven", "kind": "proxy", "visibility": visibility,
            "upstream": {"url": url, **settings}}
    response = client.post("/api/v1/repositories/", body, content_type=API, **owner.auth)
    assert response.status_code == 201, response.content
    return response.json()


def get(client, path, persona=None, repository=PROXY):
    headers = persona.auth if persona else {}
    return client.get(f"/repository/{repository}/{path}", **headers)


def set_upstream(client, owner, **settings):
    response = client.patch(f"/api/v1/repositories/{PROXY}/", {"upstream": settings},
                            content_type=API, **owner.auth)
    assert response.status_code == 200, response.content


MAX_AGE = 3  # seconds: long enough for the steps of a test on a slow machine, short to wait out


def wait_past_max_age(fetched):
    time.sleep(max(0.0, fetched + MAX_AGE + 0.2 - time.monotonic()))


def versions_in(response):
    text = body_of(response).decode()
    return [line.strip()[len("<version>"):-len("</version>")] for line in text.splitlines()
            if line.strip().startswith("<version>")]


def test_release_fetched_verified_and_cached_for_good(client, owner, upstream):
    create_proxy(client, owner, upstream["url"], metadata_max_age=0)
    pom_path, jar_path = upstream["files"]
    jar = upstream["files"][jar_path]

    response = get(client, jar_path)
    assert response.status_code == 200, response.reason_phrase
    assert body_of(response) == jar
    # Maven Resolver takes these instead of fetching the checksum files.
    assert response["X-Checksum-Sha1"] == hashlib.sha1(jar).hexdigest()
    assert response["X-Checksum-Md5"] == hashlib.md5(jar).hexdigest()
    assert body_of(get(client, pom_path)) == upstream["files"][pom_path]
    for algorithm in ("sha1", "md5", "sha256", "sha512"):
        checksum = get(client, f"{jar_path}.{algorithm}")
        assert checksum.content.decode() == hashlib.new(algorithm, jar).hexdigest()

    proxy = Repository.objects.get(name=PROXY)
    cached = PackageFile.objects.get(repository=proxy, path=jar_path)
    assert cached.blob_id == hashlib.sha256(jar).hexdigest()
    assert cached.metadata["extension"] == "jar"
    # The POM read for the package pages, as for a deploy.
    assert PackageVersion.objects.get(package__repository=proxy).metadata["name"] == "Acme Lib 1.0"
    event = AuditEvent.objects.get(repository=proxy, action="file.cache", detail__path=jar_path)
    assert event.detail["cached_from"] == upstream["url"] + jar_path
    metadata = get(client, f"{BASE}/maven-metadata.xml")
    assert metadata.status_code == 200 and versions_in(metadata) == ["1.0"]
    metadata_sha1 = get(client, f"{BASE}/maven-metadata.xml.sha1").content.decode()
    assert metadata_sha1 == hashlib.sha1(body_of(metadata)).hexdigest()
    # The listing shows what is cached.
    assert b"lib-1.0.jar" in get(client, f"{BASE}/1.0/").content

    # Cached for good: served with the upstream gone, metadata stale with a Warning.
    set_upstream(client, owner, url=f"http://127.0.0.1:{closed_port()}/maven/")
    again = get(client, jar_path)
    assert again.status_code == 200 and body_of(again) == jar
    assert get(client, f"{jar_path}.sha1").content.decode() == hashlib.sha1(jar).hexdigest()
    stale = get(client, f"{BASE}/maven-metadata.xml")
    assert stale.status_code == 200 and stale["Warning"].startswith('110 - "Response is Stale')
    missing = get(client, f"{BASE}/9.9/lib-9.9.pom")
    assert missing.status_code == 502
    assert "Cannot connect to the upstream" in missing.reason_phrase


def test_new_version_after_the_metadata_max_age_and_not_found_forgotten(client, owner, upstream):
    create_proxy(client, owner, upstream["url"], metadata_max_age=MAX_AGE, negative_max_age=3600)
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0"]
    fetched = time.monotonic()
    # mvn asks for a version before it is published: remembered as not found.
    early = get(client, f"{BASE}/2.0/lib-2.0.pom")
    assert early.status_code == 404 and "lib-2.0.pom" in early.reason_phrase
    assert UpstreamDocument.objects.filter(key=f"{BASE}/2.0/lib-2.0.pom", status=404).exists()

    files = deploy_release(client, owner, "2.0")
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0"]
    assert get(client, f"{BASE}/2.0/lib-2.0.pom").status_code == 404  # the negative cache
    wait_past_max_age(fetched)
    # The metadata changed upstream: the new version shows, and its "not found" is forgotten.
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0", "2.0"]
    pom = get(client, f"{BASE}/2.0/lib-2.0.pom")
    assert pom.status_code == 200 and body_of(pom) == files[f"{BASE}/2.0/lib-2.0.pom"]


def test_snapshots_follow_the_metadata_max_age(client, owner, upstream):
    create_proxy(client, owner, upstream["url"], metadata_max_age=MAX_AGE)
    folder = f"{BASE}/1.1-SNAPSHOT"
    deploy(client, owner, f"{folder}/lib-1.1-20261128.100000-1.jar", jar_bytes("build 1"))
    plain = f"{folder}/lib-1.1-SNAPSHOT.jar"
    deploy(client, owner, plain, jar_bytes("plain one"))
    builds = get(client, f"{folder}/maven-metadata.xml")
    assert b"<buildNumber>1</buildNumber>" in body_of(builds)
    assert body_of(get(client, f"{folder}/lib-1.1-20261128.100000-1.jar")) == jar_bytes("build 1")
    # A SNAPSHOT file without timestamp may change in place upstream.
    assert body_of(get(client, plain)) == jar_bytes("plain one")
    fetched = time.monotonic()  # of the last document read (the plain file's checksum)

    deploy(client, owner, f"{folder}/lib-1.1-20261128.110000-2.jar", jar_bytes("build 2"))
    deploy(client, owner, plain, jar_bytes("plain two"))
    assert b"<buildNumber>1</buildNumber>" in body_of(get(client, f"{folder}/maven-metadata.xml"))
    assert body_of(get(client, plain)) == jar_bytes("plain one")
    wait_past_max_age(fetched)
    assert b"<buildNumber>2</buildNumber>" in body_of(get(client, f"{folder}/maven-metadata.xml"))
    assert body_of(get(client, f"{folder}/lib-1.1-20261128.110000-2.jar")) == jar_bytes("build 2")
    replaced = get(client, plain)
    assert body_of(replaced) == jar_bytes("plain two")
    assert replaced["X-Checksum-Sha1"] == hashlib.sha1(jar_bytes("plain two")).hexdigest()
    assert PackageFile.objects.get(repository__name=PROXY, path=plain).blob_id == \
        hashlib.sha256(jar_bytes("plain two")).hexdigest()


class _Tree(SimpleHTTPRequestHandler):
    """A static Maven tree, recording the paths asked for."""

    asked = []

    def do_GET(self):
        self.asked.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def static_tree(tmp_path):
    """A static tree as `mvn deploy` to file:// leaves it (.sha1 and .md5 beside each file, no
    .sha256), served over HTTP; its files written by each test."""
    root = tmp_path / "tree"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Tree, directory=str(root)))
    _Tree.asked = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}/maven2/"
    server.shutdown()
    server.server_close()


def write(root, path, data, checksums_of=None):
    target = root / "maven2" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if checksums_of is not None:
        for algorithm in ("sha1", "md5"):
            (target.parent / f"{target.name}.{algorithm}").write_text(
                hashlib.new(algorithm, checksums_of).hexdigest())


def test_tampered_upstream_jar_is_refused_and_not_stored(client, owner, static_tree):
    root, url = static_tree
    create_proxy(client, owner, url)
    pom_path, jar_path = f"{BASE}/1.0/lib-1.0.pom", f"{BASE}/1.0/lib-1.0.jar"
    write(root, pom_path, pom_xml("1.0"), checksums_of=pom_xml("1.0"))
    # The jar was changed after its checksums were written.
    write(root, jar_path, jar_bytes("tampered"), checksums_of=jar_bytes("1.0"))
    write(root, f"{jar_path}.asc", b"-----BEGIN PGP SIGNATURE-----\n...\n")  # no checksums

    response = get(client, jar_path)
    assert response.status_code == 502
    assert "does not match" in response.reason_phrase
    assert hashlib.sha1(jar_bytes("1.0")).hexdigest() in response.reason_phrase
    assert not PackageFile.objects.filter(path=jar_path).exists()
    assert not AuditEvent.objects.filter(action="file.cache", detail__path=jar_path).exists()
    # Verified against the first checksum file the tree has (it has no .sha256).
    assert _Tree.asked[:3] == [f"/maven2/{jar_path}.sha256", f"/maven2/{jar_path}.sha1",
                               f"/maven2/{jar_path}"]

    assert body_of(get(client, pom_path)) == pom_xml("1.0")
    # A signature without checksums is taken as it is (it verifies itself).
    signature = get(client, f"{jar_path}.asc")
    assert signature.status_code == 200 and body_of(signature).startswith(b"-----BEGIN PGP")
    assert PackageFile.objects.filter(repository__name=PROXY).count() == 2


def test_deploys_bad_paths_and_visibility(client, owner, personas, static_tree):
    root, url = static_tree
    create_proxy(client, owner, url, visibility="private")
    Repository.objects.get(name=PROXY).roles.create(user=personas["reader"].user, role="read")
    jar_path = f"{BASE}/1.0/lib-1.0.jar"
    write(root, jar_path, jar_bytes("1.0"), checksums_of=jar_bytes("1.0"))

    deploy_attempt = client.put(f"/repository/{PROXY}/{jar_path}", b"mine",
                                content_type="application/octet-stream", **owner.auth)
    assert deploy_attempt.status_code == 405
    assert "is a proxy" in deploy_attempt.reason_phrase and "no deploys" in deploy_attempt.reason_phrase
    for bad in ("com/acme/../../../etc/passwd", "com/acme/lib/1.0/..%2f..%2fsecret.jar",
                "com/acme/lib/1.0/lib-1.0.jar%00", "com/acme/lib/1.0/lib 1.0.jar"):
        assert get(client, bad, owner).status_code in (400, 404), bad
    assert _Tree.asked == []

    assert get(client, jar_path).status_code == 401
    assert get(client, jar_path, personas["outsider"]).status_code == 404
    fetched = get(client, jar_path, personas["reader"])
    assert fetched.status_code == 200 and "private" in fetched["Cache-Control"]
    assert not PackageFile.objects.filter(repository__name=PROXY, blob_id=hashlib.sha256(b"mine").hexdigest()).exists()


def test_invalidating_a_package_drops_its_metadata(client, owner, upstream):
    create_proxy(client, owner, upstream["url"])
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0"]
    deploy_release(client, owner, "2.0")
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0"]
    done = client.post(f"/api/v1/repositories/{PROXY}/invalidate/", {"package": "com.acme:lib"},
                       content_type=API, **owner.auth)
    assert done.status_code == 200 and done.json()["documents"] == 1
    assert versions_in(get(client, f"{BASE}/maven-metadata.xml")) == ["1.0", "2.0"]


def test_repository_page_shows_a_mirror_not_a_deploy(client, owner):
    create_proxy(client, owner, "http://127.0.0.1:9/maven2/")
    client.force_login(owner.user)
    page = client.get(f"/ui/repositories/{PROXY}/").content.decode()
    assert "&lt;mirrorOf&gt;*&lt;/mirrorOf&gt;" in page
    assert f"&lt;url&gt;http://testserver/repository/{PROXY}/&lt;/url&gt;" in page
    assert "distributionManagement" not in page


@pytest.mark.parametrize("body, algorithm, expected", [
    (b"da39a3ee5e6b4b0d3255bfef95601890afd80709\n", "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    (b"D41D8CD98F00B204E9800998ECF8427E  lib-1.0.jar\n", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"MD5 (lib-1.0.jar) = d41d8cd98f00b204e9800998ecf8427e\n", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"d41d8cd98f00b204e9800998ecf8427e", "sha1", None),  # an md5 where a sha1 should be
    (b"<html>Not here</html>", "sha256", None),
    (b"", "sha1", None),
])
def test_upstream_checksum_files_in_the_forms_maven_reads(body, algorithm, expected):
    assert checksum_value(body, algorithm) == expected
