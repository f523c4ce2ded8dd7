"""Decompression bombs through the real endpoints, one per archive type a format opens: each
is answered 4xx with the reason where its client prints it, leaves nothing stored (no rows, no
blobs, no spooled files) and costs the worker bounded memory and CPU.

Memory is the process's peak resident size during the request (Linux's VmHWM, reset through
/proc/self/clear_refs), so what the C decompressors allocate counts too; elsewhere the peak of
Python's allocations (tracemalloc). The review's .deb took a worker from 91 MB to 603 MB.
"""

import base64
import json
import re
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import (
    AuditEvent,
    Blob,
    Package,
    PackageFile,
    PackageVersion,
    Repository,
    RepositoryRole,
    Role,
)
from tests.fixtures import bombs
from tests.fixtures.debs import build_ar
from tests.fixtures.dists import build_wheel, core_metadata
from tests.fixtures.rpms import build_rpm
from tests.integration.pypi_helpers import upload

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
MAX_GROWTH = 40 * MiB
MAX_CPU_SECONDS = 1.5
MANIFEST = json.dumps({"name": "bomb", "version": "1.0.0"}).encode()
CONTROL = b"Package: bomb\nVersion: 1.0\nArchitecture: all\nDescription: x\n"


class Cost:
    """Peak memory growth (bytes) and CPU seconds of what runs inside the block."""

    def __enter__(self):
        self._rss = _reset_peak_rss()
        if self._rss is None:
            tracemalloc.start()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.cpu = time.process_time() - self._cpu
        if self._rss is None:
            self.growth = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            self.growth = _status_kib("VmHWM") * 1024 - self._rss
        return False

    def assert_bounded(self):
        assert self.growth < MAX_GROWTH, f"memory grew {self.growth / MiB:.0f} MiB"
        assert self.cpu < MAX_CPU_SECONDS, f"{self.cpu:.2f} s of CPU"


def _status_kib(field):
    return int(re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M).group(1))


