"""The audit trail: every privileged change recorded, nothing a user did with their own rights."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from backend_kit.cloud import Object, define
from backend_kit.guardrails import retention
from backend_kit.guardrails.models import AppendOnlyError, AuditEntry
from backend_kit.objects.models import ParseObject
from tests.conftest import ParseClient

from .conftest import audit_mark, entries_after, sign_up


def summary(entries: list[AuditEntry]) -> list[tuple[str, str, str, str]]:
    return [(e.origin, e.target, e.action, e.class_name) for e in entries]


@pytest.fixture
def note_class(master: Any) -> None:
    r = master.post(
        "schemas/Note",
        {"className": "Note", "fields": {"text": {"type": "String"}, "done": {"type": "Boolean"}}},
    )
    assert r.status_code == 200, r.json_body


@pytest.fixture
def cloud_functions(cloud_code: Any) -> None:
    @define("noteAsMaster")
    def note_as_master(request: Any) -> str:
        note = Object("Note", {"text": "from cloud"}).save(auth=request, master=True)
        return note.id

    @define("noteAsCaller")
    def note_as_caller(request: Any) -> str:
        note = Object("Note", {"text": "caller's rights"}).save(auth=request)
        return note.id


def admin_edit(admin_client: Any, class_name: str, object_id: str, data: dict[str, Any]) -> None:
    obj = ParseObject.objects.get(class_name=class_name, object_id=object_id)
    url = reverse("admin:backend_kit_objects_parseobject_change", args=[obj.pk])
    form = {
        "data": json.dumps(data),
        "acl": json.dumps(obj.acl),
        "loaded_updated_at": obj.updated_at.isoformat(),
    }
    r = admin_client.post(url, form)
    assert r.status_code == 302, r.context["adminform"].form.errors


def test_every_privileged_change_is_recorded_and_no_user_change(
    master: Any, admin_client: Any, note_class: None, cloud_functions: None
) -> None:
    mark = audit_mark()
    # --- a user, with their own rights: nothing of this is recorded
    ann_id, ann = sign_up("ann")
    assert ann.post("login", {"username": "ann", "password": "pw-ann"}).status_code == 200
    mine = ann.post("classes/Note", {"text": "mine"}).json_body["objectId"]
    assert ann.put(f"classes/Note/{mine}", {"done": True}).status_code == 200
    assert ann.get(f"classes/Note/{mine}").status_code == 200
    assert ann.post("functions/noteAsCaller").status_code == 200
    assert (
        ann.post(
            "batch",
            {
                "requests": [
                    {"method": "POST", "path": "/parse/classes/Note", "body": {"text": "batched"}},
                ]
            },
        ).status_code
        == 200
    )
    assert ann.delete(f"classes/Note/{mine}").status_code == 200
    assert entries_after(mark) == []

    # --- the master key, cloud code as master, the admin
    assert (
        master.put(
            "schemas/Note",
            {
                "fields": {"score": {"type": "Number"}},
                "classLevelPermissions": {
                    "find": {"*": True},
                    "get": {"*": True},
                    "count": {"*": True},
                    "create": {"*": True},
                    "update": {"*": True},
                    "delete": {"*": True},
                    "addField": {},
                    "protectedFields": {"*": []},
                },
            },
        ).status_code
        == 200
    )
    by_master = master.post("classes/Note", {"text": "by master"}).json_body["objectId"]
    assert (
        master.put(f"classes/Note/{by_master}", {"text": "edited", "score": 2}).status_code == 200
    )
    assert master.put("config", {"params": {"welcome": "hello"}}).status_code == 200
    role = master.post("roles", {"name": "Moderators", "ACL": {"*": {"read": True}}})
    assert role.status_code == 201, role.json_body
    from_cloud = ann.post("functions/noteAsMaster").json_body["result"]
    admin_edit(admin_client, "Note", by_master, {"text": "fixed in the admin", "score": 3})
    assert (
        admin_client.post(reverse("admin:auth_group_add"), {"name": "Support"}).status_code == 302
    )
    assert master.delete(f"classes/Note/{from_cloud}").status_code == 200
    assert master.delete("purge/Note").status_code == 200

    found = entries_after(mark)
    assert summary(found) == [
        ("api", "schema", "update", "Note"),
        ("api", "clp", "update", "Note"),
        ("api", "object", "create", "Note"),
        ("api", "object", "update", "Note"),
        ("api", "config", "create", "_GlobalConfig"),
        ("api", "object", "create", "_Role"),
        ("cloud", "object", "create", "Note"),
        ("admin", "object", "update", "Note"),
        ("admin", "model", "create", "auth.group"),
        ("api", "object", "delete", "Note"),
        ("api", "request", "DELETE", "Note"),
    ]
    update = found[3]
    assert update.object_id == by_master
    assert update.before == {"text": "by master"}
    assert update.after == {"text": "edited", "score": 2}
    assert update.changes == {"text": "edited", "score": 2}
    assert update.master and update.ip == "127.0.0.1"
    cloud = found[6]
    assert (cloud.user_id, cloud.username, cloud.object_id) == (ann_id, "ann", from_cloud)
    admin = found[7]
    assert admin.username == "admin" and admin.before == {"score": 2, "text": "edited"}
    assert admin.after == {"score": 3, "text": "fixed in the admin"}
    assert found[8].after["name"] == "Support"
    schema = found[0]
    assert schema.before == {"fields": {}} and schema.after == {
        "fields": {"score": {"type": "Number"}}
    }
    assert found[1].after["addField"] == {}
    assert found[4].object_id == "welcome" and found[4].after == {
        "value": "hello",
        "masterKeyOnly": False,
    }
    assert found[10].path == "/parse/purge/Note"
    # nothing with a user's own rights, and no entry without a master or admin behind it
    assert all(e.master for e in found if e.target in ("object", "request", "model"))


def test_role_changes_are_recorded_whoever_makes_them(master: Any) -> None:
    ann_id, ann = sign_up("ann")
    mark = audit_mark()
    acl = {ann_id: {"read": True, "write": True}}
    role = ann.post("roles", {"name": "AnnsFriends", "ACL": acl})
    assert role.status_code == 201, role.json_body
    friend_id, _ = sign_up("bob")
    add = {
        "users": {
            "__op": "AddRelation",
            "objects": [{"__type": "Pointer", "className": "_User", "objectId": friend_id}],
        }
    }
    assert ann.put(f"roles/{role.json_body['objectId']}", add).status_code == 200
    found = entries_after(mark)
    assert summary(found) == [
        ("api", "object", "create", "_Role"),
        ("api", "object", "update", "_Role"),
    ]
    assert found[1].user_id == ann_id and not found[1].master
    assert found[1].changes == add


def test_master_batches_and_user_edits_are_recorded_one_by_one(
    master: Any, note_class: None
) -> None:
    ann_id, ann = sign_up("ann")
    mark = audit_mark()
    # ann changing her own user, with her own rights, is not recorded
    assert ann.put(f"users/{ann_id}", {"email": "ann@example.org"}).status_code == 200
    assert entries_after(mark) == []
    r = master.post(
        "batch",
        {
            "requests": [
                {"method": "POST", "path": "/parse/classes/Note", "body": {"text": "batched"}},
                {
                    "method": "PUT",
                    "path": f"/parse/users/{ann_id}",
                    "body": {"email": "ann@example.com", "password": "new-pw-1"},
                },
            ]
        },
    )
    assert r.status_code == 200 and all("success" in item for item in r.json_body), r.json_body
    found = entries_after(mark)
    assert summary(found) == [
        ("api", "object", "create", "Note"),
        ("api", "object", "update", "_User"),
    ]
    user = found[1]
    assert user.object_id == ann_id and user.after["email"] == "ann@example.com"
    assert user.before["email"] == "ann@example.org"
    assert "new-pw-1" not in json.dumps([user.before, user.after, user.changes])


def test_implicit_schema_changes_are_schema_changes(master: Any, note_class: None) -> None:
    _, ann = sign_up("ann")
    mark = audit_mark()
    assert ann.post("classes/Note", {"text": "x", "mood": "calm"}).status_code == 201
    (entry,) = entries_after(mark)
    assert summary([entry]) == [("api", "schema", "update", "Note")]
    assert entry.after == {"fields": {"mood": {"type": "String"}}} and not entry.master


def test_secrets_are_redacted(master: Any, guardrails: Any) -> None:
    mark = audit_mark()
    r = master.post("users", {"username": "cat", "password": "s3cret-pw"})
    assert r.status_code == 201, r.json_body
    guardrails(AUDIT_REDACT_FIELDS=["pin"])
    assert master.post("classes/Vault", {"pin": "4321", "label": "door"}).status_code == 201
    entries = entries_after(mark)
    text = json.dumps([[e.before, e.after, e.changes] for e in entries])
    assert "s3cret-pw" not in text and "4321" not in text
    vault = [e for e in entries if e.class_name == "Vault" and e.target == "object"][0]
    assert vault.after["pin"] == "<redacted>" and vault.after["label"] == "door"


def test_admin_model_changes_need_no_parse_at_all(
    admin_client: Any, django_user_model: Any
) -> None:
    staff = django_user_model.objects.create_user("helper", password="pw")
    mark = audit_mark()
    url = reverse("admin:auth_user_change", args=[staff.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None
        and k not in ("password", "groups", "user_permissions", "last_login", "date_joined")
    }
    data.update(
        {
            "username": "helper",
            "is_staff": "on",
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
        }
    )
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.context["adminform"].form.errors
    (entry,) = [e for e in entries_after(mark) if e.class_name.endswith(".user")]
    assert (entry.origin, entry.target, entry.action, entry.username) == (
        "admin",
        "model",
        "update",
        "admin",
    )
    assert entry.before["is_staff"] is False and entry.after["is_staff"] is True


# --- append-only, export, retention -------------------------------------------------------


def some_entries(master: Any, n: int = 3) -> list[AuditEntry]:
    mark = audit_mark()
    for i in range(n):
        assert master.post("classes/Log", {"i": i}).status_code == 201
    return [e for e in entries_after(mark) if e.target == "object"]


def test_entries_cannot_be_changed_or_deleted(master: Any) -> None:
    entry = some_entries(master, 1)[0]
    with pytest.raises(AppendOnlyError):
        entry.action = "forged"
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    # below the ORM, the database refuses too
    table = AuditEntry._meta.db_table
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(f"UPDATE {table} SET action = 'forged' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "create"


def age(entry: AuditEntry, days: int) -> None:
    """Back-date an entry, past the append-only trigger (a test's shortcut)."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER bk_gr_audit_append_only")
        else:
            cursor.execute("DROP TRIGGER bk_gr_audit_append_only")
        cursor.execute(
            f"UPDATE {table} SET at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=days), entry.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER bk_gr_audit_append_only")


def test_retention_clean_up_deletes_only_old_entries(master: Any, guardrails: Any) -> None:
    guardrails(AUDIT_RETENTION_DAYS=30)
    old, kept = some_entries(master, 2)
    age(old, 31)
    out = io.StringIO()
    call_command("bk_audit_cleanup", "--dry-run", stdout=out)
    assert out.getvalue().startswith("would delete 1 audit entries")
    call_command("bk_audit_cleanup", stdout=io.StringIO())
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=kept.pk).exists()
    assert retention.clean_up() == 0


