"""The LiveQuery wire protocol, spoken by a raw WebSocket client to a real uvicorn server.

"No event" is never waited for with a timer: the test saves a *marker* object that a
second subscription of the same socket matches, and checks that nothing else came
first (events reach one socket in the order the writes were published).
"""

from __future__ import annotations

import json

import pytest

from .harness import APP_ID, JS_KEY, MASTER_KEY, AsgiServer, Rest
from .lqclient import LQ, subscribed

pytestmark = pytest.mark.slow

MARKER_ID = 99


def marker(lq: LQ, rest: Rest, tag: str) -> list[dict]:
    """Save a marker object; return the frames the socket received before its event."""
    rest.create("LQItem", {"tag": tag, "marker": True})
    _, before = lq.until("create", MARKER_ID)
    return before


def watch_markers(lq: LQ, tag: str) -> None:
    subscribed(lq, MARKER_ID, "LQItem", {"tag": tag, "marker": True})
    lq.ignored.add(MARKER_ID)


# --- connect ---------------------------------------------------------------------------------


def test_connect_answers_connected_with_a_client_id(server: AsgiServer) -> None:
    with LQ(server.ws_url) as lq:
        frame = lq.connect(installationId="inst-1")
        assert frame["clientId"] and frame["installationId"] == "inst-1"


@pytest.mark.parametrize(
    "fields",
    [
        {"applicationId": "not-the-app", "javascriptKey": JS_KEY},
        {"applicationId": APP_ID, "javascriptKey": "wrong-key"},
        {"applicationId": APP_ID},
        {"applicationId": APP_ID, "masterKey": "wrong-master"},
    ],
    ids=["wrong-app-id", "wrong-key", "no-key", "wrong-master-key"],
)
def test_connect_with_wrong_app_id_or_key_is_error_4(server: AsgiServer, fields: dict) -> None:
    with LQ(server.ws_url) as lq:
        lq.send({"op": "connect", **fields})
        error = lq.expect("error", code=4, reconnect=False)
        assert error["error"]
        # not connected: subscribing is still refused
        lq.send({"op": "subscribe", "requestId": 1, "query": {"className": "LQItem", "where": {}}})
        lq.expect("error", code=2)


def test_master_key_alone_is_accepted(server: AsgiServer) -> None:
    with LQ(server.ws_url) as lq:
        lq.send({"op": "connect", "applicationId": APP_ID, "masterKey": MASTER_KEY})
        lq.expect("connected")


def test_subscribe_before_connect_is_error_2(server: AsgiServer) -> None:
    with LQ(server.ws_url) as lq:
        lq.send({"op": "subscribe", "requestId": 1, "query": {"className": "LQItem", "where": {}}})
        lq.expect("error", code=2, requestId=1)
        lq.connect()  # the socket is still usable


def test_unknown_op_is_error_3(server: AsgiServer) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        lq.send({"op": "explode", "requestId": 1})
        lq.expect("error", code=3)


@pytest.mark.parametrize(
    "frame",
    ["this is not json", "[1, 2", '"a string"', "[]", "{}", b"\x00\xff binary"],
    ids=["text", "truncated", "json-string", "json-array", "no-op", "binary"],
)
def test_bad_frames_are_error_1_and_the_socket_stays_usable(
    server: AsgiServer, rest: Rest, tag: str, frame: str | bytes
) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        lq.send(frame)
        lq.expect("error", code=1)
        subscribed(lq, 1, "LQItem", {"tag": tag})
        rest.create("LQItem", {"tag": tag})
        lq.expect("create", requestId=1)


