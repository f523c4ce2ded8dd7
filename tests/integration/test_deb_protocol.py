"""An APT repository through HTTP: upload, signed publication, indexes, pool, key and sources
line; several distributions and components; every bad input refused with nothing stored."""

import gzip
import hashlib
import lzma

import pytest
from debian.deb822 import Packages, Release

from registry.models import PackageFile, Repository, RepositoryRole, Role
from registry.services import signing_keys
from registry.services.access import Actor
from tests.fixtures.debs import build_deb
from tests.fixtures.gpg_verify import good_signers

pytestmark = pytest.mark.django_db


@pytest.fixture
def deb_repos(personas, django_capture_on_commit_callbacks):
    repos = {}
    for visibility in ("private", "public"):
        repository = Repository.objects.create(name=f"{visibility}-deb", format="deb", visibility=visibility,
                                               settings={"architectures": ["amd64", "arm64"]})
        signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
        repos[visibility] = repository
        for persona, role in [("owner", Role.ADMIN), ("writer", Role.WRITE), ("reader", Role.READ)]:
            RepositoryRole.objects.create(repository=repository, user=personas[persona].user, role=role)
    return repos


def put(client, repo, deb, persona, query="", name=None):
    headers = persona.auth if persona is not None else {}
    return client.put(f"/repository/{repo}/{name or deb.name}{query}", deb.read_bytes(),
                      content_type="application/vnd.debian.binary-package", **headers)


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_upload_publish_and_read(client, personas, deb_repos, tmp_path, django_capture_on_commit_callbacks):
    writer, reader = personas["writer"], personas["reader"]
    tool = build_deb(tmp_path, "hello-tool", "1.0-1", "amd64", depends="libc6")
    docs = build_deb(tmp_path, "hello-doc", "1.0-1", "all")
    with django_capture_on_commit_callbacks(execute=True):
        assert put(client, "private-deb", tool, writer).status_code == 201
        assert put(client, "private-deb", docs, writer).status_code == 201

    base = "/repository/private-deb/dists/stable"
    release = body(client.get(f"{base}/Release", **reader.auth))
    parsed = Release(release)
    assert parsed["Suite"] == "stable" and parsed["Components"] == "main"
    assert parsed["Architectures"] == "amd64 arm64" and parsed["Acquire-By-Hash"] == "yes"

    key = client.get("/repository/private-deb/key.asc", **reader.auth).content.decode()
    inrelease = body(client.get(f"{base}/InRelease", **reader.auth))
    fingerprint = signing_keys.active_keys(deb_repos["private"])[0].fingerprint
    assert good_signers(inrelease, key) == {fingerprint}
    detached = body(client.get(f"{base}/Release.gpg", **reader.auth))
    assert good_signers(detached, key, detached_data=release) == {fingerprint}

    for entry in parsed["SHA256"]:
        data = body(client.get(f"{base}/{entry['name']}", **reader.auth))
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == int(entry["size"])
        folder = entry["name"].rsplit("/", 1)[0]
        by_hash = client.get(f"{base}/{folder}/by-hash/SHA256/{entry['sha256']}", **reader.auth)
        assert body(by_hash) == data

    amd64 = body(client.get(f"{base}/main/binary-amd64/Packages", **reader.auth))
    assert gzip.decompress(body(client.get(f"{base}/main/binary-amd64/Packages.gz", **reader.auth))) == amd64
    assert lzma.decompress(body(client.get(f"{base}/main/binary-amd64/Packages.xz", **reader.auth))) == amd64
    stanzas = {p["Package"]: p for p in Packages.iter_paragraphs(amd64.decode(), use_apt_pkg=False)}
    assert set(stanzas) == {"hello-tool", "hello-doc"}
    assert stanzas["hello-tool"]["Depends"] == "libc6"
    assert stanzas["hello-tool"]["SHA256"] == hashlib.sha256(tool.read_bytes()).hexdigest()
    # Architecture: all is in every architecture's index.
    arm64 = body(client.get(f"{base}/main/binary-arm64/Packages", **reader.auth)).decode()
    assert [p["Package"] for p in Packages.iter_paragraphs(arm64, use_apt_pkg=False)] == ["hello-doc"]

    pool = client.get(f"/repository/private-deb/{stanzas['hello-tool']['Filename']}", **reader.auth)
    assert body(pool) == tool.read_bytes()
    assert stanzas["hello-tool"]["Filename"] == "pool/main/h/hello-tool/hello-tool_1.0-1_amd64.deb"

    sources = client.get("/repository/private-deb/private-deb.list", **reader.auth).content.decode()
    assert ("deb [signed-by=/etc/apt/keyrings/private-deb.asc] http://testserver/repository/private-deb/ "
            "stable main") in sources


