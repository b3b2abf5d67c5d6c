"""``/installations`` with Parse Server's rules, and the device records that follow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice

from backend_kit.objects.models import ParseObject
from backend_kit.push.installations import installations_of_user
from backend_kit.push.models import InstallationDevice
from tests.conftest import ParseClient

from .conftest import RECORDING, android_token, ios_token, push_kit

pytestmark = pytest.mark.django_db


def stored(object_id: str) -> dict[str, Any]:
    row = ParseObject.objects.get(class_name="_Installation", object_id=object_id)
    return {k: v for k, v in row.data.items() if not k.startswith("_")}


def installation_count() -> int:
    return ParseObject.objects.filter(class_name="_Installation").count()


def test_create_lowercases_ids_and_answers_like_a_create(api: ParseClient) -> None:
    token = ios_token().upper()
    created = api.post(
        "installations",
        {"installationId": "ABC-Def", "deviceType": "ios", "deviceToken": token, "channels": ["a"]},
    )
    assert created.status_code == 201
    assert set(created.json_body) == {"objectId", "createdAt"}
    assert created.headers["Location"].endswith(
        f"/parse/classes/_Installation/{created.json_body['objectId']}"
    )
    data = stored(created.json_body["objectId"])
    assert data["installationId"] == "abc-def"
    assert data["deviceToken"] == token.lower()


def test_a_create_with_a_known_installation_id_updates_it(api: ParseClient) -> None:
    first = api.post("installations", {"installationId": "dev-1", "deviceType": "android"})
    again = api.post("installations", {"installationId": "DEV-1", "channels": ["b"], "badge": 2})
    assert again.status_code == 200 and set(again.json_body) == {"updatedAt"}
    assert installation_count() == 1
    data = stored(first.json_body["objectId"])
    assert data["channels"] == ["b"] and data["badge"] == 2 and data["deviceType"] == "android"


def test_the_header_installation_id_is_used_and_kept(api: ParseClient) -> None:
    headers = {"X-Parse-Installation-Id": "From-Header"}
    created = api.post(
        "installations", {"deviceType": "android", "channels": ["x"]}, headers=headers
    )
    assert created.status_code == 201
    assert stored(created.json_body["objectId"])["installationId"] == "from-header"
    updated = api.post("classes/_Installation", {"channels": ["y"]}, headers=headers)
    assert updated.status_code == 200
    assert stored(created.json_body["objectId"])["channels"] == ["y"]


def test_a_session_created_with_an_installation_id_leads_to_its_installation(
    api: ParseClient,
) -> None:
    signed = api.post(
        "users",
        {"username": "ada", "password": "pw-123456"},
        headers={"X-Parse-Installation-Id": "ada-phone"},
    )
    assert signed.status_code == 201
    as_ada = ParseClient(session_token=signed.json_body["sessionToken"])
    # no installation id in the body nor in a header: the session's is used
    created = as_ada.post("installations", {"deviceType": "ios", "channels": ["ada"]})
    assert created.status_code == 201
    assert stored(created.json_body["objectId"])["installationId"] == "ada-phone"
    again = as_ada.post("installations", {"channels": ["ada", "vip"]})
    assert again.status_code == 200 and installation_count() == 1
    assert installations_of_user(signed.json_body["objectId"]) == ["ada-phone"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"deviceType": "ios", "channels": []},
            135,
            "at least one ID field (deviceToken, installationId) must be specified in this operation",
        ),
        ({"installationId": "x1"}, 135, "deviceType must be specified in this operation"),
    ],
)
def test_ids_and_type_are_required(api: ParseClient, body: Any, code: int, message: str) -> None:
    response = api.post("installations", body)
    assert (response.status_code, response.json_body) == (400, {"code": code, "error": message})
    assert installation_count() == 0


def test_installation_id_and_device_type_never_change(master: ParseClient) -> None:
    created = master.post("installations", {"installationId": "i-1", "deviceType": "android"})
    object_id = created.json_body["objectId"]
    changed_id = master.put(f"installations/{object_id}", {"installationId": "i-2"})
    assert changed_id.json_body == {
        "code": 136,
        "error": "installationId may not be changed in this operation",
    }
    changed_type = master.put(f"installations/{object_id}", {"deviceType": "ios"})
    assert changed_type.json_body == {
        "code": 136,
        "error": "deviceType may not be changed in this operation",
    }
    missing = master.put("installations/nope", {"deviceType": "ios"})
    assert (missing.status_code, missing.json_body["code"]) == (404, 101)


def test_a_device_token_belongs_to_one_installation(api: ParseClient) -> None:
    token = android_token()
    old = api.post(
        "installations", {"installationId": "old", "deviceType": "android", "deviceToken": token}
    )
    new = api.post(
        "installations", {"installationId": "new", "deviceType": "android", "deviceToken": token}
    )
    assert new.status_code == 201
    assert not ParseObject.objects.filter(object_id=old.json_body["objectId"]).exists()
    assert stored(new.json_body["objectId"])["deviceToken"] == token


def test_a_token_saved_without_id_merges_with_the_next_save(api: ParseClient) -> None:
    token = android_token()
    bare = api.post("installations", {"deviceType": "android", "deviceToken": token})
    merged = api.post(
        "installations",
        {"installationId": "late-id", "deviceType": "android", "deviceToken": token},
    )
    assert merged.status_code == 200 and installation_count() == 1
    assert stored(bare.json_body["objectId"])["installationId"] == "late-id"


def test_an_ambiguous_token_needs_an_installation_id(master: ParseClient) -> None:
    token = android_token()
    for installation_id in ("one", "two"):
        # the master key may store duplicates directly in the objects table's class
        ParseObject.objects.create(
            class_name="_Installation",
            object_id=installation_id.upper() * 3,
            data={"installationId": installation_id, "deviceType": "android", "deviceToken": token},
            read_principals={"*": True},
            write_principals={"*": True},
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
        )
    response = master.post("installations", {"deviceType": "android", "deviceToken": token})
    assert response.json_body == {
        "code": 132,
        "error": "Must specify installationId when deviceToken matches multiple Installation objects",
    }


def test_clients_may_not_list_or_delete_installations(
    api: ParseClient, master: ParseClient
) -> None:
    created = api.post("installations", {"installationId": "mine", "deviceType": "ios"})
    object_id = created.json_body["objectId"]
    assert api.get("installations").json_body == {"code": 119, "error": "Permission denied"}
    assert api.delete(f"installations/{object_id}").json_body["code"] == 119
    assert api.get(f"installations/{object_id}").json_body["installationId"] == "mine"
    assert api.put(f"installations/{object_id}", {"channels": ["c"]}).status_code == 200
    listed = master.get("installations", where={"channels": "c"})
    assert [o["objectId"] for o in listed.json_body["results"]] == [object_id]
    assert master.delete(f"installations/{object_id}").json_body == {}
    assert installation_count() == 0


@pytest.mark.django_db(transaction=True)  # records follow after commit
def test_device_records_follow_installations(api: ParseClient, master: ParseClient) -> None:
    token = ios_token()
    created = api.post(
        "installations", {"installationId": "phone", "deviceType": "ios", "deviceToken": token}
    )
    object_id = created.json_body["objectId"]
    link = InstallationDevice.objects.get(installation=object_id)
    assert link.kind == "apns" and link.apns.registration_id == token and link.apns.active
    new_token = ios_token()
    api.put(f"installations/{object_id}", {"deviceToken": new_token})
    device = APNSDevice.objects.get(pk=link.apns_id)
    assert device.registration_id == new_token and device.active
    api.put(f"installations/{object_id}", {"deviceToken": {"__op": "Delete"}})
    assert APNSDevice.objects.get(pk=link.apns_id).active is False
    master.delete(f"installations/{object_id}")
    assert not APNSDevice.objects.filter(pk=link.apns_id).exists()
    assert not InstallationDevice.objects.exists()


@pytest.mark.django_db(transaction=True)  # records follow after commit
def test_each_type_has_its_own_record_and_purge_removes_them(master: ParseClient) -> None:
    subscription = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
    }
    master.post(
        "installations",
        {"installationId": "a", "deviceType": "android", "deviceToken": android_token()},
    )
    master.post(
        "installations",
        {"installationId": "w", "deviceType": "web", "deviceToken": json.dumps(subscription)},
    )
    master.post("installations", {"installationId": "e", "deviceType": "embedded"})
    assert GCMDevice.objects.get().cloud_message_type == "FCM"
    web = WebPushDevice.objects.get()
    assert (web.registration_id, web.auth, web.browser) == (
        subscription["endpoint"],
        "A" * 22,
        "CHROME",
    )
    assert InstallationDevice.objects.count() == 2  # "embedded" has no push provider
    assert master.delete("purge/_Installation").status_code == 200
    assert not GCMDevice.objects.exists() and not WebPushDevice.objects.exists()
    assert not InstallationDevice.objects.exists()


@pytest.mark.django_db(transaction=True)  # records follow after commit
def test_the_device_user_follows_the_installation_user(api: ParseClient) -> None:
    from django.contrib.auth import get_user_model

    signed = api.post("users", {"username": "bo", "password": "pw-123456"})
    as_bo = ParseClient(session_token=signed.json_body["sessionToken"])
    pointer = {"__type": "Pointer", "className": "_User", "objectId": signed.json_body["objectId"]}
    as_bo.post(
        "installations",
        {
            "installationId": "bo-1",
            "deviceType": "ios",
            "deviceToken": ios_token(),
            "user": pointer,
        },
    )
    device = APNSDevice.objects.get()
    assert device.user == get_user_model().objects.get(username="bo")


def test_tokens_are_checked_by_the_types_transport(settings: Any, api: ParseClient) -> None:
    push_kit(
        settings,
        {
            "ios": {"BACKEND": "backend_kit.push.transports.apns.APNsTransport", "OPTIONS": {}},
            "web": {
                "BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
                "OPTIONS": {},
            },
            "android": RECORDING,
        },
    )
    bad_ios = api.post(
        "installations", {"installationId": "i", "deviceType": "ios", "deviceToken": "not-hex"}
    )
    assert bad_ios.json_body == {
        "code": 142,
        "error": "Invalid deviceToken for ios: an APNs device token is 64 or more hexadecimal digits",
    }
    bad_web = api.post(
        "installations",
        {"installationId": "w", "deviceType": "web", "deviceToken": '{"endpoint": "http://x"}'},
    )
    assert bad_web.json_body["code"] == 142
    assert "https URL" in bad_web.json_body["error"]
    assert installation_count() == 0
    # the recording transport takes anything (the Parse SDK suite saves "1234")
    ok = api.post(
        "installations", {"installationId": "a", "deviceType": "android", "deviceToken": "1234"}
    )
    assert ok.status_code == 201
    created = api.post(
        "installations", {"installationId": "i2", "deviceType": "ios", "deviceToken": ios_token()}
    )
    bad_update = api.put(
        f"installations/{created.json_body['objectId']}",
        {"deviceToken": "zz", "installationId": "i2"},
    )
    assert bad_update.json_body["code"] == 142


def test_classes_route_uses_the_same_rules(api: ParseClient) -> None:
    api.post("classes/_Installation", {"installationId": "same", "deviceType": "ios"})
    again = api.post("classes/_Installation", {"installationId": "SAME", "badge": 1})
    assert again.status_code == 200 and installation_count() == 1


@pytest.mark.django_db(transaction=True)
def test_imported_installations_get_device_records(tmp_path: Any, admin_client: Any) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.urls import reverse

    token = ios_token()
    path = tmp_path / "_Installation.json"
    path.write_text(
        json.dumps(
            {
                "results": [
                    {
                        "objectId": "imported01",
                        "installationId": "imp",
                        "deviceType": "ios",
                        "deviceToken": token,
                    },
                    {"objectId": "imported02", "installationId": "imp2", "deviceType": "android"},
                ]
            }
        )
    )
    call_command("bk_import", str(path), stdout=StringIO(), stderr=StringIO(), no_progress=True)
    link = InstallationDevice.objects.get(installation="imported01")
    assert link.apns.registration_id == token and link.apns.active
    assert InstallationDevice.objects.get(installation="imported02").fcm.active is False
    # the admin re-syncs records that drifted (here: a record deleted by hand)
    link.apns.delete()
    page = reverse("admin:backend_kit_push_installationobject_changelist")
    pks = list(ParseObject.objects.filter(class_name="_Installation").values_list("pk", flat=True))
    admin_client.post(page, {"action": "resync_devices", "_selected_action": pks})
    assert InstallationDevice.objects.get(installation="imported01").apns.registration_id == token
