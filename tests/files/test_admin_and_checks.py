"""The files admin (as a logged-in superuser uses it) and the files system checks."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import reverse

from backend_kit.files.models import StoredFile
from tests.conftest import ParseClient
from tests.support import kit

from .conftest import Backend
from .support import upload

CHANGELIST = "admin:backend_kit_files_storedfile_changelist"


def saved(master: ParseClient, name: str, data: bytes = b"x" * 2048, **headers: str) -> str:
    r = upload(master, name, data, "image/png", headers or None)
    assert r.status_code == 201, r.json_body
    return r.json_body["name"]


def test_changelist_shows_size_type_owner_references_and_preview(
    local: Backend, master: ParseClient, admin_client: Any
) -> None:
    used = saved(master, "used.png")
    orphan = saved(master, "orphan.png")
    for _ in range(2):
        master.post("classes/Doc", {"f": {"__type": "File", "name": used}})
    page = admin_client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    rows = {r.name: r for r in page.context["cl"].result_list}
    assert rows[used]._bk_references and len(rows[used]._bk_references) == 2
    assert rows[orphan]._bk_references == []
    text = html.unescape(page.content.decode())
    assert "2.0 KiB" in text and "image/png" in text
    assert f"http://testserver/parse/files/test-app/{used}" in text


def test_detail_page_links_the_referencing_objects(
    local: Backend, master: ParseClient, admin_client: Any
) -> None:
    name = saved(master, "pic.png")
    object_id = master.post("classes/Doc", {"f": {"__type": "File", "name": name}}).json_body[
        "objectId"
    ]
    record = StoredFile.objects.get(name=name)
    page = admin_client.get(reverse("admin:backend_kit_files_storedfile_change", args=[record.pk]))
    text = html.unescape(page.content.decode())
    assert f"Doc/{object_id}" in text and "/admin/backend_kit_objects/parseobject/" in text
    assert "<img src=" in text


def test_deleting_in_the_admin_removes_the_bytes(
    backend: Backend, master: ParseClient, admin_client: Any
) -> None:
    one, two, three = (saved(master, f"{n}.png") for n in ("one", "two", "three"))
    record = StoredFile.objects.get(name=one)
    url = reverse("admin:backend_kit_files_storedfile_delete", args=[record.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert backend.stored(one) is None and not StoredFile.objects.filter(name=one).exists()
    pks = list(StoredFile.objects.filter(name__in=[two, three]).values_list("pk", flat=True))
    r = admin_client.post(
        reverse(CHANGELIST), {"action": "delete_with_bytes", "_selected_action": pks}
    )
    assert r.status_code == 302
    assert backend.everything() == [] and not StoredFile.objects.exists()


# --- system checks --------------------------------------------------------------------


def found(check_id: str, *, deploy: bool = False) -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=deploy) if m.id == check_id]


def test_the_test_project_has_no_files_findings() -> None:
    assert [m.id for m in run_checks() if m.id.startswith("backend_kit.") and "07" in m.id] == []


@pytest.mark.parametrize(
    "files,check_id",
    [
        (["not", "a", "dict"], "backend_kit.E070"),
        ({"STORAGE": "nope"}, "backend_kit.E071"),
        ({"MAX_SIZE": 0}, "backend_kit.E072"),
        ({"SIGNED_URL_TTL": "1h"}, "backend_kit.E072"),
        ({"CLEANUP_GRACE": -1}, "backend_kit.E072"),
        ({"EXTENSIONS": "png"}, "backend_kit.E073"),
        ({"EXTENSIONS": ["(unclosed"]}, "backend_kit.E073"),
        ({"CLOUDFRONT_KEY_ID": "K1"}, "backend_kit.E074"),
        ({"ALLOWED_CONTENT_TYPES": "image/*"}, "backend_kit.E075"),
        ({"UPLOAD_ROLES": [1]}, "backend_kit.E075"),
        ({"MAX_SIZ": 10}, "backend_kit.W070"),
    ],
)
def test_check_ids(files: Any, check_id: str) -> None:
    with override_settings(BACKEND_KIT=kit(FILES=files)):
        messages = found(check_id)
    assert len(messages) == 1, [m.id for m in run_checks()]


def test_e076_storage_cannot_be_loaded() -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "backend_kit_files": {"BACKEND": "no.such.Storage"},
    }
    with override_settings(STORAGES=storages):
        assert len(found("backend_kit.E076")) == 1


def test_w071_files_relative_to_the_working_directory() -> None:
    with override_settings(MEDIA_ROOT=""):
        assert len(found("backend_kit.W071", deploy=True)) == 1
        assert found("backend_kit.W071") == []
    with override_settings(MEDIA_ROOT="/srv/media"):
        assert found("backend_kit.W071", deploy=True) == []