def test_distributions_and_components(client, personas, deb_repos, tmp_path, django_capture_on_commit_callbacks):
    writer = personas["writer"]
    first = build_deb(tmp_path, "alpha", "1.0", "all")
    second = build_deb(tmp_path, "beta", "2.0", "amd64")
    with django_capture_on_commit_callbacks(execute=True):
        assert put(client, "public-deb", first, writer, "?distribution=bookworm&component=main").status_code == 201
        assert put(client, "public-deb", second, writer, "?distribution=bookworm&component=contrib").status_code == 201
        # The same file into a second distribution: stored once, listed in both.
        assert put(client, "public-deb", first, writer, "?distribution=trixie").status_code == 200
    assert PackageFile.objects.filter(repository=deb_repos["public"]).count() == 2
    bookworm = Release(body(client.get("/repository/public-deb/dists/bookworm/Release")))
    assert bookworm["Components"] == "contrib main"
    contrib = body(client.get("/repository/public-deb/dists/bookworm/contrib/binary-amd64/Packages")).decode()
    assert [p["Package"] for p in Packages.iter_paragraphs(contrib, use_apt_pkg=False)] == ["beta"]
    trixie = body(client.get("/repository/public-deb/dists/trixie/main/binary-amd64/Packages")).decode()
    assert [p["Package"] for p in Packages.iter_paragraphs(trixie, use_apt_pkg=False)] == ["alpha"]
    sources = client.get("/repository/public-deb/public-deb.list").content.decode()
    assert "bookworm contrib main" in sources and " trixie main" in sources


def test_deleting_a_version_republishes(client, personas, deb_repos, tmp_path, django_capture_on_commit_callbacks):
    writer, owner = personas["writer"], personas["owner"]
    with django_capture_on_commit_callbacks(execute=True):
        put(client, "public-deb", build_deb(tmp_path, "gone", "1.0", "all"), writer)
        put(client, "public-deb", build_deb(tmp_path, "kept", "1.0", "all"), writer)
    version = PackageFile.objects.get(filename="gone_1.0_all.deb").version_id
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/versions/{version}/", **owner.auth).status_code == 204
    packages = body(client.get("/repository/public-deb/dists/stable/main/binary-amd64/Packages")).decode()
    assert [p["Package"] for p in Packages.iter_paragraphs(packages, use_apt_pkg=False)] == ["kept"]


@pytest.mark.parametrize("query, message", [
    ("?distribution=a/b", "Invalid distribution"),
    ("?distribution=with%20space", "Invalid distribution"),
    ("?component=x%0Ay", "Invalid component"),
])
def test_bad_names(client, personas, deb_repos, tmp_path, query, message):
    response = put(client, "public-deb", build_deb(tmp_path, "x1", "1.0"), personas["writer"], query)
    assert response.status_code == 400 and message in response.content.decode()
    assert not PackageFile.objects.exists()


def test_bad_packages(client, personas, deb_repos, tmp_path):
    writer = personas["writer"]
    text = tmp_path / "not.deb"
    text.write_bytes(b"not an ar archive")
    response = put(client, "public-deb", text, writer)
    assert response.status_code == 400 and "not a .deb" in response.content.decode()
    assert not PackageFile.objects.exists()


