"""The official Parse JS SDK (npm ``parse``, pinned in js/package.json) as the client.

``js/driver.mjs`` runs the SDK's LiveQuery client and answers commands on stdin;
the writes are made here through REST. Includes restarting the ASGI server and the
Redis server under a connected SDK: its reconnect must bring the events back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client

from tests.processes import RedisServer

from .harness import APP_ID, JS_KEY, AsgiServer, Rest
from .lqclient import LQ, subscribed

pytestmark = pytest.mark.slow

JS_DIR = Path(__file__).parent / "js"


class Driver:
    def __init__(self, server: AsgiServer) -> None:
        self.process = subprocess.Popen(
            ["node", str(JS_DIR / "driver.mjs")],
            cwd=JS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.next_id = 0
        self.call("init", serverURL=server.origin + "/parse", appId=APP_ID, javascriptKey=JS_KEY)

    def call(self, cmd: str, **args: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.next_id += 1
        self.process.stdin.write(json.dumps({"id": self.next_id, "cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the SDK driver exited ({self.process.poll()})"
        answer = json.loads(line)
        assert answer["id"] == self.next_id
        assert answer["ok"], answer["error"]
        return answer["result"]

    def events(self, name: str, count: int = 1, timeout_ms: int = 30_000) -> list[dict]:
        return self.call("events", name=name, count=count, timeoutMs=timeout_ms)

    def close(self) -> None:
        try:
            self.call("quit")
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js and npm are needed for the Parse JS SDK tests")
    if not (JS_DIR / "node_modules" / "parse" / "package.json").exists():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return JS_DIR / "node_modules"


@pytest.fixture
def sdk(node_modules: Path, server: AsgiServer) -> Iterator[Driver]:
    driver = Driver(server)
    try:
        yield driver
    finally:
        driver.close()


def test_sdk_receives_every_kind_of_event_with_the_right_objects(
    sdk: Driver, rest: Rest, tag: str
) -> None:
    sdk.call("subscribe", name="s", className="LQItem", where={"tag": tag, "n": {"$gte": 10}})
    oid = rest.create("LQItem", {"tag": tag, "n": 10, "label": "first"})
    (create,) = sdk.events("s")
    assert create["op"] == "create"
    assert create["object"]["objectId"] == oid and create["object"]["n"] == 10
    assert create["object"]["className"] == "LQItem" and create["object"]["label"] == "first"

    rest.update("LQItem", oid, {"n": 11})
    (update,) = sdk.events("s")
    assert update["op"] == "update" and update["object"]["n"] == 11
    assert update["original"]["n"] == 10 and update["object"]["label"] == "first"

    rest.update("LQItem", oid, {"n": 1})
    (leave,) = sdk.events("s")
    assert leave["op"] == "leave" and leave["object"]["n"] == 1 and leave["original"]["n"] == 11

    rest.update("LQItem", oid, {"n": 12})
    (enter,) = sdk.events("s")
    assert enter["op"] == "enter" and enter["object"]["n"] == 12 and enter["original"]["n"] == 1

    rest.delete("LQItem", oid)
    (delete,) = sdk.events("s")
    assert delete["op"] == "delete" and delete["object"]["objectId"] == oid
    assert sdk.call("pending", name="s") == 0


def test_sdk_select_trims_the_objects(sdk: Driver, rest: Rest, tag: str) -> None:
    sdk.call("subscribe", name="s", className="LQItem", where={"tag": tag}, keys=["label"])
    rest.create("LQItem", {"tag": tag, "label": "kept", "size": 3})
    (create,) = sdk.events("s")
    assert create["object"]["label"] == "kept"
    assert "size" not in create["object"] and "tag" not in create["object"]


def test_sdk_watch_limits_updates(sdk: Driver, rest: Rest, tag: str) -> None:
    sdk.call("subscribe", name="w", className="LQItem", where={"tag": tag}, watch=["score"])
    sdk.call("subscribe", name="all", className="LQItem", where={"tag": tag})
    oid = rest.create("LQItem", {"tag": tag, "score": 1})
    assert sdk.events("w")[0]["op"] == "create"
    rest.update("LQItem", oid, {"label": "not watched"})
    rest.update("LQItem", oid, {"score": 2})
    # "all" saw both updates; "w" only the second, and nothing else is pending
    assert [e["op"] for e in sdk.events("all", 3)] == ["create", "update", "update"]
    (update,) = sdk.events("w")
    assert update["object"]["score"] == 2 and update["original"]["score"] == 1
    assert sdk.call("pending", name="w") == 0


def test_sdk_reconnects_after_the_server_process_restarts(
    sdk: Driver, server: AsgiServer, rest: Rest, tag: str
) -> None:
    sdk.call("subscribe", name="s", className="LQItem", where={"tag": tag})
    rest.create("LQItem", {"tag": tag, "n": 1})
    assert sdk.events("s")[0]["object"]["n"] == 1

    server.stop()
    server.start()  # same port: the SDK's reconnect finds it
    assert sdk.call("opened", name="s", count=2, timeoutMs=40_000) == 2
    oid = Rest(server.origin).create("LQItem", {"tag": tag, "n": 2})
    (event,) = sdk.events("s")
    assert event["op"] == "create" and event["object"]["objectId"] == oid


def test_sdk_events_resume_after_redis_restarts(
    sdk: Driver,
    server: AsgiServer,
    server_b: AsgiServer,
    redis: RedisServer,
    layer_prefix: str,
    rest: Rest,
    tag: str,
) -> None:
    """Redis restarts empty; both processes' hubs join their groups again, and events
    flow to the SDK (on server A) and to a raw client on server B."""
    sdk.call("subscribe", name="s", className="LQItem", where={"tag": tag})
    with LQ(server_b.ws_url) as on_b:
        on_b.connect()
        subscribed(on_b, 1, "LQItem", {"tag": tag})
        rest.create("LQItem", {"tag": tag, "n": 1})
        assert sdk.events("s")[0]["object"]["n"] == 1
        on_b.expect("create", requestId=1)

        redis.stop()
        redis.start()  # empty: every group membership is gone
        # Wait, in Redis itself rather than for a time, until both hubs are back in
        # the class's group.
        group_key = f"{layer_prefix}:group:bk_lq.LQItem"
        check = redis_client.Redis.from_url(redis.url)
        deadline = time.monotonic() + 30
        while check.zcard(group_key) < 2:
            assert time.monotonic() < deadline, "the hubs did not join the LQItem group again"
            time.sleep(0.1)
        check.close()

        oid = rest.create("LQItem", {"tag": tag, "n": 2})
        (event,) = sdk.events("s")
        assert event["op"] == "create" and event["object"]["objectId"] == oid
        assert on_b.expect("create", requestId=1)["object"]["n"] == 2
