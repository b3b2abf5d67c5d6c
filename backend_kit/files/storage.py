"""Which Django storage holds the files, and what kind it is.

Files go to the ``STORAGES`` alias named by ``FILES["STORAGE"]``. When the host did
not configure that alias, a local-disk storage under ``MEDIA_ROOT`` is used (the
embedded default). Three kinds are told apart because they are written and served
differently: local disk (served by the app), S3 (django-storages; streamed as a
multipart upload, served by S3 or a CDN) and any other storage (written through its
``save()``, served from its ``url()``).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed

from . import settings as files_settings

FALLBACK_DIRECTORY = "backend_kit_files"

_fallback: dict[str, FileSystemStorage] = {}


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("MEDIA_ROOT", "STORAGES", "BACKEND_KIT"):
        _fallback.clear()


setting_changed.connect(_reset)


def current_alias() -> str:
    return str(files_settings.get("STORAGE"))


def alias_for(private: bool) -> str:
    """Where a new file goes: ``PRIVATE_STORAGE`` for private files when it is set."""
    if private and files_settings.get("PRIVATE_STORAGE"):
        return str(files_settings.get("PRIVATE_STORAGE"))
    return current_alias()


def alias_configured(alias: str) -> bool:
    return alias in (getattr(settings, "STORAGES", None) or {})


def fallback_location() -> str:
    return os.path.join(str(settings.MEDIA_ROOT or ""), FALLBACK_DIRECTORY)


def get_storage(alias: str | None = None) -> Storage:
    """The storage of ``alias`` (default: the configured one); local disk if unconfigured."""
    alias = alias or current_alias()
    if alias_configured(alias):
        return storages[alias]
    storage = _fallback.get(alias)
    if storage is None:
        # base_url is never used: the app builds the URLs of local files itself.
        storage = FileSystemStorage(location=fallback_location(), base_url="/")
        _fallback[alias] = storage
    return storage


def s3_storage_class() -> type | None:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # the "s3" extra is not installed
        return None
    return S3Storage


def is_s3(storage: Storage) -> bool:
    cls = s3_storage_class()
    return cls is not None and isinstance(storage, cls)


def is_local(storage: Storage) -> bool:
    """Local disk: the app serves these files itself (with Range and caching headers)."""
    return isinstance(storage, FileSystemStorage)


def object_key(storage: Storage, name: str) -> str:
    """The key a CDN in front of the storage sees (an S3 storage adds its ``location``)."""
    if is_s3(storage):
        from storages.utils import clean_name

        return storage._normalize_name(clean_name(name))  # type: ignore[attr-defined]
    return name