def test_a_control_file_with_a_second_stanza_is_refused(client, personas, deb_repos, tmp_path):
    import io
    import tarfile

    from tests.fixtures.debs import build_ar

    def tar_gz(members):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    control = (b"Package: inj\nVersion: 1.0\nArchitecture: all\nDescription: x\n\n"
               b"Package: evil\nVersion: 6.6.6\nArchitecture: all\nFilename: pool/evil.deb\n")
    deb = build_ar(tmp_path / "inj_1.0_all.deb", {"debian-binary": b"2.0\n",
                                                  "control.tar.gz": tar_gz({"./control": control}),
                                                  "data.tar.gz": tar_gz({})})
    response = put(client, "public-deb", deb, personas["writer"])
    assert response.status_code == 400 and "2 stanzas" in response.content.decode()
    assert not PackageFile.objects.exists()


def test_other_bytes_under_an_existing_name(client, personas, deb_repos, tmp_path):
    writer = personas["writer"]
    (tmp_path / "a").mkdir()
    first = build_deb(tmp_path / "a", "same", "1.0")
    assert put(client, "public-deb", first, writer).status_code == 201
    (tmp_path / "b").mkdir()
    other = build_deb(tmp_path / "b", "same", "1.0", files={"usr/share/doc/same/README": "different\n"})
    response = put(client, "public-deb", other, writer)
    assert response.status_code == 409 and "cannot change" in response.content.decode()


@pytest.mark.parametrize("persona, status", [(None, 401), ("outsider", 404), ("reader", 403)])
def test_upload_rights(client, personas, deb_repos, tmp_path, persona, status):
    response = put(client, "private-deb", build_deb(tmp_path, "r1", "1.0"),
                   personas[persona] if persona else None)
    assert response.status_code == status
    assert not PackageFile.objects.exists()


def test_created_through_the_api_with_a_key_and_an_empty_publication(client, personas, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    owner = personas["owner"]
    owner.user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/repositories/", {"name": "new-deb", "format": "deb", "kind": "hosted",
                                                         "visibility": "public"},
                               content_type="application/json", **owner.auth)
    assert response.status_code == 201, response.content
    assert response.json()["settings"]["architectures"] == ["amd64", "arm64"]
    assert client.get("/repository/new-deb/key.asc").content.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    release = Release(body(client.get("/repository/new-deb/dists/stable/Release")))
    assert release["Components"] == "main" and release["Architectures"] == "amd64 arm64"
    assert body(client.get("/repository/new-deb/dists/stable/main/binary-amd64/Packages")) == b""
    assert client.get("/repository/new-deb/dists/stable/InRelease").status_code == 200