def _reset_peak_rss():
    """The resident size now, after resetting the peak to it; None where Linux's interface is
    missing."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kib("VmRSS") * 1024
    except (OSError, AttributeError):
        return None


@pytest.fixture
def repos(personas):
    made = {}
    for fmt in ("npm", "deb", "rpm"):
        repository = Repository.objects.create(name=f"bombs-{fmt}", format=fmt, visibility="private")
        RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
        made[fmt] = repository
    return made


@pytest.fixture
def nothing_stored(tmp_path):
    """After the test: no package rows, no blobs in the store, no spooled upload left behind."""
    events = AuditEvent.objects.count()
    yield
    assert not Package.objects.exists()
    assert not PackageVersion.objects.exists()
    assert not PackageFile.objects.exists()
    assert not Blob.objects.exists()
    assert AuditEvent.objects.count() == events
    blobs = tmp_path / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]
    assert not list((tmp_path / "tmp").iterdir())


def finished(response):
    """The request over as in a server, where a multipart upload's temporary file is deleted
    when the request is dropped; here the test's log capture keeps the request (and through
    its upload handler, the file) alive, so the file is closed, which deletes it."""
    for handler in response.wsgi_request.upload_handlers:
        if getattr(handler, "file", None) is not None:
            handler.file.close()
    return response


def _reason(response):
    return response.reason_phrase + " " + response.content.decode("utf-8", "replace")


# --- PyPI: sdist (.tar.gz), wheel and zip sdist ------------------------------------------------


def test_an_sdist_of_a_gib_of_zeros(client, personas, tmp_path, nothing_stored):
    path = tmp_path / "alpha-1.0.tar.gz"
    path.write_bytes(bombs.tar_bomb("gz", first={"alpha-1.0/PKG-INFO": core_metadata("alpha", "1.0")}))
    assert path.stat().st_size < 1.2 * MiB
    with Cost() as cost:
        response = finished(upload(client, "private-py", path, personas["writer"]))
    assert response.status_code == 400
    assert "expands more than 100 times its compressed size" in response.reason_phrase
    cost.assert_bounded()


def _wheel_members(tmp_path):
    (tmp_path / "src").mkdir()
    wheel = build_wheel(tmp_path / "src", "alpha", "1.0")
    with zipfile.ZipFile(wheel) as archive:
        return wheel.name, {name: archive.read(name) for name in archive.namelist()}


def test_a_wheel_declaring_a_bomb(client, personas, tmp_path, nothing_stored):
    name, members = _wheel_members(tmp_path)
    path = bombs.zip_bomb(tmp_path / name, members, zeros_name="alpha/zeros.bin", size=128 * MiB)
    with Cost() as cost:
        response = finished(upload(client, "private-py", path, personas["writer"]))
    assert response.status_code == 400
    assert "expands more than 100 times" in response.reason_phrase
    cost.assert_bounded()


def test_a_wheel_of_too_many_entries(client, personas, tmp_path, settings, nothing_stored):
    settings.ARCHIVE_MAX_MEMBERS = 1000
    name, members = _wheel_members(tmp_path)
    path = bombs.zip_of_many(tmp_path / name, members, 20_000)
    with Cost() as cost:
        response = finished(upload(client, "private-py", path, personas["writer"]))
    assert response.status_code == 400
    assert "more than 1000 members" in response.reason_phrase
    cost.assert_bounded()


def test_a_zip_sdist_through_the_rest_api(client, personas, tmp_path, nothing_stored):
    path = bombs.zip_bomb(tmp_path / "alpha-1.0.zip", {"alpha-1.0/PKG-INFO": core_metadata("alpha", "1.0")},
                          zeros_name="alpha-1.0/zeros.bin", size=128 * MiB)
    form = {"file": SimpleUploadedFile(path.name, path.read_bytes())}
    with Cost() as cost:
        response = finished(client.post("/api/v1/repositories/private-py/upload/", form,
                                         **personas["writer"].auth))
    assert response.status_code == 400
    assert "expands more than 100 times" in response.json()["detail"]
    cost.assert_bounded()


# --- npm: the tarball of a publish, and through the REST API ----------------------------------


def _publish(client, persona, tarball):
    document = {
        "_id": "bomb", "name": "bomb", "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": "bomb", "version": "1.0.0"}},
        "_attachments": {"bomb-1.0.0.tgz": {"content_type": "application/octet-stream",
                                            "data": base64.b64encode(tarball).decode(),
                                            "length": len(tarball)}},
    }
    return client.put("/repository/bombs-npm/bomb", json.dumps(document),
                      content_type="application/json", **persona.auth)


def test_an_npm_tarball_of_a_gib_of_zeros(client, personas, repos, nothing_stored):
    tarball = bombs.tar_bomb("gz", first={"package/package.json": MANIFEST})
    with Cost() as cost:
        response = finished(_publish(client, personas["writer"], tarball))
    assert response.status_code == 400
    assert "expands more than 100 times" in response.json()["error"]
    cost.assert_bounded()


def test_an_npm_tarball_of_too_many_members(client, personas, repos, settings, nothing_stored):
    settings.ARCHIVE_MAX_MEMBERS = 2000
    tarball = bombs.many_members_tar(2001, "gz")
    with Cost() as cost:
        response = finished(_publish(client, personas["writer"], tarball))
    assert response.status_code == 400
    assert "more than 2000 members" in response.json()["error"]
    cost.assert_bounded()


def test_an_npm_tarball_through_the_rest_api(client, personas, repos, nothing_stored):
    tarball = bombs.tar_bomb("gz", first={"package/package.json": MANIFEST})
    form = {"file": SimpleUploadedFile("bomb-1.0.0.tgz", tarball)}
    with Cost() as cost:
        response = finished(client.post("/api/v1/repositories/bombs-npm/upload/", form,
                                         **personas["writer"].auth))
    assert response.status_code == 400
    assert "expands more than 100 times" in response.json()["detail"]
    cost.assert_bounded()


# --- deb: control.tar in each compression dpkg accepts, and the ar container ------------------


def _put(client, persona, repository, path):
    content_type = "application/x-rpm" if path.name.endswith(".rpm") else \
        "application/vnd.debian.binary-package"
    return client.put(f"/repository/{repository}/{path.name}", path.read_bytes(),
                      content_type=content_type, **persona.auth)


@pytest.mark.parametrize("compression", ["gz", "xz", "zst"])
def test_a_deb_whose_control_member_expands_without_bound(client, personas, repos, tmp_path,
                                                          compression, nothing_stored):
    member = f"control.tar.{compression}"
    path = build_ar(tmp_path / "bomb_1.0_all.deb", {
        "debian-binary": b"2.0\n",
        member: bombs.tar_bomb(compression, first={"./control": CONTROL}, name="./md5sums"),
        "data.tar.gz": bombs.compress(bombs.END_OF_TAR, "gz"),
    })
    assert path.stat().st_size < 1.2 * MiB
    with Cost() as cost:
        response = finished(_put(client, personas["writer"], "bombs-deb", path))
    assert response.status_code == 400
    assert f"{member}: the archive expands more than 100 times" in _reason(response)
    cost.assert_bounded()


def test_a_deb_of_many_ar_members(client, personas, repos, tmp_path, nothing_stored):
    path = build_ar(tmp_path / "bomb_1.0_all.deb",
                    {"debian-binary": b"2.0\n", **{f"_m{n}": b"" for n in range(20_000)}})
    with Cost() as cost:
        response = finished(_put(client, personas["writer"], "bombs-deb", path))
    assert response.status_code == 400
    assert "more than 64 ar members" in _reason(response)
    cost.assert_bounded()


# --- rpm: the payload, judged by the size its header declares --------------------------------


def test_an_rpm_declaring_a_bomb_payload(client, personas, repos, tmp_path, nothing_stored):
    path = build_rpm(tmp_path, "zed", "1.0", zeros={"/opt/zed/zeros": 64 * MiB})
    with Cost() as cost:
        response = finished(_put(client, personas["writer"], "bombs-rpm", path))
    assert response.status_code == 400
    assert "the archive expands more than 100 times" in _reason(response)
    cost.assert_bounded()