def test_the_clean_up_as_a_cloud_job(master: Any, guardrails: Any, cloud_code: Any) -> None:
    guardrails(AUDIT_RETENTION_DAYS=30, AUDIT_CLEANUP_JOB="auditCleanup")
    retention.register_cleanup_job()
    assert cloud_code.jobs["auditCleanup"].handler is retention.cleanup_job
    old, kept = some_entries(master, 2)
    age(old, 40)
    assert (
        retention.cleanup_job(SimpleNamespace(params={"dry_run": True}))
        == "would delete 1 audit entries"
    )
    assert AuditEntry.objects.filter(pk=old.pk).exists()
    # the retention can be shortened for one run; the entry of today stays
    assert retention.cleanup_job(SimpleNamespace(params={"days": 35})) == "deleted 1 audit entries"
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=kept.pk).exists()


def test_export_as_json_lines_and_csv(master: Any, tmp_path: Any) -> None:
    entries = some_entries(master, 2)
    out = io.StringIO()
    call_command("bk_audit_export", "--class", "Log", "--target", "object", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [e.id for e in entries]
    assert rows[0]["after"]["i"] == 0 and rows[0]["origin"] == "api"
    path = tmp_path / "audit.csv"
    call_command(
        "bk_audit_export",
        "--format",
        "csv",
        "--class",
        "Log",
        "--target",
        "object",
        "-o",
        str(path),
        stderr=io.StringIO(),
    )
    lines = path.read_text().splitlines()
    assert lines[0].startswith("id,at,origin,target,action") and len(lines) == 3


def test_admin_lists_filters_and_exports(admin_client: Any, master: Any) -> None:
    entries = some_entries(master, 2)
    changelist = reverse("admin:backend_kit_guardrails_auditentry_changelist")
    r = admin_client.get(changelist, {"origin__exact": "api", "q": "Log"})
    assert r.status_code == 200
    assert {e.pk for e in r.context["cl"].result_list} >= {e.pk for e in entries}
    assert (
        admin_client.get(changelist, {"origin__exact": "admin", "q": "Log"})
        .context["cl"]
        .result_count
        == 0
    )
    detail = admin_client.get(
        reverse("admin:backend_kit_guardrails_auditentry_change", args=[entries[0].pk])
    )
    assert detail.status_code == 200 and "&quot;i&quot;: 0" in detail.content.decode()
    r = admin_client.post(
        changelist, {"action": "export_jsonl", "_selected_action": [e.pk for e in entries]}
    )
    assert r.status_code == 200
    lines = b"".join(r.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e.pk for e in entries]
    # read-only: no add, and no change or delete of an entry
    assert (
        admin_client.get(reverse("admin:backend_kit_guardrails_auditentry_add")).status_code == 403
    )
    r = admin_client.post(
        reverse("admin:backend_kit_guardrails_auditentry_delete", args=[entries[0].pk]),
        {"post": "yes"},
    )
    assert r.status_code == 403 and AuditEntry.objects.filter(pk=entries[0].pk).exists()


def test_disabled_audit_records_nothing(master: Any, guardrails: Any) -> None:
    guardrails(AUDIT_ENABLED=False)
    mark = audit_mark()
    assert master.post("classes/Log", {"i": 1}).status_code == 201
    assert master.put("config", {"params": {"x": 1}}).status_code == 200
    assert entries_after(mark) == []


def test_a_refused_write_leaves_no_entry(master: Any) -> None:
    mark = audit_mark()
    assert master.post("classes/Log", {"i": 1}).status_code == 201
    r = master.post("classes/Log", {"i": "not a number"})
    assert r.status_code == 400
    assert [e.action for e in entries_after(mark) if e.target == "object"] == ["create"]
    _ = ParseClient  # the module's clients are the fixtures'
