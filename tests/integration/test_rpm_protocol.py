"""A yum/dnf repository through HTTP: upload by PUT and by the REST API, signed repodata built
from stored records, packages at stable paths, the key and .repo file, signing packages on
upload; every bad input refused with nothing stored."""

import base64
import gzip
import hashlib
import subprocess
import time

import createrepo_c as cr
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import PackageFile, PackageVersion, Repository, RepositoryRole, Role
from registry.services import signing_keys
from registry.services.access import Actor
from tests.fixtures.gpg_verify import good_signers
from tests.fixtures.rpms import build_rpm
from tests.fixtures.tools import find_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpm_repos(personas):
    repos = {}
    for visibility in ("private", "public"):
        repository = Repository.objects.create(name=f"{visibility}-rpm", format="rpm", visibility=visibility)
        signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
        repos[visibility] = repository
        for persona, role in [("owner", Role.ADMIN), ("writer", Role.WRITE), ("reader", Role.READ)]:
            RepositoryRole.objects.create(repository=repository, user=personas[persona].user, role=role)
    return repos


def put(client, repo, rpm, persona, name=None):
    headers = persona.auth if persona is not None else {}
    return client.put(f"/repository/{repo}/{name or rpm.name}", rpm.read_bytes(),
                      content_type="application/x-rpm", **headers)


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def repodata(client, repo, persona=None, tmp_path=None):
    """repomd.xml parsed, and each listed file's bytes by type."""
    auth = persona.auth if persona else {}
    response = client.get(f"/repository/{repo}/repodata/repomd.xml", **auth)
    assert response.status_code == 200, response.content
    xml = body(response)
    path = tmp_path / f"repomd-{sha256(xml)}.xml"
    path.write_bytes(xml)
    repomd = cr.Repomd()
    cr.xml_parse_repomd(str(path), repomd)
    files = {record.type: (record, body(client.get(f"/repository/{repo}/{record.location_href}", **auth)))
             for record in repomd.records}
    return xml, repomd, files


def packages_of(files, tmp_path):
    """The packages of primary+filelists+other, read by createrepo_c."""
    paths = []
    for kind in ("primary", "filelists", "other"):
        path = tmp_path / f"{kind}-{sha256(files[kind][1])}.xml.gz"
        path.write_bytes(files[kind][1])
        paths.append(str(path))
    return list(cr.PackageIterator(*paths))


def test_upload_publish_and_read(client, personas, rpm_repos, tmp_path, django_capture_on_commit_callbacks):
    writer, reader = personas["writer"], personas["reader"]
    data = build_rpm(tmp_path, "hello-data", "1.0", "1")
    tool = build_rpm(tmp_path, "hello-tool", "2.0", "1", "x86_64", epoch=1, requires=["hello-data >= 1.0"])
    arm = build_rpm(tmp_path, "hello-tool", "2.0", "1", "aarch64", epoch=1)
    source = build_rpm(tmp_path, "hello-tool", "2.0", "1", epoch=1, source=True)
    with django_capture_on_commit_callbacks(execute=True):
        for rpm in (data, tool, arm, source):
            response = put(client, "private-rpm", rpm, writer)
            assert response.status_code == 201, response.content
            assert response.content.decode().startswith("Stored: Packages/h/")

    xml, repomd, files = repodata(client, "private-rpm", reader, tmp_path)
    assert set(files) == {"primary", "filelists", "other"}
    for record, data_bytes in files.values():
        assert (record.checksum_type, record.checksum) == ("sha256", sha256(data_bytes))
        assert record.size == len(data_bytes)
        plain = gzip.decompress(data_bytes)
        assert (record.checksum_open, record.size_open) == (sha256(plain), len(plain))
        assert record.timestamp > 0
        assert record.location_href == f"repodata/{record.checksum}-{record.type}.xml.gz"
    key = client.get("/repository/private-rpm/key.asc", **reader.auth).content.decode()
    assert key == client.get("/repository/private-rpm/repodata/repomd.xml.key", **reader.auth).content.decode()
    signature = body(client.get("/repository/private-rpm/repodata/repomd.xml.asc", **reader.auth))
    fingerprint = signing_keys.active_keys(rpm_repos["private"])[0].fingerprint
    assert good_signers(signature, key, detached_data=xml) == {fingerprint}

    packages = {(p.name, p.arch): p for p in packages_of(files, tmp_path)}
    assert set(packages) == {("hello-data", "noarch"), ("hello-tool", "x86_64"), ("hello-tool", "aarch64"),
                             ("hello-tool", "src")}
    for rpm, (name, arch) in [(data, ("hello-data", "noarch")), (tool, ("hello-tool", "x86_64")),
                              (source, ("hello-tool", "src"))]:
        package = packages[(name, arch)]
        assert package.pkgId == sha256(rpm.read_bytes())
        served = client.get(f"/repository/private-rpm/{package.location_href}", **reader.auth)
        assert served.status_code == 200 and served["Content-Type"] == "application/x-rpm"
        assert body(served) == rpm.read_bytes()
    assert packages[("hello-tool", "x86_64")].epoch == "1"
    assert ("hello-data", "GE", "0", "1.0", None, False) in packages[("hello-tool", "x86_64")].requires

    # One version (epoch:version-release) holds every arch and the source package.
    version = PackageVersion.objects.get(package__name="hello-tool")
    assert version.version == "1:2.0-1"
    assert sorted(f.metadata["arch"] for f in version.files.all()) == ["aarch64", "src", "x86_64"]
    assert version.metadata["summary"] == "hello-tool for the tests"


