"""PRIVATE_STORAGE: private files go to their own storage (bucket or prefix)."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from django.test import Client, override_settings

from backend_kit.files.models import StoredFile
from tests.conftest import ParseClient


def _kit(**files):
    from django.conf import settings

    return {**settings.BACKEND_KIT, "FILES": {"ENABLE_FOR_PUBLIC": True, **files}}


def sdk_upload(name: str, data: bytes, metadata: dict | None = None) -> dict:
    """The JS SDK's form: text/plain JSON with the keys in the body."""
    body = {
        "_ApplicationId": "test-app",
        "_MasterKey": "test-master-key",
        "base64": base64.b64encode(data).decode(),
        "_ContentType": "text/plain",
        "fileData": {"metadata": metadata or {}, "tags": {}},
    }
    response = Client().post(f"/parse/files/{name}", orjson.dumps(body), content_type="text/plain")
    assert response.status_code == 201, response.content
    return orjson.loads(response.content)


def test_private_files_go_to_the_private_storage(tmp_path: Path, master: ParseClient) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "pub": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "pub")},
        },
        "priv": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "priv")},
        },
    }
    with override_settings(
        STORAGES=storages, BACKEND_KIT=_kit(STORAGE="pub", PRIVATE_STORAGE="priv")
    ):
        private = sdk_upload("secret.txt", b"secret", {"private": True})
        public = sdk_upload("open.txt", b"open")
    p_name, o_name = private["name"], public["name"]
    assert StoredFile.objects.get(name=p_name).storage_alias == "priv"
    assert StoredFile.objects.get(name=o_name).storage_alias == "pub"
    assert (tmp_path / "priv" / p_name).read_bytes() == b"secret"
    assert (tmp_path / "pub" / o_name).read_bytes() == b"open"
    assert not (tmp_path / "pub" / p_name).exists()
