"""Fixtures shared by every layer: the personas and a repository of each visibility.

Personas: owner (admin of the repositories), writer, reader, outsider (a user with no role),
anonymous. Each persona with a token has one of the scope its role needs.
"""

import pytest
from django.contrib.auth import get_user_model

from registry.models import Repository, RepositoryRole, Role
from registry.services import tokens


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Blobs and spooled uploads of each test in its own folder (overriding STORAGES makes
    Django drop its cached storage objects)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "blobs")},
        },
    }
    (tmp_path / "tmp").mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_download_counts_from_other_tests():
    """Counts kept in the process refer to files of the test that made them."""
    from registry.services import downloads

    downloads.discard_pending()
    yield
    downloads.discard_pending()


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Empty caches for each test. The throttle's counts live in this process's memory here (by
    default they are files under var/, which runs of the suite side by side would share), so a
    test's failed logins throttle no other test."""
    from django.core.cache import caches

    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"}}
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


class Persona:
    def __init__(self, user, secret):
        self.user = user
        self.token = secret

    @property
    def auth(self):
        """Headers for Django's test client."""
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


def _user(name, **extra):
    return get_user_model().objects.create_user(name, f"{name}@example.com", "pw-" + name, **extra)


@pytest.fixture
def repositories(db):
    private = Repository.objects.create(name="private-py", format="pypi", visibility="private")
    public = Repository.objects.create(name="public-py", format="pypi", visibility="public")
    return {"private": private, "public": public}


@pytest.fixture
def personas(db, repositories):
    people = {}
    for name, role, scope in [
        ("owner", Role.ADMIN, Role.ADMIN),
        ("writer", Role.WRITE, Role.WRITE),
        ("reader", Role.READ, Role.READ),
        ("outsider", None, Role.ADMIN),
    ]:
        user = _user(name)
        if role:
            for repository in repositories.values():
                RepositoryRole.objects.create(repository=repository, user=user, role=role)
        _token, secret = tokens.create_token(user, f"{name}-token", scope=scope)
        people[name] = Persona(user, secret)
    return people
