"""The npm registry API, endpoint by endpoint, with the personas: publish → packuments →
tarballs → dist-tags → deprecate → unpublish; login and tokens; every bad input."""

import base64
import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import (
    ApiToken, AuditEvent, Blob, Package, PackageFile, PackageVersion, Repository, RepositoryRole,
    Role,
)
from tests.fixtures.npm_packages import (
    integrity, make_tarball, manifest_tarball, npm_pack, publish_document,
)

pytestmark = pytest.mark.django_db

ABBREVIATED = "application/vnd.npm.install-v1+json"


@pytest.fixture
def npm_repos(personas):
    repos = {
        "private": Repository.objects.create(name="private-npm", format="npm", visibility="private"),
        "public": Repository.objects.create(name="public-npm", format="npm", visibility="public"),
    }
    for persona, role in [("owner", Role.ADMIN), ("writer", Role.WRITE), ("reader", Role.READ)]:
        for repository in repos.values():
            RepositoryRole.objects.create(repository=repository, user=personas[persona].user, role=role)
    return repos


@pytest.fixture(scope="module")
def tarballs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("npm")
    return {
        "util": npm_pack(folder, "@acme/util", "1.0.0", readme="# Util\n"),
        "util2": npm_pack(folder, "@acme/util", "1.1.0"),
        "util-beta": npm_pack(folder, "@acme/util", "2.0.0-beta.1"),
        "app": npm_pack(folder, "app-b", "0.1.0", dependencies={"@acme/util": "^1.0.0"}),
    }


def put(client, repo, name, document, persona=None, *, raw=None, url_name=None):
    headers = persona.auth if persona is not None else {}
    body = raw if raw is not None else json.dumps(document)
    return client.put(f"/repository/{repo}/{url_name or name}", body,
                      content_type="application/json", **headers)


def publish(client, repo, tarball, persona, **options):
    document = publish_document(tarball, **options)
    return put(client, repo, document["name"], document, persona)


