"""``POST /push``: the request, the audience, the status record, the badge, the batches.

These run with the recording transport (what the conformance mode uses); the real
providers are in ``test_providers.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend_kit.objects.models import ParseObject
from backend_kit.push.models import PushBatch
from backend_kit.push.transports.local import recorded
from tests.conftest import ParseClient

from .conftest import RECORDING, android_token, finished, ios_token, push_kit

pytestmark = pytest.mark.usefixtures("recording_push")

STATUS_HEADER = "X-Parse-Push-Status-Id"


def install(api: ParseClient, installation_id: str, device_type: str, **fields: Any) -> str:
    token = {"ios": ios_token, "android": android_token}.get(device_type, ios_token)()
    body = {"installationId": installation_id, "deviceType": device_type, "deviceToken": token}
    response = api.post("installations", {**body, **fields})
    assert response.status_code == 201, response.json_body
    return response.json_body["objectId"]


def push(master: ParseClient, body: dict[str, Any]) -> str:
    response = master.post("push", body)
    assert response.status_code == 200, response.json_body
    assert response.json_body == {"result": True}
    return response.headers[STATUS_HEADER]


def receivers(status_id: str) -> dict[str, dict[str, Any]]:
    return {r["installation"]: r["data"] for r in recorded(status_id)}


def badge_of(object_id: str) -> Any:
    return ParseObject.objects.get(class_name="_Installation", object_id=object_id).data.get(
        "badge"
    )


def test_a_channel_push_reaches_its_channel_and_is_recorded(api: Any, master: Any) -> None:
    news_ios = install(api, "n1", "ios", channels=["news"])
    news_android = install(api, "n2", "android", channels=["news", "sport"])
    sport = install(api, "s1", "ios", channels=["sport"])
    install(api, "silent", "ios", channels=["news"], deviceToken={"__op": "Delete"})
    status_id = push(master, {"channels": ["news"], "data": {"alert": "Hello", "sound": "ping"}})

    data = finished(status_id)
    assert set(receivers(status_id)) == {news_ios, news_android}
    assert sport not in receivers(status_id)
    assert receivers(status_id)[news_ios] == {"alert": "Hello", "sound": "ping"}
    public = master.get(f"classes/_PushStatus/{status_id}").json_body
    assert public["status"] == "succeeded" and "count" not in public
    assert public["numSent"] == 2 and "numFailed" not in public
    assert public["sentPerType"] == {"ios": 1, "android": 1}
    assert public["query"] == '{"channels":{"$in":["news"]}}'
    assert public["payload"] == '{"alert":"Hello","sound":"ping"}'
    assert public["source"] == "rest" and public["pushHash"] == "8b1a9953c4611296a827abf8c47804d7"
    assert public["pushTime"].endswith("Z") and public["ACL"] == {}
    assert not any(key.startswith("_") for key in public)
    assert data["status"] == "succeeded"


def test_a_where_push_reaches_exactly_its_audience(api: Any, master: Any) -> None:
    en = install(api, "en", "ios", localeIdentifier="en-GB", badge=1)
    install(api, "fr", "android", localeIdentifier="fr-FR", badge=5)
    install(api, "old", "ios", localeIdentifier="en-US", badge=0, appVersion="1.0")
    status_id = push(
        master,
        {
            "where": {"badge": {"$gte": 1}, "deviceType": "ios"},
            "data": {"alert": "Hi", "alert-fr": "Salut", "title": "T", "title-en": "Title"},
        },
    )
    finished(status_id)
    assert receivers(status_id) == {en: {"alert": "Hi", "title": "Title"}}


def test_locale_alerts_and_the_default(api: Any, master: Any) -> None:
    fr = install(api, "fr", "android", localeIdentifier="fr-CA")
    de = install(api, "de", "android", localeIdentifier="de-DE")
    status_id = push(master, {"where": {}, "data": {"alert": "Hi", "alert-fr": "Salut"}})
    finished(status_id)
    assert receivers(status_id) == {fr: {"alert": "Salut"}, de: {"alert": "Hi"}}


def test_badge_increments_are_applied_in_the_database(api: Any, master: Any) -> None:
    a = install(api, "a", "ios", channels=["c"], badge=3)
    b = install(api, "b", "ios", channels=["c"])
    # one after the other: SQLite's shared in-memory test database has no lock waits
    first = push(master, {"channels": ["c"], "data": {"alert": "x", "badge": "Increment"}})
    finished(first)
    second = push(
        master, {"channels": ["c"], "data": {"badge": {"__op": "Increment", "amount": 5}}}
    )
    finished(second)
    assert (badge_of(a), badge_of(b)) == (9, 6)
    assert receivers(first)[a]["badge"] == 4 and receivers(first)[b]["badge"] == 1
    assert receivers(second)[a]["badge"] == 9
    third = push(master, {"channels": ["c"], "data": {"badge": 0}})
    finished(third)
    assert (badge_of(a), badge_of(b)) == (0, 0)
    assert receivers(third)[b] == {"badge": 0}


def test_the_audience_is_sent_in_batches_each_counted_once(
    settings: Any, api: Any, master: Any
) -> None:
    push_kit(settings, dict.fromkeys(("ios", "android"), RECORDING), BATCH_SIZE=2)
    ids = [install(api, f"i{n}", "ios" if n % 2 else "android", channels=["all"]) for n in range(5)]
    status_id = push(master, {"channels": ["all"], "data": {"alert": "batched"}})
    data = finished(status_id)
    assert set(receivers(status_id)) == set(ids)
    assert len(recorded(status_id)) == 5
    batches = list(PushBatch.objects.filter(status_id=status_id).order_by("seq"))
    assert [(b.state, b.sent) for b in batches] == [("done", 2), ("done", 2), ("done", 1)]
    assert batches[-1].upto == "" and batches[0].after == ""
    assert data["numSent"] == 5 and data["sentPerType"] == {"ios": 2, "android": 3}


def test_types_without_a_transport_count_as_failed(settings: Any, api: Any, master: Any) -> None:
    push_kit(settings, {"ios": RECORDING})
    sent = install(api, "i", "ios")
    install(api, "a", "android")
    status_id = push(master, {"where": {}, "data": {"alert": "x"}})
    data = finished(status_id)
    assert set(receivers(status_id)) == {sent}
    assert data["status"] == "succeeded"
    assert (data["sentPerType"], data["failedPerType"]) == ({"ios": 1}, {"android": 1})


def test_an_empty_audience_succeeds_at_once(master: Any) -> None:
    status_id = push(master, {"where": {"deviceType": {"$eq": "random"}}, "data": {"alert": "x"}})
    data = finished(status_id)
    assert data["status"] == "succeeded" and data["numSent"] == 0


# --- bad input: a clear error, and nothing written, sent or changed --------------------


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"data": {"alert": "x"}},
            115,
            'Sending a push requires either "channels" or a "where" query.',
        ),
        (
            {"channels": ["a"], "where": {}, "data": {}},
            115,
            "Channels and query can not be set at the same time.",
        ),
        (
            {"channels": [], "data": {}},
            115,
            "channels must be a non-empty array of channel names.",
        ),
        ({"where": "x", "data": {}}, 102, "Invalid where clause: must be a JSON object"),
        (
            {"where": {"chanels": "a"}, "data": {}},
            102,
            "Invalid where: chanels is not a field of _Installation.",
        ),
        (
            {"where": {"$or": [{"deviceType": "ios"}, {"nope.x": 1}]}, "data": {}},
            102,
            "Invalid where: nope.x is not a field of _Installation.",
        ),
        ({"where": {"badge": {"$bogus": 1}}, "data": {}}, 102, None),
        ({"where": {}, "data": "text"}, 115, "data must be a JSON object."),
        (
            {"where": {}, "data": {"badge": "lots"}},
            115,
            "Invalid value for badge, expected number or 'Increment' or {increment: number}",
        ),
        ({"where": {}, "data": {}, "push_time": "tomorrow"}, 115, "tomorrow is not valid time."),
        (
            {"where": {}, "data": {}, "expiration_time": 1e10, "expiration_interval": 60},
            115,
            "Both expiration_time and expiration_interval cannot be set",
        ),
        (
            {"where": {}, "data": {}, "expiration_interval": 0},
            115,
            "expiration_interval must be a number greater than 0",
        ),
        (
            {"where": {}, "data": {}, "expiration_time": "2001-01-01T00:00:00Z"},
            115,
            "The push would expire before it is sent.",
        ),
        (
            {"where": {}, "data": {"alert": "x" * 5000}},
            115,
            "The push payload is 5012 bytes, over the 4096 bytes ios devices accept.",
        ),
    ],
)
def test_bad_pushes_are_refused_before_anything_happens(
    api: Any, master: Any, body: Any, code: int, message: str | None
) -> None:
    target = install(api, "only", "ios", channels=["a"], badge=1)
    response = master.post("push", body)
    assert response.status_code == 400
    assert response.json_body["code"] == code
    if message is not None:
        assert response.json_body["error"] == message
    assert STATUS_HEADER not in response.headers
    assert not ParseObject.objects.filter(class_name="_PushStatus").exists()
    assert badge_of(target) == 1


def test_the_size_limit_is_the_audiences_platforms(settings: Any, api: Any, master: Any) -> None:
    push_kit(
        settings,
        {
            "ios": RECORDING,
            "web": {
                "BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
                "OPTIONS": {"VAPID_PRIVATE_KEY": "unused", "VAPID_CLAIMS": {"sub": "mailto:a@b.c"}},
            },
        },
    )
    install(api, "i", "ios", channels=["ios"])
    ParseObject.objects.create(
        class_name="_Installation",
        object_id="webinstall",
        data={"installationId": "w", "deviceType": "web", "deviceToken": "{}", "channels": ["web"]},
        read_principals={"*": True},
        write_principals={"*": True},
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
    )
    fits_ios = {"alert": "x" * 4000}
    finished(push(master, {"channels": ["ios"], "data": fits_ios}))  # SQLite: one at a time
    refused = master.post("push", {"channels": ["web"], "data": fits_ios})
    assert refused.json_body == {
        "code": 115,
        "error": "The push payload is 4012 bytes, over the 3993 bytes web devices accept.",
    }


def test_only_the_master_key_pushes(api: Any) -> None:
    response = api.post("push", {"where": {}, "data": {"alert": "x"}})
    assert response.status_code == 403


def test_push_not_configured_is_115(settings: Any, master: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "PUSH": {}}
    response = master.post("push", {"where": {}, "data": {"alert": "x"}})
    assert response.json_body == {"code": 115, "error": "Missing push configuration"}


def test_read_only_master_key_cannot_push(settings: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "READ_ONLY_MASTER_KEY": "ro-key"}
    client = ParseClient()
    response = client.post(
        "push",
        {"where": {}, "data": {}},
        headers={"X-Parse-Master-Key": "ro-key"},
    )
    assert response.json_body == {"code": 119, "error": "Permission denied"}


def test_expiration_interval_is_kept_like_parse(master: Any) -> None:
    status_id = push(master, {"where": {}, "data": {"alert": "x"}, "expiration_interval": 600})
    data = finished(status_id)
    public = master.get(f"classes/_PushStatus/{status_id}").json_body
    assert public["expiration_interval"] == 600
    created_ms = int(data["_request"]["expiry_ms"])
    assert public["expiry"] == created_ms


@pytest.mark.postgres
def test_concurrent_increments_are_all_applied(api: Any, master: Any) -> None:
    ids = [install(api, f"c{n}", "ios", channels=["c"], badge=n) for n in range(6)]
    pushes = [
        push(master, {"channels": ["c"], "data": {"badge": "Increment"}}) for _ in range(4)
    ]  # their threads run side by side: each UPDATE adds in the database
    for status_id in pushes:
        finished(status_id)
    assert [badge_of(i) for i in ids] == [n + 4 for n in range(6)]
    # each device gets the badge it has when its batch is sent (as in Parse)
    assert all(len(recorded(p)) == 6 for p in pushes)
