"""The Parse JS SDK against a live server: installations saved and updated by the SDK,
``Parse.Push.send`` to a channel and to a query, delivered through the real
transports to the provider stand-ins, and ``Parse.Push.getPushStatus`` agreeing.

PostgreSQL only: the SDK polls the status while the push threads write, which
SQLite's shared in-memory test database cannot serve at the same time.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APP_ID, JS_KEY, MASTER_KEY
from tests.files.servers import AsgiServer
from tests.stand_ins.apns import APNsStandIn
from tests.stand_ins.fcm import FCMStandIn
from tests.stand_ins.webpush import WebPushStandIn
from tests.support import sdk_node

from .conftest import android_token, ios_token

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "tests" / "sdk"
SCRIPT = Path(__file__).with_name("js") / "sdk_push.mjs"


@pytest.fixture(scope="module")
def parse_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[AsgiServer]:
    server = AsgiServer()
    with django_db_blocker.unblock():
        server.start()
    yield server
    server.stop()


def run_sdk(server: AsgiServer, devices: list[dict[str, Any]]) -> dict[str, Any]:
    node = sdk_node()
    env = {
        **os.environ,
        "PARSE_SERVER_URL": server.url,
        "PARSE_APP_ID": APP_ID,
        "PARSE_JAVASCRIPT_KEY": JS_KEY,
        "PARSE_MASTER_KEY": MASTER_KEY,
        "SDK_DIR": str(SDK_DIR),
        "DEVICES": json.dumps(devices),
    }
    done = subprocess.run([node, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_js_sdk_registers_devices_and_pushes_reach_them(
    thread_push: Any,
    parse_server: AsgiServer,
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    subscription = webpush_server.subscribe()
    devices = [
        {
            "installationId": "sdk-iphone",
            "deviceType": "ios",
            "deviceToken": ios_token(),
            "channels": ["news"],
        },
        {
            "installationId": "sdk-pixel",
            "deviceType": "android",
            "deviceToken": android_token(),
            "channels": ["news", "sports"],
        },
        {
            "installationId": "sdk-browser",
            "deviceType": "web",
            "deviceToken": subscription.token(),
            "channels": ["sports"],
        },
        {
            "installationId": "sdk-galaxy",
            "deviceType": "android",
            "deviceToken": android_token(),
            "channels": [],
        },
    ]
    tokens = {d["installationId"]: d["deviceToken"] for d in devices}
    out = run_sdk(parse_server, devices)

    assert out["againId"] is None  # Parse answers the re-save as an update: {updatedAt}
    rows = {i["installationId"]: i for i in out["installations"]}
    assert set(rows) == set(tokens)
    assert rows["sdk-iphone"]["channels"] == ["news", "sports"]
    assert rows["sdk-iphone"]["appVersion"] == "2.0"
    assert rows["sdk-pixel"]["channels"] == ["news"]
    assert {rows[n]["objectId"] for n in tokens} == set(out["saved"].values())
    assert out["clientFind"] == {"code": 119, "message": "Permission denied"}

    # channel "sports" after the changes: the iPhone (added) and the browser, not the Pixel
    channel = out["channelPush"]
    assert channel["status"] == "succeeded"
    assert channel["numSent"] == 2 and channel["sentPerType"] == {"ios": 1, "web": 1}
    assert apns_server.tokens() == {tokens["sdk-iphone"]}
    assert apns_server.delivered[0].payload["aps"] == {"alert": "Goal!", "badge": 1}
    assert webpush_server.received() == {subscription.id: [{"alert": "Goal!", "badge": 1}]}

    where = out["wherePush"]
    assert where["status"] == "succeeded"
    assert where["numSent"] == 2 and where["sentPerType"] == {"android": 2}
    assert where["query"] == '{"deviceType":"android"}'
    assert fcm_server.tokens() == {tokens["sdk-pixel"], tokens["sdk-galaxy"]}
    assert len(fcm_server.delivered) == 2 and len(apns_server.delivered) == 1