def get_json(client, url, persona=None, **headers):
    auth = persona.auth if persona is not None else {}
    response = client.get(url, **auth, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def error_of(response):
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


def nothing_stored():
    assert not PackageFile.objects.filter(repository__format="npm").exists()
    assert not Package.objects.filter(repository__format="npm").exists()


# --- publish and read ------------------------------------------------------------------------


def test_publish_and_read_back(client, personas, npm_repos, tarballs):
    writer, reader = personas["writer"], personas["reader"]
    data = tarballs["util"].read_bytes()
    response = publish(client, "private-npm", tarballs["util"], writer)
    assert response.status_code == 201, response.content
    assert response.json() == {"ok": True}

    row = PackageFile.objects.get(repository=npm_repos["private"])
    assert row.path == "@acme/util/-/util-1.0.0.tgz"
    assert row.blob_id == hashlib.sha256(data).hexdigest()
    assert row.version.package.metadata["dist-tags"] == {"latest": "1.0.0"}
    assert AuditEvent.objects.filter(action="file.upload", package_name="@acme/util").count() == 1

    packument = get_json(client, "/repository/private-npm/@acme%2futil", reader)
    assert packument["_id"] == packument["name"] == "@acme/util"
    assert packument["_rev"]
    assert packument["dist-tags"] == {"latest": "1.0.0"}
    assert packument["description"] == "A test package"
    assert packument["readme"] == "# Util\n"
    assert set(packument["time"]) == {"created", "modified", "1.0.0"}
    assert packument["maintainers"] == [{"name": "writer", "email": "writer@example.com"}]
    manifest = packument["versions"]["1.0.0"]
    assert manifest["_id"] == "@acme/util@1.0.0"
    assert manifest["_npmUser"] == {"name": "writer", "email": "writer@example.com"}
    assert manifest["dist"] == {
        "tarball": "http://testserver/repository/private-npm/@acme/util/-/util-1.0.0.tgz",
        "shasum": hashlib.sha1(data).hexdigest(),
        "integrity": integrity(data),
        "size": len(data),
    }

    tarball = client.get("/repository/private-npm/@acme/util/-/util-1.0.0.tgz", **reader.auth)
    assert tarball.status_code == 200
    assert b"".join(tarball.streaming_content) == data
    head = client.head("/repository/private-npm/@acme/util/-/util-1.0.0.tgz", **reader.auth)
    assert head.status_code == 200 and head["Content-Length"] == str(len(data))


def test_abbreviated_packument(client, personas, npm_repos, tarballs):
    assert publish(client, "public-npm", tarballs["app"], personas["writer"]).status_code == 201
    response = client.get("/repository/public-npm/app-b", HTTP_ACCEPT=f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*")
    assert response.status_code == 200
    assert response["Content-Type"] == ABBREVIATED
    assert "Accept" in response["Vary"]
    document = response.json()
    assert set(document) == {"name", "modified", "dist-tags", "versions"}
    version = document["versions"]["0.1.0"]
    assert version["dependencies"] == {"@acme/util": "^1.0.0"}
    assert version["dist"]["integrity"] == integrity(tarballs["app"].read_bytes())
    assert "readme" not in version and "description" not in version and "_npmUser" not in version


def test_scoped_names_in_every_encoding(client, personas, npm_repos, tarballs):
    assert publish(client, "public-npm", tarballs["util"], personas["writer"]).status_code == 201
    for url in ("@acme%2futil", "@acme%2Futil", "@acme/util", "%40acme%2futil"):
        assert get_json(client, f"/repository/public-npm/{url}")["name"] == "@acme/util", url
    # pnpm asks for the version manifest of a tag with the uppercase escape.
    assert get_json(client, "/repository/public-npm/@acme%2Futil/latest")["version"] == "1.0.0"
    assert get_json(client, "/repository/public-npm/@acme%2futil/1.0.0")["dist"]["tarball"].endswith(
        "/@acme/util/-/util-1.0.0.tgz")
    response = client.get("/repository/public-npm/@acme%2futil/9.9.9")
    assert response.status_code == 404 and "9.9.9" in error_of(response)


def test_etag_and_invalidation(client, personas, npm_repos, tarballs):
    writer = personas["writer"]
    assert publish(client, "public-npm", tarballs["util"], writer).status_code == 201
    url = "/repository/public-npm/@acme%2futil"
    first = client.get(url)
    etag = first["ETag"]
    assert first["Cache-Control"] == "max-age=0, no-cache"
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    # The abbreviated form is another variant with its own ETag.
    abbreviated = client.get(url, HTTP_ACCEPT=ABBREVIATED)
    assert abbreviated["ETag"] != etag

    assert publish(client, "public-npm", tarballs["util2"], writer).status_code == 201
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert set(again.json()["versions"]) == {"1.0.0", "1.1.0"}
    assert again.json()["dist-tags"]["latest"] == "1.1.0"
    assert again.json()["_rev"] != first.json()["_rev"]


def test_tarball_urls_follow_the_proxy(client, personas, npm_repos, tarballs, settings):
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["testserver", "registry.example.com"]
    assert publish(client, "public-npm", tarballs["util"], personas["writer"]).status_code == 201
    document = get_json(client, "/repository/public-npm/@acme%2futil",
                        HTTP_X_FORWARDED_HOST="registry.example.com", HTTP_X_FORWARDED_PROTO="https")
    assert document["versions"]["1.0.0"]["dist"]["tarball"] == (
        "https://registry.example.com/repository/public-npm/@acme/util/-/util-1.0.0.tgz")
    # The page cached for the proxy's origin is not served to a direct client.
    direct = get_json(client, "/repository/public-npm/@acme%2futil")
    assert direct["versions"]["1.0.0"]["dist"]["tarball"].startswith("http://testserver/")


def test_republish_is_refused_with_npms_message(client, personas, npm_repos, tarballs):
    writer = personas["writer"]
    assert publish(client, "private-npm", tarballs["util"], writer).status_code == 201
    response = publish(client, "private-npm", tarballs["util"], writer)
    assert response.status_code == 403
    assert error_of(response) == "You cannot publish over the previously published versions: 1.0.0."
    assert PackageFile.objects.count() == 1


def test_publish_with_a_tag_leaves_latest(client, personas, npm_repos, tarballs):
    writer = personas["writer"]
    assert publish(client, "private-npm", tarballs["util"], writer).status_code == 201
    assert publish(client, "private-npm", tarballs["util-beta"], writer, tag="beta").status_code == 201
    tags = get_json(client, "/repository/private-npm/-/package/@acme%2futil/dist-tags", writer)
    assert tags == {"latest": "1.0.0", "beta": "2.0.0-beta.1"}


# --- dist-tags, deprecate, unpublish -------------------------------------------------------


def test_dist_tags(client, personas, npm_repos, tarballs):
    writer, reader = personas["writer"], personas["reader"]
    publish(client, "private-npm", tarballs["util"], writer)
    publish(client, "private-npm", tarballs["util2"], writer)
    base = "/repository/private-npm/-/package/@acme%2futil/dist-tags"

    response = client.put(f"{base}/stable", '"1.0.0"', content_type="application/json", **writer.auth)
    assert response.status_code == 201
    assert response.json() == {"latest": "1.1.0", "stable": "1.0.0"}
    assert client.put(f"{base}/stable", '"1.0.0"', content_type="application/json",
                      **reader.auth).status_code == 403

    for tag, version, message in [("next", "7.0.0", "not published"), ("1.2.3", "1.0.0", "Invalid dist-tag"),
                                  ("v2.0.0", "1.0.0", "look like a version"), ("-x", "1.0.0", "Invalid dist-tag")]:
        response = client.put(f"{base}/{tag}", json.dumps(version), content_type="application/json", **writer.auth)
        assert response.status_code == 400 and message in error_of(response), tag

    assert client.delete(f"{base}/latest", **writer.auth).status_code == 400
    assert client.delete(f"{base}/stable", **writer.auth).json() == {"latest": "1.1.0"}
    assert client.delete(f"{base}/stable", **writer.auth).status_code == 404
    assert get_json(client, base, reader) == {"latest": "1.1.0"}
    assert AuditEvent.objects.filter(action__startswith="npm.dist-tag").count() == 2


def _write_document(client, repo, name, persona, mutate):
    """What npm deprecate / unpublish do: read with ?write=true, change, PUT back with the rev."""
    document = get_json(client, f"/repository/{repo}/{name}?write=true", persona)
    mutate(document)
    return client.put(f"/repository/{repo}/{name}/-rev/{document['_rev']}", json.dumps(document),
                      content_type="application/json", **persona.auth)


def test_deprecate_and_undeprecate(client, personas, npm_repos, tarballs):
    writer = personas["writer"]
    publish(client, "private-npm", tarballs["util"], writer)
    response = _write_document(client, "private-npm", "@acme%2futil", writer,
                               lambda d: d["versions"]["1.0.0"].update(deprecated="use 2.x"))
    assert response.status_code == 200, response.content
    assert PackageVersion.objects.get().deprecated == "use 2.x"
    abbreviated = client.get("/repository/private-npm/@acme%2futil", HTTP_ACCEPT=ABBREVIATED, **writer.auth).json()
    assert abbreviated["versions"]["1.0.0"]["deprecated"] == "use 2.x"

    response = _write_document(client, "private-npm", "@acme%2futil", writer,
                               lambda d: d["versions"]["1.0.0"].update(deprecated=""))
    assert response.status_code == 200
    assert PackageVersion.objects.get().deprecated == ""
    full = get_json(client, "/repository/private-npm/@acme%2futil", writer)
    assert "deprecated" not in full["versions"]["1.0.0"]
    assert [e.action for e in AuditEvent.objects.filter(action__contains="deprecate").order_by("id")] == [
        "version.deprecate", "version.undeprecate"]


def test_a_stale_rev_is_a_conflict(client, personas, npm_repos, tarballs):
    writer = personas["writer"]
    publish(client, "private-npm", tarballs["util"], writer)
    document = get_json(client, "/repository/private-npm/@acme%2futil?write=true", writer)
    response = client.put("/repository/private-npm/@acme%2futil/-rev/1-0000", json.dumps(document),
                          content_type="application/json", **writer.auth)
    assert response.status_code == 409 and "changed" in error_of(response)


def test_unpublish_one_version_needs_admin(client, personas, npm_repos, tarballs,
                                           django_capture_on_commit_callbacks):
    owner, writer = personas["owner"], personas["writer"]
    publish(client, "private-npm", tarballs["util"], writer)
    publish(client, "private-npm", tarballs["util2"], writer)

    def drop_latest(document):
        del document["versions"]["1.1.0"]
        document["dist-tags"]["latest"] = "1.0.0"

    refused = _write_document(client, "private-npm", "@acme%2futil", writer, drop_latest)
    assert refused.status_code == 403
    assert PackageVersion.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = _write_document(client, "private-npm", "@acme%2futil", owner, drop_latest)
    assert response.status_code == 200, response.content
    rev = get_json(client, "/repository/private-npm/@acme%2futil?write=true", owner)["_rev"]
    # npm then deletes the tarball, which is already gone with its version.
    response = client.delete(f"/repository/private-npm/@acme/util/-/util-1.1.0.tgz/-rev/{rev}", **owner.auth)
    assert response.status_code == 200
    document = get_json(client, "/repository/private-npm/@acme%2futil", owner)
    assert set(document["versions"]) == {"1.0.0"}
    assert document["dist-tags"] == {"latest": "1.0.0"}
    assert AuditEvent.objects.filter(action="version.delete", version="1.1.0").exists()

    # An unpublished version cannot come back.
    response = publish(client, "private-npm", tarballs["util2"], writer)
    assert response.status_code == 403 and "1.1.0" in error_of(response)


def test_unpublish_the_whole_package(client, personas, npm_repos, tarballs,
                                     django_capture_on_commit_callbacks):
    owner, writer = personas["owner"], personas["writer"]
    publish(client, "private-npm", tarballs["util"], writer)
    publish(client, "private-npm", tarballs["util2"], writer)
    rev = get_json(client, "/repository/private-npm/@acme%2futil?write=true", owner)["_rev"]
    assert client.delete(f"/repository/private-npm/@acme%2futil/-rev/{rev}", **writer.auth).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/repository/private-npm/@acme%2futil/-rev/{rev}", **owner.auth)
    assert response.status_code == 200
    nothing_stored()
    assert not Blob.objects.exists()
    assert client.get("/repository/private-npm/@acme%2futil", **owner.auth).status_code == 404
    assert AuditEvent.objects.filter(action="version.delete").count() == 2


# --- the /-/ endpoints -------------------------------------------------------------------------


def test_whoami_ping_search(client, personas, npm_repos, tarballs):
    writer, reader = personas["writer"], personas["reader"]
    assert get_json(client, "/repository/private-npm/-/whoami", reader) == {"username": "reader"}
    assert client.get("/repository/public-npm/-/whoami").status_code == 401
    assert get_json(client, "/repository/public-npm/-/ping") == {}
    assert client.get("/repository/private-npm/-/ping").status_code == 401

    publish(client, "private-npm", tarballs["util"], writer)
    publish(client, "private-npm", tarballs["app"], writer)
    found = get_json(client, "/repository/private-npm/-/v1/search?text=util&size=5", reader)
    assert found["total"] == 1
    [hit] = found["objects"]
    assert hit["package"]["name"] == "@acme/util"
    assert hit["package"]["version"] == "1.0.0"
    assert hit["package"]["scope"] == "acme"
    assert hit["package"]["publisher"] == {"username": "writer"}
    everything = get_json(client, "/repository/private-npm/-/v1/search?text=&size=1&from=1", reader)
    assert everything["total"] == 2 and [o["package"]["name"] for o in everything["objects"]] == ["app-b"]
    # Another repository's packages are not found here.
    assert get_json(client, "/repository/public-npm/-/v1/search?text=util")["total"] == 0


def test_audit_endpoints_are_absent_on_purpose(client, personas, npm_repos):
    for path in ("-/npm/v1/security/advisories/bulk", "-/npm/v1/security/audits/quick"):
        response = client.post(f"/repository/public-npm/{path}", "{}", content_type="application/json")
        assert response.status_code == 404
        assert "no security advisory database" in error_of(response)


def _login(client, repo, username, password):
    body = {"_id": f"org.couchdb.user:{username}", "name": username, "password": password,
            "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"}
    return client.put(f"/repository/{repo}/-/user/org.couchdb.user:{username}", json.dumps(body),
                      content_type="application/json")


def test_login_exchanges_a_password_for_a_token(client, personas, npm_repos):
    response = _login(client, "private-npm", "reader", "pw-reader")
    assert response.status_code == 201, response.content
    secret = response.json()["token"]
    assert secret.startswith("reg_")
    token = ApiToken.objects.get(prefix=secret[:12])
    assert list(token.repositories.values_list("name", flat=True)) == ["private-npm"]
    assert token.expires is not None
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/repository/private-npm/-/whoami", **headers).json() == {"username": "reader"}
    # Limited to the repository it was made for.
    assert client.get("/repository/private-py/simple/", **headers).status_code == 404
    assert AuditEvent.objects.filter(action="token.create", username="reader").exists()

    # npm logout revokes it.
    assert client.delete(f"/repository/private-npm/-/user/token/{secret}", **headers).status_code == 200
    assert client.get("/repository/private-npm/-/whoami", **headers).status_code == 401


def test_login_failures(client, personas, npm_repos):
    wrong = _login(client, "public-npm", "reader", "not-the-password")
    assert wrong.status_code == 401 and error_of(wrong) == "Incorrect username or password."
    # On a private repository every failure is the answer for a missing one (anonymous: 401).
    missing = _login(client, "absent-npm", "reader", "pw-reader")
    for username, password in [("reader", "not-the-password"), ("outsider", "pw-outsider")]:
        refused = _login(client, "private-npm", username, password)
        assert (refused.status_code, refused.content) == (missing.status_code, missing.content.replace(
            b"absent-npm", b"private-npm"))
    assert not ApiToken.objects.filter(name__startswith="npm login").exists()
    # Web login is not offered: npm falls back to username and password on a 4xx.
    assert client.post("/repository/public-npm/-/v1/login", "{}", content_type="application/json").status_code == 404


def test_the_login_endpoint_does_not_reveal_a_private_repository(client, personas, npm_repos):
    """Issue 14, item 4: the view checks access itself, and every way it can refuse (a bad body,
    another method, a user with no role asking for themselves) looked unlike a missing repository."""
    outsider = personas["outsider"]
    requests = [
        ("get", "-/user/org.couchdb.user:outsider", None, outsider.auth),
        ("get", "-/user/org.couchdb.user:outsider", None, {}),
        ("put", "-/user/org.couchdb.user:outsider", "not json", {}),
        ("put", "-/user/org.couchdb.user:outsider", "not json", outsider.auth),
        ("put", "-/user/org.couchdb.user:outsider", json.dumps({"name": "outsider", "password": "pw-outsider"}),
         outsider.auth),
        ("delete", "-/user/org.couchdb.user:outsider", None, {}),
        ("head", "-/user/org.couchdb.user:outsider/-rev/1", None, outsider.auth),
    ]
    for method, path, body, headers in requests:
        extra = {"data": body, "content_type": "application/json"} if body is not None else {}
        private = getattr(client, method)(f"/repository/private-npm/{path}", **extra, **headers)
        missing = getattr(client, method)(f"/repository/absent-npm/{path}", **extra, **headers)
        assert private.status_code == missing.status_code in (401, 404), (method, path, headers)
        assert private.content == missing.content.replace(b"absent-npm", b"private-npm"), (method, path)
        assert private.get("WWW-Authenticate") == missing.get("WWW-Authenticate")
    # Whoever may read it still sees themselves.
    reader = client.get("/repository/private-npm/-/user/org.couchdb.user:reader", **personas["reader"].auth)
    assert reader.status_code == 200 and reader.json()["name"] == "reader"
    assert not ApiToken.objects.filter(name__startswith="npm login").exists()


def test_npm_token_list_create_revoke(client, personas, npm_repos):
    from registry.services import tokens

    reader = personas["reader"]
    # Tokens are managed with an admin-scope token (what npm login gives); see test_token_limits.
    _token, secret = tokens.create_token(reader.user, "npm-admin", scope=Role.ADMIN)
    manager = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    listed = client.get("/repository/private-npm/-/npm/v1/tokens", **manager).json()
    assert listed["total"] == 2
    assert {t["token"][:12] for t in listed["objects"]} == {reader.token[:12], secret[:12]}

    refused = client.post("/repository/private-npm/-/npm/v1/tokens", json.dumps({"password": "wrong"}),
                          content_type="application/json", **manager)
    assert refused.status_code == 401
    created = client.post("/repository/private-npm/-/npm/v1/tokens",
                          json.dumps({"password": "pw-reader", "readonly": True, "cidr_whitelist": []}),
                          content_type="application/json", **manager)
    assert created.status_code == 201, created.content
    new = created.json()
    assert new["readonly"] is True and new["token"].startswith("reg_")
    assert ApiToken.objects.get(key_hash=new["key"]).scope == Role.READ
    # A read token mints nothing.
    escalate = client.post("/repository/private-npm/-/npm/v1/tokens", json.dumps({"password": "pw-reader"}),
                           content_type="application/json", **reader.auth)
    assert escalate.status_code == 403

    assert client.delete(f"/repository/private-npm/-/npm/v1/tokens/token/{new['key']}",
                         **manager).status_code == 204
    assert ApiToken.objects.get(key_hash=new["key"]).revoked is not None
    assert client.delete(f"/repository/private-npm/-/npm/v1/tokens/token/{new['key']}",
                         **manager).status_code == 404


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona, status", [(None, 401), ("outsider", 404), ("reader", 200)])
def test_reading_a_private_repository(client, personas, npm_repos, tarballs, persona, status):
    publish(client, "private-npm", tarballs["util"], personas["writer"])
    headers = personas[persona].auth if persona else {}
    for url in ("@acme%2futil", "@acme/util/-/util-1.0.0.tgz", "-/v1/search?text=util"):
        response = client.get(f"/repository/private-npm/{url}", **headers)
        assert response.status_code == status, url
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("persona, status", [(None, 401), ("outsider", 404), ("reader", 403)])
def test_publishing_needs_write(client, personas, npm_repos, tarballs, persona, status):
    response = publish(client, "private-npm", tarballs["util"], personas[persona] if persona else None)
    assert response.status_code == status
    nothing_stored()


def test_read_scope_token_of_a_writer_cannot_publish(client, personas, npm_repos, tarballs):
    from registry.services import tokens

    _token, secret = tokens.create_token(personas["writer"].user, "ro", scope=Role.READ)
    response = client.put("/repository/private-npm/@acme%2futil",
                          json.dumps(publish_document(tarballs["util"])),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403 and "scope is read" in error_of(response)
    nothing_stored()


# --- bad input ---------------------------------------------------------------------------------


def _refused(response, status, message):
    assert response.status_code == status, response.content
    assert message in error_of(response), error_of(response)
    nothing_stored()


def test_tarball_not_gzip(client, personas, npm_repos, tmp_path, tarballs):
    document = publish_document(tarballs["util"], data=base64.b64encode(b"not a tarball").decode(),
                                length=13)
    document["versions"]["1.0.0"].pop("dist")
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "not a gzipped tar")


def test_tarball_gzip_but_not_tar(client, personas, npm_repos, tarballs):
    import gzip

    payload = gzip.compress(b"hello" * 100)
    document = publish_document(tarballs["util"], data=base64.b64encode(payload).decode(),
                                length=len(payload))
    document["versions"]["1.0.0"].pop("dist")
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "not a gzipped tar")


def test_tarball_without_package_json(client, personas, npm_repos, tmp_path):
    tarball = make_tarball(tmp_path / "x.tgz", {"index.js": b"1"})
    raw = tarball.read_bytes()
    document = publish_document(manifest_tarball(tmp_path / "m.tgz", "nojson", "1.0.0"))
    document["_attachments"]["nojson-1.0.0.tgz"].update(data=base64.b64encode(raw).decode(), length=len(raw))
    document["versions"]["1.0.0"].pop("dist")
    _refused(put(client, "private-npm", "nojson", document, personas["writer"]), 400,
             "no package/package.json")


@pytest.mark.parametrize("inner_name, inner_version, message", [
    ("other", "1.0.0", "names 'other', not 'mismatch'"),
    ("mismatch", "1.0.1", "has version '1.0.1', not '1.0.0'"),
])
def test_package_json_disagrees_with_the_document(client, personas, npm_repos, tmp_path,
                                                  inner_name, inner_version, message):
    tarball = manifest_tarball(tmp_path / "t.tgz", inner_name, inner_version)
    document = publish_document(tarball, name="mismatch", version="1.0.0",
                                manifest={"name": "mismatch", "version": "1.0.0"})
    _refused(put(client, "private-npm", "mismatch", document, personas["writer"]), 400, message)


@pytest.mark.parametrize("name, message", [
    ("UpperCase", "uppercase"),
    ("x" * 215, "longer than 214"),
    (".hidden", "period"),
])
def test_invalid_names_are_refused(client, personas, npm_repos, tmp_path, name, message):
    tarball = manifest_tarball(tmp_path / "t.tgz", name, "1.0.0")
    _refused(publish(client, "private-npm", tarball, personas["writer"]), 400, message)


def test_traversal_in_the_name(client, personas, npm_repos, tmp_path):
    tarball = manifest_tarball(tmp_path / "t.tgz", "..", "1.0.0")
    document = publish_document(tarball)
    response = put(client, "private-npm", "..", document, personas["writer"], url_name="%2e%2e")
    assert response.status_code == 400, response.content
    nothing_stored()
    response = put(client, "private-npm", "@acme/..", document, personas["writer"], url_name="@acme%2f..")
    assert response.status_code == 400, response.content
    nothing_stored()


def test_invalid_semver(client, personas, npm_repos, tmp_path):
    tarball = manifest_tarball(tmp_path / "t.tgz", "badver", "1.0")
    _refused(publish(client, "private-npm", tarball, personas["writer"]), 400, "not a semantic version")


def test_declared_length_differs(client, personas, npm_repos, tarballs):
    document = publish_document(tarballs["util"], length=5)
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "length is 5 but its data holds")


