"""What Celery beat runs: the schedule names real tasks; expired tokens are removed after their
retention; each format's upkeep (Maven: SNAPSHOT builds beyond a lowered snapshot_keep)."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from registry import tasks
from registry.models import ApiToken, AuditEvent, PackageFile, Repository, RepositoryRole, Role
from registry.services import tokens

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_names_registered_tasks():
    from registry.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
        assert entry["schedule"] >= 60


def test_expired_and_revoked_tokens_go_after_their_retention(personas):
    user = personas["reader"].user
    now = timezone.now()
    old, _ = tokens.create_token(user, "old-revoked")
    old.revoked = now - datetime.timedelta(days=100)
    old.save()
    expired, _ = tokens.create_token(user, "long-expired")
    expired.expires = now - datetime.timedelta(days=95)
    expired.save()
    recent, _ = tokens.create_token(user, "revoked-yesterday")
    recent.revoked = now - datetime.timedelta(days=1)
    recent.save()
    active, _ = tokens.create_token(user, "in-use", expires_days=10)

    assert tasks.remove_expired_tokens() == 2
    left = set(ApiToken.objects.filter(user=user).values_list("name", flat=True))
    assert {"revoked-yesterday", "in-use"} <= left and not {"old-revoked", "long-expired"} & left
    removed = AuditEvent.objects.filter(action="token.remove")
    assert {event.detail["prefix"] for event in removed} == {old.prefix, expired.prefix}
    assert all(event.detail["retention_days"] == settings.TOKEN_RETENTION_DAYS for event in removed)


def test_format_maintenance_prunes_snapshots_to_a_lowered_setting(client, personas):
    repository = Repository.objects.create(name="nightly-mvn", format="maven", visibility="public",
                                           settings={"version_policy": "snapshot", "snapshot_keep": None})
    RepositoryRole.objects.create(repository=repository, user=personas["writer"].user, role=Role.WRITE)
    folder = "com/acme/lib/3.0-SNAPSHOT"
    for build in range(1, 4):
        response = client.put(f"/repository/nightly-mvn/{folder}/lib-3.0-20261125.00000{build}-{build}.jar",
                              f"b{build}".encode(), content_type="application/octet-stream",
                              **personas["writer"].auth)
        assert response.status_code == 201
    assert tasks.format_maintenance()["maven"] == {}  # nothing to keep to yet
    assert PackageFile.objects.filter(repository=repository).count() == 3

    repository.settings = {"version_policy": "snapshot", "snapshot_keep": 1}
    repository.save()
    assert tasks.format_maintenance()["maven"] == {"nightly-mvn": 2}
    assert list(PackageFile.objects.filter(repository=repository).values_list("filename", flat=True)) == [
        "lib-3.0-20261125.000003-3.jar"]