def test_the_rest_api_upload_and_delete(client, personas, rpm_repos, tmp_path, django_capture_on_commit_callbacks):
    writer, owner = personas["writer"], personas["owner"]
    url = "/api/v1/repositories/public-rpm/upload/"
    kept = build_rpm(tmp_path, "kept", "1.0", "1")
    gone = build_rpm(tmp_path, "gone", "1.0", "1")

    def post(path, name=None):
        return client.post(url, {"file": SimpleUploadedFile(name or path.name, path.read_bytes())}, **writer.auth)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(kept)
        assert response.status_code == 201, response.content
        assert response.json()["version"] == "1.0-1"
        assert response.json()["hashes"]["sha256"] == sha256(kept.read_bytes())
        assert response.json()["download_url"].endswith("/repository/public-rpm/Packages/k/kept-1.0-1.noarch.rpm")
        assert post(gone).status_code == 201
        assert post(gone).status_code == 200  # identical: already there
    wrong = post(kept, name="kept-1.0-2.noarch.rpm")
    assert wrong.status_code == 400 and "name it 'kept-1.0-1.noarch.rpm'" in wrong.json()["detail"]

    _xml, _repomd, files = repodata(client, "public-rpm", tmp_path=tmp_path)
    assert sorted(p.name for p in packages_of(files, tmp_path)) == ["gone", "kept"]
    version = PackageVersion.objects.get(package__name="gone")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/versions/{version.id}/", **owner.auth).status_code == 204
    _xml, _repomd, files = repodata(client, "public-rpm", tmp_path=tmp_path)
    assert [p.name for p in packages_of(files, tmp_path)] == ["kept"]
    assert client.get("/repository/public-rpm/Packages/g/gone-1.0-1.noarch.rpm").status_code == 404


def test_old_metadata_stays_during_its_grace_period(client, personas, rpm_repos, tmp_path,
                                                    django_capture_on_commit_callbacks):
    writer = personas["writer"]
    with django_capture_on_commit_callbacks(execute=True):
        put(client, "public-rpm", build_rpm(tmp_path, "first", "1.0"), writer)
    _xml, before, _files = repodata(client, "public-rpm", tmp_path=tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        put(client, "public-rpm", build_rpm(tmp_path, "second", "1.0"), writer)
    _xml, after, _files = repodata(client, "public-rpm", tmp_path=tmp_path)
    old = {r.type: r.location_href for r in before.records}
    new = {r.type: r.location_href for r in after.records}
    assert old["primary"] != new["primary"]
    assert int(after.revision) > int(before.revision)
    # A client that read the previous repomd.xml can still fetch what it lists.
    response = client.get(f"/repository/public-rpm/{old['primary']}")
    assert response.status_code == 200
    assert b"<name>second</name>" not in gzip.decompress(body(response))
    assert client.get("/repository/public-rpm/repodata/nothing-primary.xml.gz").status_code == 404


def test_empty_repository_created_through_the_api(client, personas, tmp_path, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    owner = personas["owner"]
    owner.user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/repositories/", {"name": "new-rpm", "format": "rpm", "kind": "hosted",
                                                         "visibility": "public"},
                               content_type="application/json", **owner.auth)
    assert response.status_code == 201, response.content
    assert response.json()["settings"] == {"sign_packages": False}
    key = client.get("/repository/new-rpm/key.asc").content.decode()
    assert key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    xml, repomd, files = repodata(client, "new-rpm", tmp_path=tmp_path)
    assert packages_of(files, tmp_path) == []
    signature = body(client.get("/repository/new-rpm/repodata/repomd.xml.asc"))
    assert len(good_signers(signature, key, detached_data=xml)) == 1


@pytest.mark.parametrize("given, message", [
    ({"sign_packages": "yes"}, "sign_packages must be true or false"),
    ({"architectures": ["x86_64"]}, "unknown RPM settings: architectures"),
])
def test_settings_are_checked(client, personas, given, message):
    from django.contrib.auth.models import Permission

    personas["owner"].user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    response = client.post("/api/v1/repositories/", {"name": "bad-rpm", "format": "rpm", "kind": "hosted",
                                                     "visibility": "public", "settings": given},
                           content_type="application/json", **personas["owner"].auth)
    assert response.status_code == 400 and message in str(response.json())
    assert not Repository.objects.filter(name="bad-rpm").exists()