def test_configured_distributions_are_published_and_take_uploads(client, personas, deb_repos, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    repository = deb_repos["public"]
    owner, writer = personas["owner"], personas["writer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch("/api/v1/repositories/public-deb/",
                                {"settings": {"distributions": ["bookworm", "trixie"], "architectures": ["amd64"]}},
                                content_type="application/json", **owner.auth)
    assert response.status_code == 200, response.content
    repository.refresh_from_db()
    assert repository.settings["distributions"] == ["bookworm", "trixie"]
    # Both are published, signed and empty, before any upload; stable is not.
    for distribution in ("bookworm", "trixie"):
        release = Release(body(client.get(f"/repository/public-deb/dists/{distribution}/Release")))
        assert release["Suite"] == distribution and release["Components"] == "main"
        assert client.get(f"/repository/public-deb/dists/{distribution}/InRelease").status_code == 200
    assert client.get("/repository/public-deb/dists/stable/Release").status_code == 404
    sources = client.get("/repository/public-deb/public-deb.list").content.decode()
    assert " bookworm main\n" in sources and " trixie main\n" in sources and " stable " not in sources

    # An upload naming no distribution goes to the first.
    with django_capture_on_commit_callbacks(execute=True):
        assert put(client, "public-deb", build_deb(tmp_path, "first-dist", "1.0", "all"), writer).status_code == 201
    assert PackageFile.objects.get(repository=repository).metadata["distributions"] == ["bookworm"]
    packages = body(client.get("/repository/public-deb/dists/bookworm/main/binary-amd64/Packages")).decode()
    assert "Package: first-dist" in packages
    assert body(client.get("/repository/public-deb/dists/trixie/main/binary-amd64/Packages")) == b""

    bad = client.patch("/api/v1/repositories/public-deb/", {"settings": {"distributions": ["a/b"]}},
                       content_type="application/json", **owner.auth)
    assert bad.status_code == 400 and "Invalid distribution" in str(bad.json())


def test_oversized_upload(client, personas, deb_repos, tmp_path, settings):
    settings.MAX_UPLOAD_SIZE = 100
    response = put(client, "public-deb", build_deb(tmp_path, "big", "1.0"), personas["writer"])
    assert response.status_code == 413 and "limit of 100 bytes" in response.content.decode()
    assert not PackageFile.objects.exists()


def test_key_rotation_through_the_api(client, personas, deb_repos, tmp_path, django_capture_on_commit_callbacks):
    owner, reader = personas["owner"], personas["reader"]
    url = "/api/v1/repositories/public-deb/signing-keys/"
    [old] = client.get(url, **reader.auth).json()
    assert old["state"] == "primary" and old["public_key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert client.post(url, {"transition_days": 30}, content_type="application/json",
                       **reader.auth).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        put(client, "public-deb", build_deb(tmp_path, "signed", "1.0"), personas["writer"])
        response = client.post(url, {"algorithm": "rsa4096", "transition_days": 30},
                               content_type="application/json", **owner.auth)
    assert response.status_code == 201, response.content
    keys = {k["fingerprint"]: k for k in response.json()}
    new = next(k for k in keys.values() if k["state"] == "primary")
    assert keys[old["fingerprint"]]["state"] == "transition" and new["algorithm"] == "rsa4096"
    # key.asc serves both, and the republished InRelease is signed by both.
    served = client.get("/repository/public-deb/key.asc").content.decode()
    inrelease = body(client.get("/repository/public-deb/dists/stable/InRelease"))
    assert good_signers(inrelease, served) == {old["fingerprint"], new["fingerprint"]}
    assert good_signers(inrelease, old["public_key"]) == {old["fingerprint"]}
    bad = client.post(url, {"private_key": "nonsense"}, content_type="application/json", **owner.auth)
    assert bad.status_code == 400 and "Cannot use that key" in bad.json()["detail"]
    assert client.get("/api/v1/repositories/public-py/signing-keys/", **reader.auth).status_code == 400


def test_created_with_a_given_key(client, personas, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    from signing import gpg

    owner = personas["owner"]
    owner.user.user_permissions.add(Permission.objects.get(codename="add_repository"))
    material = gpg.generate("Our Org", "packages@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/repositories/", {"name": "keyed-deb", "format": "deb", "kind": "hosted",
                                                         "visibility": "public", "signing_key": material.private_armored},
                               content_type="application/json", **owner.auth)
    assert response.status_code == 201, response.content
    assert "signing_key" not in response.json()
    inrelease = body(client.get("/repository/keyed-deb/dists/stable/InRelease"))
    assert good_signers(inrelease, material.public_armored) == {material.fingerprint}

    bad = client.post("/api/v1/repositories/", {"name": "bad-key", "format": "deb", "kind": "hosted",
                                                "visibility": "public", "signing_key": "nonsense"},
                      content_type="application/json", **owner.auth)
    assert bad.status_code == 400 and not Repository.objects.filter(name="bad-key").exists()
    not_signed = client.post("/api/v1/repositories/", {"name": "py-key", "format": "pypi", "kind": "hosted",
                                                       "visibility": "public", "signing_key": material.private_armored},
                             content_type="application/json", **owner.auth)
    assert not_signed.status_code == 400 and not Repository.objects.filter(name="py-key").exists()


def test_a_twine_upload_into_an_apt_repository_is_refused(client, personas, deb_repos, tmp_path):
    from tests.fixtures.dists import build_wheel

    from .pypi_helpers import upload

    response = upload(client, "public-deb", build_wheel(tmp_path, "gamma", "0.1"), personas["writer"])
    assert response.status_code == 404 and "is not a APT endpoint" in response.reason_phrase
    assert not PackageFile.objects.exists()