def test_oversized_frame_is_error_1_and_the_socket_stays_usable(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        huge = {
            "op": "subscribe",
            "requestId": 1,
            "query": {"className": "LQItem", "where": {"tag": "x" * 200_000}},
        }
        lq.send(huge)
        lq.expect("error", code=1)
        # multi-byte characters count as bytes: 40k of them is over 64 KiB
        lq.send(json.dumps({"op": "connect", "applicationId": "é" * 40_000}, ensure_ascii=False))
        lq.expect("error", code=1)
        subscribed(lq, 2, "LQItem", {"tag": tag})
        rest.create("LQItem", {"tag": tag})
        lq.expect("create", requestId=2)


@pytest.mark.parametrize(
    "message",
    [
        {"op": "subscribe", "requestId": "1", "query": {"className": "LQItem", "where": {}}},
        {"op": "subscribe", "requestId": 1, "query": {"className": "LQItem"}},
        {"op": "subscribe", "requestId": 1, "query": {"className": "LQItem", "where": []}},
        {"op": "subscribe", "requestId": 1, "query": {"where": {}}},
        {
            "op": "subscribe",
            "requestId": 1,
            "query": {"className": "LQItem", "where": {}, "keys": []},
        },
        {"op": "subscribe", "requestId": 1, "query": {"className": "LQItem", "where": {}, "x": 1}},
        {
            "op": "subscribe",
            "requestId": 1,
            "extra": True,
            "query": {"className": "LQItem", "where": {}},
        },
        {"op": "unsubscribe"},
    ],
)
def test_malformed_messages_are_error_1(server: AsgiServer, message: dict) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        lq.send(message)
        lq.expect("error", code=1)


# --- subscriptions ----------------------------------------------------------------------------


def test_where_the_server_cannot_parse_is_refused_and_the_socket_stays_usable(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        for rid, where in enumerate(
            [
                {"tag": {"$bogus": 1}},
                {"tag": {"$regex": "("}},
                {"$or": "not-a-list"},
                {"loc": {"$nearSphere": "nowhere"}},
            ],
            start=1,
        ):
            answer = lq.subscribe(rid, "LQItem", where)
            assert answer["op"] == "error" and answer["requestId"] == rid, answer
            assert answer["code"] not in (1, 2, 3, 4) and answer["error"], answer
        subscribed(lq, 10, "LQItem", {"tag": tag})
        rest.create("LQItem", {"tag": tag})
        lq.expect("create", requestId=10)


def test_where_that_needs_the_database_is_matched_there(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    """``$inQuery`` cannot be answered in memory: the hub asks the database."""
    owner = rest.create("LQOther", {"tag": tag, "vip": True})
    plain = rest.create("LQOther", {"tag": tag, "vip": False})
    with LQ(server.ws_url) as lq:
        lq.connect()
        watch_markers(lq, tag)
        where = {
            "tag": tag,
            "owner": {"$inQuery": {"className": "LQOther", "where": {"vip": True}}},
        }
        subscribed(lq, 1, "LQItem", where)
        ptr = {"__type": "Pointer", "className": "LQOther"}
        rest.create("LQItem", {"tag": tag, "owner": {**ptr, "objectId": plain}})
        assert marker(lq, rest, tag) == []
        vip_item = rest.create("LQItem", {"tag": tag, "owner": {**ptr, "objectId": owner}})
        event = lq.expect("create", requestId=1)
        assert event["object"]["objectId"] == vip_item


def test_bad_session_token_on_connect_connects_without_a_user(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    # as in Parse: the SDKs reconnect with the token they started with, even after a logout
    with LQ(server.ws_url) as lq:
        lq.send(
            {
                "op": "connect",
                "applicationId": APP_ID,
                "javascriptKey": JS_KEY,
                "sessionToken": "r:not-a-session",
            }
        )
        lq.expect("connected")
        subscribed(lq, 1, "LQItem", {"tag": tag})
        rest.create("LQItem", {"tag": tag, "ACL": {}})  # nobody's: not sent
        public = rest.create("LQItem", {"tag": tag})
        event = lq.expect("create", requestId=1)
        assert event["object"]["objectId"] == public


def test_bad_session_token_on_subscribe_is_209(server: AsgiServer, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        answer = lq.subscribe(1, "LQItem", {"tag": tag}, session_token="r:not-a-session")
        assert answer["op"] == "error" and answer["code"] == 209 and answer["requestId"] == 1


def test_all_five_events_carry_the_object_and_the_original(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    with LQ(server.ws_url) as lq:
        connected = lq.connect()
        subscribed(lq, 7, "LQItem", {"tag": tag, "n": {"$gte": 10}})
        oid = rest.create("LQItem", {"tag": tag, "n": 10, "name": "a"})
        create = lq.expect("create", requestId=7, clientId=connected["clientId"])
        assert create["object"]["objectId"] == oid
        assert create["object"]["className"] == "LQItem"
        assert create["object"]["n"] == 10 and create["object"]["createdAt"]
        assert "original" not in create

        rest.update("LQItem", oid, {"n": 11})
        update = lq.expect("update", requestId=7)
        assert update["object"]["n"] == 11 and update["original"]["n"] == 10
        assert update["object"]["name"] == "a"

        rest.update("LQItem", oid, {"n": 1})
        leave = lq.expect("leave", requestId=7)
        assert leave["object"]["n"] == 1 and leave["original"]["n"] == 11

        rest.update("LQItem", oid, {"n": 2})  # outside before and after: nothing
        rest.update("LQItem", oid, {"n": 12})
        enter = lq.expect("enter", requestId=7)
        assert enter["object"]["n"] == 12 and enter["original"]["n"] == 2

        rest.delete("LQItem", oid)
        delete = lq.expect("delete", requestId=7)
        assert delete["object"]["objectId"] == oid and delete["object"]["n"] == 12


def test_keys_trims_the_objects(server: AsgiServer, rest: Rest, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        subscribed(lq, 1, "LQItem", {"tag": tag}, keys=["name"])
        oid = rest.create("LQItem", {"tag": tag, "name": "kept", "size": 3, "color": "red"})
        obj = lq.expect("create", requestId=1)["object"]
        assert obj["name"] == "kept" and obj["objectId"] == oid
        assert "size" not in obj and "color" not in obj and "tag" not in obj
        assert {"className", "createdAt", "updatedAt"} <= set(obj)
        rest.update("LQItem", oid, {"size": 4})
        update = lq.expect("update", requestId=1)
        assert "size" not in update["object"] and "size" not in update["original"]


def test_watch_limits_update_and_create_events(server: AsgiServer, rest: Rest, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}}, watch=["score"])
        unwatched = rest.create("LQItem", {"tag": tag, "name": "no score"})
        assert marker(lq, rest, tag) == []  # created without the watched key: no create
        oid = rest.create("LQItem", {"tag": tag, "score": 1})
        assert lq.expect("create", requestId=1)["object"]["objectId"] == oid
        rest.update("LQItem", oid, {"name": "renamed"})
        rest.update("LQItem", unwatched, {"name": "renamed"})
        assert marker(lq, rest, tag) == []  # unwatched keys changed: no update
        rest.update("LQItem", oid, {"score": 2})
        update = lq.expect("update", requestId=1)
        assert update["object"]["score"] == 2 and update["original"]["score"] == 1


def test_update_op_replaces_the_subscription(server: AsgiServer, rest: Rest, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQItem", {"tag": tag, "color": "red"})
        subscribed(lq, 1, "LQItem", {"tag": tag, "color": "blue"}, op="update")
        rest.create("LQItem", {"tag": tag, "color": "red"})
        assert marker(lq, rest, tag) == []
        blue = rest.create("LQItem", {"tag": tag, "color": "blue"})
        assert lq.expect("create", requestId=1)["object"]["objectId"] == blue


def test_unsubscribe_stops_events(server: AsgiServer, rest: Rest, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.connect()
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
        lq.send({"op": "unsubscribe", "requestId": 1})
        lq.expect("unsubscribed", requestId=1)
        rest.create("LQItem", {"tag": tag})
        assert marker(lq, rest, tag) == []
        lq.send({"op": "unsubscribe", "requestId": 1})  # already gone
        lq.expect("error", code=2, requestId=1)


def test_query_op_is_answered_with_result(server: AsgiServer, rest: Rest, tag: str) -> None:
    """SDK 8's ``query``: the subscription's current matches, shaped like its events."""
    first = rest.create("LQItem", {"tag": tag, "n": 1, "other": "x"})
    second = rest.create("LQItem", {"tag": tag, "n": 2, "other": "y"})
    rest.create("LQItem", {"tag": tag, "n": 3, "other": "z"})
    with LQ(server.ws_url) as lq:
        lq.connect()
        subscribed(lq, 4, "LQItem", {"tag": tag, "n": {"$lt": 3}}, keys=["n"])
        lq.send({"op": "query", "requestId": 4})
        result = lq.expect("result", requestId=4)
        by_id = {o["objectId"]: o for o in result["results"]}
        assert set(by_id) == {first, second}
        assert by_id[first]["n"] == 1 and "other" not in by_id[first]
        lq.send({"op": "query", "requestId": 5})
        lq.expect("error", code=2, requestId=5)


def test_classes_that_are_not_live_publish_nothing(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    rest.call("POST", "schemas/LQDead", {"className": "LQDead"}, master=True, expect=None)
    with LQ(server.ws_url) as lq:
        lq.connect()
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQDead", {"tag": tag})
        rest.create("LQDead", {"tag": tag}, master=True)
        assert marker(lq, rest, tag) == []