# --- bad input -------------------------------------------------------------------------------------


def test_not_an_rpm(client, personas, rpm_repos, tmp_path):
    path = tmp_path / "fake-1.0-1.noarch.rpm"
    path.write_bytes(b"#!/bin/sh\n")
    response = put(client, "public-rpm", path, personas["writer"])
    assert response.status_code == 400 and "not an RPM package" in response.content.decode()
    assert not PackageFile.objects.exists()


@pytest.mark.parametrize("cut", [lambda data: data[:700], lambda data: data[:-100]],
                         ids=["the header", "the payload"])
def test_a_truncated_file(client, personas, rpm_repos, tmp_path, cut):
    rpm = build_rpm(tmp_path, "cut", "1.0")
    truncated = tmp_path / "cut" / rpm.name
    truncated.parent.mkdir()
    truncated.write_bytes(cut(rpm.read_bytes()))
    response = put(client, "public-rpm", truncated, personas["writer"])
    assert response.status_code == 400 and "truncated or damaged" in response.content.decode()
    assert not PackageFile.objects.exists()


@pytest.mark.parametrize("name", ["named-1.0-2.noarch.rpm", "other-1.0-1.noarch.rpm", "named-1.0-1.x86_64.rpm"])
def test_a_filename_other_than_the_header(client, personas, rpm_repos, tmp_path, name):
    rpm = build_rpm(tmp_path, "named", "1.0")
    response = put(client, "public-rpm", rpm, personas["writer"], name=name)
    assert response.status_code == 400
    assert "name it 'named-1.0-1.noarch.rpm'" in response.content.decode()
    assert not PackageFile.objects.exists()