def test_integrity_mismatch(client, personas, npm_repos, tarballs):
    document = publish_document(tarballs["util"])
    document["versions"]["1.0.0"]["dist"]["integrity"] = integrity(b"other bytes")
    del document["versions"]["1.0.0"]["dist"]["shasum"]
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "does not match its integrity")


def test_shasum_mismatch(client, personas, npm_repos, tarballs):
    document = publish_document(tarballs["util"])
    document["versions"]["1.0.0"]["dist"]["shasum"] = "0" * 40
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "does not match its shasum")


def test_oversized(client, personas, npm_repos, tarballs, settings):
    settings.MAX_UPLOAD_SIZE = 100
    _refused(publish(client, "private-npm", tarballs["util"], personas["writer"]), 413, "limit of 100 bytes")


def test_url_name_differs_from_document(client, personas, npm_repos, tarballs):
    document = publish_document(tarballs["util"])
    _refused(put(client, "private-npm", "other", document, personas["writer"]), 400,
             "not the package name 'other'")


def test_two_versions_at_once(client, personas, npm_repos, tarballs):
    document = publish_document(tarballs["util"])
    document["versions"]["1.0.1"] = dict(document["versions"]["1.0.0"], version="1.0.1")
    _refused(put(client, "private-npm", "@acme/util", document, personas["writer"]), 400,
             "exactly one version")


