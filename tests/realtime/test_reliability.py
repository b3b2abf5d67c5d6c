"""Dead sockets and clients that cannot keep up, against a real uvicorn server."""

from __future__ import annotations

import json

import pytest

from .harness import APP_ID, JS_KEY, AsgiServer, Rest
from .lqclient import LQ, subscribed
from .rawws import RawWebSocket

pytestmark = pytest.mark.slow

OVERLOADED_CLOSE_CODE = 1013


def test_server_pings_close_a_socket_that_never_answers(server: AsgiServer, tag: str) -> None:
    """Server A pings every second and gives up after two: the silent client is closed."""
    raw = RawWebSocket(server.port)
    try:
        raw.send_json({"op": "connect", "applicationId": APP_ID, "javascriptKey": JS_KEY})
        raw.send_json(
            {"op": "subscribe", "requestId": 1, "query": {"className": "LQItem", "where": {}}}
        )
        # never read, never answer a ping: the server must close its side by itself
        assert raw.wait_peer_closed(limit=30), f"TCP state {raw.tcp_state()}"
        frames = raw.read_all()
        pings = [f for f in frames if f[0] == 0x9]  # the pings that went unanswered
        closes = [f for f in frames if f[0] == 0x8]
        assert pings and closes
        assert int.from_bytes(closes[-1][1][:2], "big") == 1011  # keepalive ping timeout
    finally:
        raw.close()


def test_a_client_that_cannot_keep_up_is_closed_and_others_keep_their_events(
    server_b: AsgiServer, rest: Rest, tag: str
) -> None:
    """Server B queues 16 frames per socket: a client whose receive buffer is tiny and
    who never reads is told to reconnect and closed; a normal client on the same
    process gets every event meanwhile."""
    subscriptions, saves = 10, 6
    # ~0.5 MB per event, 60 events: far more than the kernel buffers (~4 MB) plus the
    # 16 queued frames can hold, so the queue must overflow
    blob = "x" * 500_000
    slow = RawWebSocket(server_b.port, receive_buffer=4096)
    try:
        slow.send_json({"op": "connect", "applicationId": APP_ID, "javascriptKey": JS_KEY})
        for request_id in range(1, subscriptions + 1):
            slow.send_json(
                {
                    "op": "subscribe",
                    "requestId": request_id,
                    "query": {"className": "LQBig", "where": {"tag": tag}},
                }
            )
        with LQ(server_b.ws_url) as good:
            good.connect()
            subscribed(good, 1, "LQBig", {"tag": tag})
            # the slow socket's own "subscribed" frames were sent before the good
            # client's: once the good client is subscribed, so is the slow one
            for n in range(saves):
                oid = rest.create("LQBig", {"tag": tag, "n": n, "blob": blob})
                event = good.expect("create", requestId=1)
                assert event["object"]["objectId"] == oid and event["object"]["n"] == n
            # the good client is still subscribed and served
            rest.create("LQBig", {"tag": tag, "n": saves, "blob": "small"})
            assert good.expect("create", requestId=1)["object"]["n"] == saves

        frames = slow.read_all()  # reads what the server had sent, up to its close
        texts = [json.loads(p) for op, p in frames if op == 0x1]
        closes = [p for op, p in frames if op == 0x8]
        errors = [t for t in texts if t.get("op") == "error"]
        events = [t for t in texts if t.get("op") == "create"]
        assert errors == [{**errors[0], "op": "error", "code": 1, "reconnect": True}], errors
        assert texts[-1] == errors[0]  # nothing after the error
        assert closes and int.from_bytes(closes[0][:2], "big") == OVERLOADED_CLOSE_CODE
        assert len(events) < subscriptions * saves  # the backlog was dropped, not sent
    finally:
        slow.close()