def test_another_rpm_under_an_existing_name(client, personas, rpm_repos, tmp_path):
    writer = personas["writer"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build_rpm(tmp_path / "a", "same", "1.0")
    other = build_rpm(tmp_path / "b", "same", "1.0", files={"/opt/same/README": "different\n"})
    assert put(client, "public-rpm", first, writer).status_code == 201
    assert put(client, "public-rpm", first, writer).status_code == 200
    response = put(client, "public-rpm", other, writer)
    assert response.status_code == 409 and "build a new release" in response.content.decode()
    stored = PackageFile.objects.get()
    assert stored.blob.sha256 == sha256(first.read_bytes())


def test_not_an_rpm_file_name(client, personas, rpm_repos, tmp_path):
    rpm = build_rpm(tmp_path, "named", "1.0")
    response = client.post("/api/v1/repositories/public-rpm/upload/",
                           {"file": SimpleUploadedFile("named.tar.gz", rpm.read_bytes())}, **personas["writer"].auth)
    assert response.status_code == 400 and "is not an .rpm file name" in response.json()["detail"]
    assert client.put("/repository/public-rpm/named.tar.gz", rpm.read_bytes(),
                      **personas["writer"].auth).status_code in (404, 405)
    assert not PackageFile.objects.exists()


@pytest.mark.parametrize("persona, status", [(None, 401), ("outsider", 404), ("reader", 403)])
def test_upload_rights(client, personas, rpm_repos, tmp_path, persona, status):
    response = put(client, "private-rpm", build_rpm(tmp_path, "r1", "1.0"),
                   personas[persona] if persona else None)
    assert response.status_code == status
    assert not PackageFile.objects.exists()


def test_a_wrong_token(client, rpm_repos, tmp_path):
    rpm = build_rpm(tmp_path, "r1", "1.0")
    response = client.put(f"/repository/public-rpm/{rpm.name}", rpm.read_bytes(),
                          HTTP_AUTHORIZATION="Bearer rgt_not-a-real-token")
    assert response.status_code == 401
    assert not PackageFile.objects.exists()


def test_reading_a_private_repository(client, personas, rpm_repos, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        put(client, "private-rpm", build_rpm(tmp_path, "secret", "1.0"), personas["writer"])
    for path in ("repodata/repomd.xml", "key.asc", "private-rpm.repo", "Packages/s/secret-1.0-1.noarch.rpm"):
        assert client.get(f"/repository/private-rpm/{path}").status_code == 401
        assert client.get(f"/repository/private-rpm/{path}", **personas["outsider"].auth).status_code == 404
        assert client.get(f"/repository/private-rpm/{path}", **personas["reader"].auth).status_code == 200


# --- .repo file ------------------------------------------------------------------------------------


def test_repo_file_of_a_public_repository(client, rpm_repos):
    response = client.get("/repository/public-rpm/public-rpm.repo")
    assert response.status_code == 200
    text = response.content.decode()
    assert "[public-rpm]\n" in text
    assert "baseurl=http://testserver/repository/public-rpm/\n" in text
    assert "repo_gpgcheck=1\n" in text and "gpgcheck=0\n" in text
    assert "gpgkey=http://testserver/repository/public-rpm/key.asc\n" in text
    assert "password" not in text
    assert client.get("/repository/public-rpm/other.repo").status_code == 404


def test_repo_file_of_a_private_repository_carries_the_callers_token(client, personas, rpm_repos):
    reader = personas["reader"]
    text = client.get("/repository/private-rpm/private-rpm.repo", **reader.auth).content.decode()
    assert text.endswith(f"username=__token__\npassword={reader.token}\n")
    username = reader.user.username
    basic = base64.b64encode(f"{username}:{reader.token}".encode()).decode()
    response = client.get("/repository/private-rpm/private-rpm.repo", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.content.decode().endswith(f"username={username}\npassword={reader.token}\n")
    assert response["Cache-Control"] == "private, no-store"


# --- signing packages -----------------------------------------------------------------------------


def rpmkeys_check(key, rpm, tmp_path):
    """rpmkeys -K of `rpm` with only `key` trusted."""
    rpmkeys = find_tool("rpmkeys")
    dbpath = tmp_path / f"rpmdb-{sha256(rpm.read_bytes())}"
    dbpath.mkdir()
    keyfile = dbpath / "key.asc"
    keyfile.write_text(key)
    subprocess.run([rpmkeys, "--dbpath", str(dbpath), "--import", str(keyfile)], check=True,
                   capture_output=True)
    return subprocess.run([rpmkeys, "--dbpath", str(dbpath), "-Kv", str(rpm)], capture_output=True, text=True)


def test_packages_signed_on_upload(client, personas, rpm_repos, tmp_path, django_capture_on_commit_callbacks):
    find_tool("rpmsign")
    owner, writer = personas["owner"], personas["writer"]
    response = client.patch("/api/v1/repositories/public-rpm/", {"settings": {"sign_packages": True}},
                            content_type="application/json", **owner.auth)
    assert response.status_code == 200, response.content
    rpm = build_rpm(tmp_path, "signed", "1.0")
    with django_capture_on_commit_callbacks(execute=True):
        assert put(client, "public-rpm", rpm, writer).status_code == 201
        assert put(client, "public-rpm", rpm, writer).status_code == 200  # the same upload again

    served = tmp_path / "served" / rpm.name
    served.parent.mkdir()
    served.write_bytes(body(client.get(f"/repository/public-rpm/Packages/s/{rpm.name}")))
    assert served.read_bytes() != rpm.read_bytes()
    key = client.get("/repository/public-rpm/key.asc").content.decode()
    check = rpmkeys_check(key, served, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Signature, key ID" in check.stdout and "OK" in check.stdout
    unsigned = rpmkeys_check(key, rpm, tmp_path)
    assert "Signature" not in unsigned.stdout

    # The repodata lists the signed file: its checksum and size.
    _xml, _repomd, files = repodata(client, "public-rpm", tmp_path=tmp_path)
    [package] = packages_of(files, tmp_path)
    assert package.pkgId == sha256(served.read_bytes())
    assert package.size_package == served.stat().st_size
    stored = PackageFile.objects.get()
    assert stored.metadata["signed"] is True
    assert stored.metadata["uploaded_sha256"] == sha256(rpm.read_bytes())

    text = client.get("/repository/public-rpm/public-rpm.repo").content.decode()
    assert "gpgcheck=1\n" in text


def test_a_concurrent_identical_upload_to_a_signing_repository(client, personas, rpm_repos, tmp_path,
                                                                monkeypatch):
    """Two uploads of one file race: the second misses the first in its early check, signs its
    own copy (other bytes: the signature's time) and meets the first at store: still a 200."""
    from formats.rpm import ingest

    find_tool("rpmsign")
    rpm_repos["public"].settings = {"sign_packages": True}
    rpm_repos["public"].save()
    rpm = build_rpm(tmp_path, "raced", "1.0")
    assert put(client, "public-rpm", rpm, personas["writer"]).status_code == 201
    real_check, calls = ingest._same_upload, []

    def misses_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_check(*args)

    monkeypatch.setattr(ingest, "_same_upload", misses_once)
    time.sleep(1.1)  # a signature made in another second: other bytes than the stored copy
    response = put(client, "public-rpm", rpm, personas["writer"])
    assert response.status_code == 200 and len(calls) == 2
    assert PackageFile.objects.filter(repository=rpm_repos["public"]).count() == 1
    other = build_rpm(tmp_path / "other", "raced", "1.0", files={"/opt/raced/README": "other\n"})
    assert put(client, "public-rpm", other, personas["writer"]).status_code == 409
