"""The blob store: bytes kept under their sha256 on a Django storage (local disk or S3)."""

import os

from django.core.files import File
from django.core.files.move import file_move_safe
from django.core.files.storage import FileSystemStorage, storages


def blob_storage():
    return storages["blobs"]


def is_local(storage=None):
    return isinstance(storage or blob_storage(), FileSystemStorage)


def put(key, spooled):
    """Store a spooled file under `key` unless the bytes are already there.

    The key is derived from the content, so an existing object holds the same bytes.
    """
    storage = blob_storage()
    if storage.exists(key):
        return False
    if is_local(storage) and spooled.owned:
        # Same filesystem in the usual layout: a rename, not a copy.
        target = storage.path(key)
        _ensure_parent(target)
        file_move_safe(spooled.path, target, allow_overwrite=True)
        return True
    with spooled.open() as handle:
        # FileSystemStorage would rename a clash; content addressing makes a clash the same bytes.
        saved_as = storage.save(key, File(handle, name=key))
    if saved_as != key:
        # Another upload of the same bytes won the race; its copy is as good as ours.
        storage.delete(saved_as)
    return True


def open_blob(key):
    return blob_storage().open(key, "rb")


def delete(key):
    blob_storage().delete(key)


def exists(key):
    return blob_storage().exists(key)


def local_path(key):
    """The filesystem path of a blob, or None when the store is not local."""
    storage = blob_storage()
    return storage.path(key) if is_local(storage) else None


def _ensure_parent(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
