"""Pushes through the real client libraries to the provider stand-ins on loopback.

aioapns speaks HTTP/2 to the APNs stand-in (which checks the ES256 provider
token), firebase-admin gets an OAuth token and calls the FCM v1 endpoint,
pywebpush encrypts for each browser subscription and signs VAPID. The tests read
what each provider received: APNs and FCM payloads, and Web Push bodies decrypted
with the subscription's private key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice

from backend_kit.objects.models import ParseObject
from backend_kit.push.models import InstallationDevice, PushBatch
from tests.conftest import ParseClient
from tests.stand_ins.apns import APNsStandIn
from tests.stand_ins.fcm import FCMStandIn
from tests.stand_ins.server import closed_port_url
from tests.stand_ins.webpush import Subscription, WebPushStandIn

from .conftest import TOPIC, android_token, finished, ios_token

pytestmark = [pytest.mark.slow]

STATUS_HEADER = "X-Parse-Push-Status-Id"


class Fleet:
    """Installations registered through the API, one per (type, name)."""

    def __init__(self, api: ParseClient, webpush: WebPushStandIn) -> None:
        self.api = api
        self.webpush = webpush
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.subscriptions: dict[str, Subscription] = {}

    def add(self, name: str, device_type: str, **fields: Any) -> str:
        if device_type == "ios":
            token = ios_token()
        elif device_type == "android":
            token = android_token()
        else:
            sub = self.webpush.subscribe()
            self.subscriptions[name] = sub
            token = sub.token()
        body = {"installationId": name, "deviceType": device_type, "deviceToken": token}
        created = self.api.post("installations", {**body, **fields})
        assert created.status_code == 201, created.json_body
        self.ids[name] = created.json_body["objectId"]
        self.tokens[name] = token
        return created.json_body["objectId"]

    def web_id(self, name: str) -> str:
        return self.subscriptions[name].id


@pytest.fixture
def fleet(thread_push: Any, api: ParseClient, webpush_server: WebPushStandIn) -> Fleet:
    return Fleet(api, webpush_server)


def send(master: ParseClient, body: dict[str, Any]) -> str:
    response = master.post("push", body)
    assert response.status_code == 200, response.json_body
    return response.headers[STATUS_HEADER]


def test_channel_and_where_pushes_reach_exactly_the_right_devices(
    fleet: Fleet,
    master: ParseClient,
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    fleet.add("iphone", "ios", channels=["news"], badge=2)
    fleet.add("ipad", "ios", channels=["sport"])
    fleet.add("pixel", "android", channels=["news"])
    fleet.add("galaxy", "android", channels=["sport"], localeIdentifier="fr-FR")
    fleet.add("firefox", "web", channels=["news"])
    fleet.add("chrome", "web", channels=["sport"])

    news = send(
        master,
        {
            "channels": ["news"],
            "data": {
                "alert": "Breaking",
                "title": "News",
                "badge": "Increment",
                "sound": "chime.caf",
                "category": "ARTICLE",
                "uri": "https://example.com/a/1",
                "articleId": 17,
            },
        },
    )
    status = finished(news)
    assert apns_server.tokens() == {fleet.tokens["iphone"]}
    assert fcm_server.tokens() == {fleet.tokens["pixel"]}
    assert set(webpush_server.received()) == {fleet.web_id("firefox")}
    assert status["status"] == "succeeded" and status["numSent"] == 3
    assert status["sentPerType"] == {"ios": 1, "android": 1, "web": 1}
    assert "numFailed" not in status

    apple = apns_server.delivered[0]
    assert apple.payload == {
        "aps": {
            "alert": {"title": "News", "body": "Breaking"},
            "badge": 3,
            "sound": "chime.caf",
            "category": "ARTICLE",
        },
        "uri": "https://example.com/a/1",
        "articleId": 17,
    }
    assert apple.headers["apns-topic"] == TOPIC and apple.headers["apns-push-type"] == "alert"
    assert apple.headers["apns-priority"] == "10"
    google = fcm_server.delivered[0].message
    assert google["android"]["priority"] == "high"
    assert google["data"]["push_id"] == news
    assert json.loads(google["data"]["data"]) == {
        "alert": "Breaking",
        "title": "News",
        "badge": 1,
        "sound": "chime.caf",
        "category": "ARTICLE",
        "uri": "https://example.com/a/1",
        "articleId": 17,
    }
    browser = webpush_server.received()[fleet.web_id("firefox")]
    assert browser == [json.loads(google["data"]["data"])]
    assert webpush_server.delivered[0].vapid["sub"] == "mailto:ops@example.com"

    for server in (apns_server, fcm_server, webpush_server):
        server.reset()
    french = send(
        master,
        {
            "where": {"$or": [{"deviceType": "android"}, {"installationId": "chrome"}]},
            "data": {"alert": "Hello", "alert-fr": "Bonjour", "content-available": 1},
        },
    )
    finished(french)
    assert apns_server.tokens() == set()
    assert fcm_server.tokens() == {fleet.tokens["pixel"], fleet.tokens["galaxy"]}
    texts = {m.token: json.loads(m.message["data"]["data"])["alert"] for m in fcm_server.delivered}
    assert texts == {fleet.tokens["pixel"]: "Hello", fleet.tokens["galaxy"]: "Bonjour"}
    assert set(webpush_server.received()) == {fleet.web_id("chrome")}


def test_a_background_push_is_a_background_apns_push(
    fleet: Fleet, master: ParseClient, apns_server: APNsStandIn
) -> None:
    fleet.add("iphone", "ios")
    finished(send(master, {"where": {}, "data": {"content-available": 1, "refresh": "feed"}}))
    delivered = apns_server.delivered[0]
    assert delivered.payload == {"aps": {"content-available": 1}, "refresh": "feed"}
    assert delivered.headers["apns-push-type"] == "background"
    assert delivered.headers["apns-priority"] == "5"


@pytest.mark.parametrize("kind", ["ios", "android", "web"])
def test_an_unregistered_token_is_pruned(
    kind: str,
    fleet: Fleet,
    master: ParseClient,
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    gone = fleet.add("gone", kind, channels=["c"])
    kept = fleet.add("kept", kind, channels=["c"])
    if kind == "ios":
        apns_server.unregistered.add(fleet.tokens["gone"])
    elif kind == "android":
        fcm_server.unregistered.add(fleet.tokens["gone"])
    else:
        webpush_server.gone.add(fleet.web_id("gone"))

    status = finished(send(master, {"channels": ["c"], "data": {"alert": "x"}}))
    assert status["status"] == "succeeded"
    assert status["sentPerType"] == {kind: 1} and status["failedPerType"] == {kind: 1}
    row = ParseObject.objects.get(class_name="_Installation", object_id=gone).data
    assert "deviceToken" not in row
    if kind == "web":  # stored in canonical form
        assert json.loads(row["_prunedToken"]) == json.loads(fleet.tokens["gone"])
    else:
        assert row["_prunedToken"] == fleet.tokens["gone"]
    assert "deviceToken" in ParseObject.objects.get(object_id=kept).data
    device = InstallationDevice.objects.get(installation=gone).device
    assert device is not None and device.active is False
    assert InstallationDevice.objects.get(installation=kept).device.active is True
    # the pruned installation is no longer in any audience
    again = finished(send(master, {"channels": ["c"], "data": {"alert": "y"}}))
    assert again["numSent"] == 1 and "numFailed" not in again
    public = master.get(f"installations/{gone}").json_body
    assert "deviceToken" not in public and "_prunedToken" not in public


def test_an_outage_retries_then_fails_with_the_reason(
    thread_push: Any,
    fleet: Fleet,
    master: ParseClient,
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
) -> None:
    thread_push(RETRY_ATTEMPTS=3)
    fleet.add("iphone", "ios")
    fleet.add("pixel", "android")
    apns_server.outage = True
    status_id = send(master, {"where": {}, "data": {"alert": "x"}})
    status = finished(status_id)
    assert status["status"] == "failed"
    assert status["errorMessage"]["message"] == (
        "1 device(s) could not be reached after 3 attempts: ServiceUnavailable"
    )
    assert status["sentPerType"] == {"android": 1} and status["failedPerType"] == {"ios": 1}
    assert [r[1] for r in apns_server.refused] == ["ServiceUnavailable"] * 3
    assert len(fcm_server.delivered) == 1  # sent once, not again with each retry
    batch = PushBatch.objects.get(status_id=status_id)
    assert (batch.state, batch.attempts) == ("failed", 3)


def test_a_provider_that_comes_back_gets_the_retry(
    thread_push: Any, fleet: Fleet, master: ParseClient, fcm_server: FCMStandIn, monkeypatch: Any
) -> None:
    thread_push(RETRY_ATTEMPTS=4)
    fleet.add("pixel", "android")
    fleet.add("nexus", "android")
    fcm_server.outage = True
    calls = {"n": 0}
    original = fcm_server._send

    def flaky(request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 2:  # the first attempt (two devices) fails, then FCM is back
            fcm_server.outage = False
        return original(request)

    monkeypatch.setattr(fcm_server, "_send", flaky)
    status = finished(send(master, {"where": {}, "data": {"alert": "x"}}))
    assert status["status"] == "succeeded" and status["numSent"] == 2
    assert "errorMessage" not in status
    assert sorted(d.token for d in fcm_server.delivered) == sorted(
        [fleet.tokens["pixel"], fleet.tokens["nexus"]]
    )


def test_an_unreachable_provider_fails_the_push(
    settings: Any, thread_push: Any, fleet: Fleet, master: ParseClient, providers: dict[str, Any]
) -> None:
    providers["android"]["OPTIONS"]["ENDPOINT"] = (
        closed_port_url() + "/v1/projects/{project_id}/messages:send"
    )
    thread_push(RETRY_ATTEMPTS=2)
    fleet.add("pixel", "android")
    status = finished(send(master, {"where": {}, "data": {"alert": "x"}}))
    assert status["status"] == "failed"
    assert "could not be reached after 2 attempts: UNAVAILABLE" in status["errorMessage"]["message"]
    assert status["failedPerType"] == {"android": 1}


def test_a_scheduled_push_goes_out_at_its_time(
    fleet: Fleet, master: ParseClient, apns_server: APNsStandIn
) -> None:
    fleet.add("iphone", "ios")
    at = datetime.now(UTC) + timedelta(seconds=2)
    status_id = send(master, {"where": {}, "data": {"alert": "later"}, "push_time": at.isoformat()})
    public = master.get(f"classes/_PushStatus/{status_id}").json_body
    assert public["status"] == "scheduled"
    assert (
        public["pushTime"] == at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    )
    assert apns_server.delivered == []
    status = finished(status_id)
    assert status["status"] == "succeeded" and status["numSent"] == 1
    assert apns_server.delivered[0].at >= at.timestamp()


def test_an_expired_push_is_not_sent(
    fleet: Fleet, master: ParseClient, apns_server: APNsStandIn
) -> None:
    fleet.add("iphone", "ios")
    at = datetime.now(UTC) + timedelta(seconds=1)
    status_id = send(
        master,
        {
            "where": {},
            "data": {"alert": "late"},
            "push_time": at.isoformat(),
            "expiration_time": (at + timedelta(milliseconds=1)).isoformat(),
        },
    )
    status = finished(status_id)
    assert status["status"] == "failed"
    assert status["errorMessage"]["message"] == "The push expired before it could be sent."
    assert apns_server.delivered == []


def test_token_shapes_are_checked_against_the_providers(fleet: Fleet, api: ParseClient) -> None:
    bad = api.post(
        "installations",
        {
            "installationId": "w",
            "deviceType": "web",
            "deviceToken": json.dumps({"endpoint": "https://x"}),
        },
    )
    assert bad.json_body == {
        "code": 142,
        "error": "Invalid deviceToken for web: the subscription has no keys",
    }
    bad_android = api.post(
        "installations", {"installationId": "a", "deviceType": "android", "deviceToken": "a b"}
    )
    assert bad_android.json_body["code"] == 142
    assert not ParseObject.objects.filter(class_name="_Installation").exists()
    assert not (
        APNSDevice.objects.exists() or GCMDevice.objects.exists() or WebPushDevice.objects.exists()
    )


def test_batches_after_a_failure_are_counted_not_sent(
    thread_push: Any, fleet: Fleet, master: ParseClient, apns_server: APNsStandIn
) -> None:
    thread_push(RETRY_ATTEMPTS=1, BATCH_SIZE=1)
    fleet.add("first", "ios")
    fleet.add("second", "ios")
    apns_server.outage = True
    status_id = send(master, {"where": {}, "data": {"alert": "x"}})
    status = finished(status_id)
    assert status["status"] == "failed"
    assert status["numFailed"] == 2 and status["failedPerType"] == {"ios": 2}
    assert len(apns_server.refused) == 1  # the second batch was not sent after the failure
    states = sorted(PushBatch.objects.filter(status_id=status_id).values_list("error", flat=True))
    assert states == ["ServiceUnavailable", "the push is no longer running"]
