"""The admin (installations, push statuses, send-a-push with its audience preview),
``bk_sendpush``, the system checks, and the conformance mode's push settings."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.urls import reverse

from backend_kit.objects.models import ParseObject
from backend_kit.push import runner
from backend_kit.push.models import PushBatch
from backend_kit.push.transports.local import recorded
from tests.conftest import ParseClient

from .conftest import RECORDING, android_token, finished, ios_token, push_kit

SEND_URL = reverse("admin:backend_kit_push_send")
STATUSES_URL = reverse("admin:backend_kit_push_pushstatusobject_changelist")
INSTALLATIONS_URL = reverse("admin:backend_kit_push_installationobject_changelist")
PUSH_CHECKS = {f"backend_kit.E08{n}" for n in range(5)} | {f"backend_kit.W08{n}" for n in range(3)}


@pytest.fixture
def fleet(recording_push: None, api: ParseClient) -> dict[str, str]:
    ids = {}
    for name, kind, channels in (
        ("i1", "ios", ["news"]),
        ("i2", "ios", ["sport"]),
        ("a1", "android", ["news"]),
    ):
        token = ios_token() if kind == "ios" else android_token()
        body = {
            "installationId": name,
            "deviceType": kind,
            "deviceToken": token,
            "channels": channels,
        }
        ids[name] = api.post("installations", body).json_body["objectId"]
    return ids


def statuses() -> list[ParseObject]:
    return list(ParseObject.objects.filter(class_name="_PushStatus"))


def test_installations_admin_lists_and_filters(admin_client: Any, fleet: dict[str, str]) -> None:
    page = admin_client.get(INSTALLATIONS_URL, {"device_type": "ios"})
    assert page.status_code == 200
    shown = {obj.object_id for obj in page.context["cl"].result_list}
    assert shown == {fleet["i1"], fleet["i2"]}
    found = admin_client.get(INSTALLATIONS_URL, {"q": "sport"})
    assert [o.object_id for o in found.context["cl"].result_list] == [fleet["i2"]]
    row = ParseObject.objects.get(object_id=fleet["a1"])
    detail = admin_client.get(
        reverse("admin:backend_kit_push_installationobject_change", args=[row.pk])
    )
    assert "FCM device" in detail.content.decode()


def test_send_page_previews_the_audience_then_sends(
    admin_client: Any, fleet: dict[str, str]
) -> None:
    form = {"channels": "news", "alert": "Hello from the admin", "badge": "Increment", "where": ""}
    preview = admin_client.post(SEND_URL, {**form, "_preview": "1"})
    assert preview.status_code == 200
    assert preview.context["preview"] == {"total": 2, "types": [("android", 1), ("ios", 1)]}
    assert statuses() == []
    sent = admin_client.post(SEND_URL, {**form, "campaign": "spring", "_send": "1"})
    assert sent.status_code == 302
    (status_row,) = statuses()
    assert sent["Location"].endswith(f"/{status_row.object_id}/change/")
    data = finished(status_row.object_id)
    assert data["source"] == "admin" and data["title"] == "spring" and data["numSent"] == 2
    assert {r["installation"] for r in recorded(status_row.object_id)} == {fleet["i1"], fleet["a1"]}
    detail = admin_client.get(sent["Location"])
    assert detail.status_code == 200 and "succeeded" in detail.content.decode()
    listing = admin_client.get(STATUSES_URL)
    assert "Send a push" in listing.content.decode()


def test_send_page_shows_parse_errors(admin_client: Any, fleet: dict[str, str]) -> None:
    page = admin_client.post(SEND_URL, {"where": '{"nope": 1}', "alert": "x", "_preview": "1"})
    assert page.status_code == 200
    assert "nope is not a field of _Installation" in page.content.decode()
    both = admin_client.post(SEND_URL, {"channels": "a", "where": "{}", "_send": "1"})
    assert "Give channels or a query, not both." in both.content.decode()
    assert statuses() == []


def test_bk_sendpush_dry_run_send_and_user_target(fleet: dict[str, str], api: ParseClient) -> None:
    out = StringIO()
    call_command("bk_sendpush", "--channels", "news", "--alert", "hi", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "2 installation(s) would receive it (android: 1, ios: 1)."
    assert statuses() == []
    out = StringIO()
    call_command(
        "bk_sendpush", "--where", '{"deviceType": "ios"}', "--alert", "cmd", "--wait", stdout=out
    )
    status_id = out.getvalue().split("_PushStatus ")[1].split()[0]
    assert "succeeded: sent 2, failed 0" in out.getvalue()
    assert finished(status_id)["source"] == "command"

    signed = api.post(
        "users",
        {"username": "cy", "password": "pw-123456"},
        headers={"X-Parse-Installation-Id": "I1"},
    )
    assert signed.status_code == 201
    out = StringIO()
    call_command(
        "bk_sendpush", "--user", signed.json_body["objectId"], "--alert", "yours", stdout=out
    )
    status_id = out.getvalue().split("_PushStatus ")[1].split()[0]
    finished(status_id)
    assert [r["installation"] for r in recorded(status_id)] == [fleet["i1"]]
    with pytest.raises(CommandError, match="must be a JSON object"):
        call_command("bk_sendpush", "--where", "{}", "--data", "[]")
    with pytest.raises(CommandError, match="not a field"):
        call_command("bk_sendpush", "--where", '{"x": 1}', "--alert", "a")


def test_bk_sendpush_due_starts_scheduled_pushes(
    fleet: dict[str, str], master: ParseClient
) -> None:
    response = master.post(
        "push", {"channels": ["sport"], "data": {"alert": "x"}, "push_time": "2001-01-01T00:00:00Z"}
    )
    status_id = response.headers["X-Parse-Push-Status-Id"]
    finished(status_id)  # a past time: sent at once
    row = ParseObject.objects.get(object_id=status_id)
    # a scheduled push whose start was lost (the web process restarted)
    row.data = {**row.data, "status": "scheduled"}
    row.save()
    PushBatch.objects.filter(status_id=status_id).delete()
    out = StringIO()
    call_command("bk_sendpush", "--due", stdout=out)
    assert out.getvalue().startswith("Started 1 due push(es).")


def test_a_redelivered_batch_counts_once(fleet: dict[str, str], master: ParseClient) -> None:
    status_id = master.post("push", {"channels": ["news"], "data": {"alert": "x"}}).headers[
        "X-Parse-Push-Status-Id"
    ]
    finished(status_id)
    (batch,) = PushBatch.objects.filter(status_id=status_id)
    runner.run_batch(batch.pk)  # Celery hands the same message out again
    data = finished(status_id)
    assert data["numSent"] == 2 and len(recorded(status_id)) == 2


@pytest.mark.parametrize(
    ("push", "ids"),
    [
        ("nope", {"backend_kit.E080"}),
        ({"TRANSPORTS": {"ios": "apns"}}, {"backend_kit.E080"}),
        ({"TRANSPORTS": {"ios": {"BACKEND": "no.such.Transport"}}}, {"backend_kit.E081"}),
        ({"TRANSPORTS": {"ios": {"BACKEND": "builtins.dict"}}}, {"backend_kit.E081"}),
        (
            {"TRANSPORTS": {"ios": {"BACKEND": "backend_kit.push.transports.apns.APNsTransport"}}},
            {"backend_kit.E082"},
        ),
        ({"BATCH_SIZE": 0}, {"backend_kit.E083"}),
        ({"BATCH_SIZ": 10}, {"backend_kit.W080"}),
        ({"TRANSPORTS": {"ios": RECORDING}}, set()),
    ],
)
def test_checks(settings: Any, push: Any, ids: set[str]) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "PUSH": push}
    found = {m.id for m in run_checks() if m.id in PUSH_CHECKS}
    assert found == ids


def test_deploy_checks_name_local_and_missing_transports(settings: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "PUSH": {}}
    assert "backend_kit.W081" in {m.id for m in run_checks(include_deployment_checks=True)}
    push_kit(settings, {"ios": RECORDING})
    assert "backend_kit.W082" in {m.id for m in run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize("mode", ["1", "sdk"])
def test_conformance_modes_record_pushes(mode: str) -> None:
    from example_project.conformance import apply

    settings = {"BACKEND_KIT": {}, "INSTALLED_APPS": []}
    apply(settings, mode)
    transports = settings["BACKEND_KIT"]["PUSH"]["TRANSPORTS"]
    assert set(transports) >= {"ios", "android", "web"}
    assert {t["BACKEND"] for t in transports.values()} == {
        "backend_kit.push.transports.local.RecordingTransport"
    }


def test_migrations_are_complete(db: Any) -> None:
    out = StringIO()
    call_command("makemigrations", "backend_kit_push", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