def test_body_not_json(client, personas, npm_repos):
    _refused(put(client, "private-npm", "x", None, personas["writer"], raw="{nope"), 400, "not valid JSON")


def test_publish_into_a_pypi_repository(client, personas, tarballs):
    document = publish_document(tarballs["util"])
    response = put(client, "private-py", "@acme/util", document, personas["writer"])
    assert response.status_code == 404
    assert not PackageFile.objects.exists()


# --- the REST API ------------------------------------------------------------------------------


def test_rest_upload_of_a_tarball(client, personas, npm_repos, tarballs):
    data = tarballs["app"].read_bytes()
    response = client.post("/api/v1/repositories/private-npm/upload/",
                           {"file": SimpleUploadedFile("app-b-0.1.0.tgz", data), "tag": "next"},
                           **personas["writer"].auth)
    assert response.status_code == 201, response.content
    assert response.json()["path"] == "app-b/-/app-b-0.1.0.tgz"
    document = get_json(client, "/repository/private-npm/app-b", personas["reader"])
    assert document["dist-tags"] == {"next": "0.1.0"}
    assert document["versions"]["0.1.0"]["dist"]["integrity"] == integrity(data)

    again = client.post("/api/v1/repositories/private-npm/upload/",
                        {"file": SimpleUploadedFile("app-b-0.1.0.tgz", data)}, **personas["writer"].auth)
    assert again.status_code == 403
    assert "previously published" in again.json()["detail"]
