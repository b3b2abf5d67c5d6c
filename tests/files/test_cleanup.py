"""``bk_files_cleanup`` and the clean-up job: orphans older than the grace period go."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from backend_kit.files import cleanup
from backend_kit.files.models import StoredFile
from tests.conftest import ParseClient

from .conftest import Backend
from .support import upload


def make(master: ParseClient, name: str, age_hours: float) -> str:
    r = upload(master, name, b"bytes of " + name.encode(), "text/plain")
    assert r.status_code == 201, r.json_body
    StoredFile.objects.filter(name=r.json_body["name"]).update(
        created_at=timezone.now() - timedelta(hours=age_hours)
    )
    return r.json_body["name"]


def ref(name: str) -> dict[str, str]:
    return {"__type": "File", "name": name}


@pytest.fixture
def files(backend: Backend, master: ParseClient) -> dict[str, str]:
    names = {
        "old_orphan": make(master, "old-orphan.txt", 48),
        "new_orphan": make(master, "new-orphan.txt", 1),
        "in_field": make(master, "in-field.txt", 48),
        "in_array": make(master, "in-array.txt", 48),
        "nested": make(master, "nested.txt", 48),
        "in_config": make(master, "in-config.txt", 48),
    }
    assert master.post("classes/Doc", {"f": ref(names["in_field"])}).status_code == 201
    assert master.post("classes/Doc", {"list": [1, ref(names["in_array"])]}).status_code == 201
    assert (
        master.post("classes/Other", {"o": {"deep": {"x": ref(names["nested"])}}}).status_code
        == 201
    )
    r = master.put("config", {"params": {"logo": ref(names["in_config"])}})
    assert r.status_code == 200, r.json_body
    return names


def test_dry_run_lists_and_keeps(backend: Backend, files: dict[str, str]) -> None:
    out = StringIO()
    call_command("bk_files_cleanup", "--no-progress", stdout=out)
    text = out.getvalue()
    assert f"would delete {files['old_orphan']}" in text
    assert "1 orphan files" in text and "dry run" in text
    assert all(backend.stored(name) is not None for name in files.values())
    assert StoredFile.objects.count() == len(files)


def test_delete_removes_old_orphans_only(backend: Backend, files: dict[str, str]) -> None:
    out = StringIO()
    call_command("bk_files_cleanup", "--delete", "--no-progress", stdout=out)
    assert "1 orphan files deleted" in out.getvalue()
    assert backend.stored(files["old_orphan"]) is None
    assert not StoredFile.objects.filter(name=files["old_orphan"]).exists()
    for key in ("new_orphan", "in_field", "in_array", "nested", "in_config"):
        assert backend.stored(files[key]) is not None, key


def test_grace_option(backend: Backend, files: dict[str, str]) -> None:
    call_command("bk_files_cleanup", "--delete", "--grace", "0", "--no-progress", stdout=StringIO())
    assert backend.stored(files["new_orphan"]) is None
    assert backend.stored(files["in_field"]) is not None
    with pytest.raises(CommandError):
        call_command("bk_files_cleanup", "--grace", "-1", stdout=StringIO())


def test_a_file_referenced_during_the_scan_is_kept(
    local: Backend, master: ParseClient, monkeypatch: Any
) -> None:
    name = make(master, "late.txt", 48)
    found = cleanup.find_orphans

    def find_then_reference(*args: Any, **kwargs: Any) -> Any:
        orphans = found(*args, **kwargs)
        master.post("classes/Late", {"f": ref(name)})  # saved after the scan
        return orphans

    monkeypatch.setattr(cleanup, "find_orphans", find_then_reference)
    report = cleanup.run(3600, delete=True)
    assert report.kept == [name] and report.deleted == []
    assert local.stored(name) is not None


@pytest.mark.django_db
def test_expired_direct_uploads_are_removed(local: Backend) -> None:
    StoredFile.objects.create(
        name="0" * 32 + "_pending.bin",
        storage_alias="backend_kit_files",
        status=StoredFile.Status.PENDING,
        upload_expires_at=timezone.now() - timedelta(days=3),
    )
    StoredFile.objects.create(
        name="1" * 32 + "_pending.bin",
        storage_alias="backend_kit_files",
        status=StoredFile.Status.PENDING,
        upload_expires_at=timezone.now() + timedelta(minutes=5),
    )
    report = cleanup.run(3600, delete=True)
    assert report.deleted == ["0" * 32 + "_pending.bin"]
    assert list(StoredFile.objects.values_list("status", flat=True)) == ["pending"]


def test_cleanup_as_a_job(local: Backend, master: ParseClient, settings: Any) -> None:
    from backend_kit.cloud.registry import registry
    from backend_kit.files.jobs import cleanup_job, register_cleanup_job

    name = make(master, "old.txt", 48)
    snapshot = registry.snapshot()
    try:
        with local.files(CLEANUP_JOB="bk_files_cleanup"):
            register_cleanup_job()
        assert registry.jobs["bk_files_cleanup"].handler is cleanup_job

        class Request:
            params: dict[str, Any] = {}

        assert cleanup_job(Request()) == "1 orphan files found (dry run)"
        Request.params = {"delete": True}
        assert cleanup_job(Request()).startswith("1 orphan files deleted")
        assert local.stored(name) is None
    finally:
        registry.restore(snapshot)
