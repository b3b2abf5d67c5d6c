"""Two uvicorn processes sharing PostgreSQL and Redis (channels_redis)."""

from __future__ import annotations

import pytest

from .harness import AsgiServer, Rest
from .lqclient import LQ, subscribed
from .test_acl import connect_as

pytestmark = pytest.mark.slow


def test_a_save_through_one_process_reaches_a_subscriber_of_the_other(
    server: AsgiServer, server_b: AsgiServer, tag: str
) -> None:
    rest_a, rest_b = Rest(server.origin), Rest(server_b.origin)
    with LQ(server.ws_url) as on_a, LQ(server_b.ws_url) as on_b:
        for lq in (on_a, on_b):
            lq.connect()
            subscribed(lq, 1, "LQItem", {"tag": tag})
        through_a = rest_a.create("LQItem", {"tag": tag, "via": "a"})
        assert on_b.expect("create", requestId=1)["object"]["objectId"] == through_a
        assert on_a.expect("create", requestId=1)["object"]["objectId"] == through_a
        rest_b.update("LQItem", through_a, {"via": "b"})
        update = on_a.expect("update", requestId=1)
        assert update["object"]["via"] == "b" and update["original"]["via"] == "a"
        on_b.expect("update", requestId=1)
        rest_b.delete("LQItem", through_a)
        on_a.expect("delete", requestId=1)
        on_b.expect("delete", requestId=1)


def test_a_logout_on_one_process_ends_subscriptions_on_the_other(
    server: AsgiServer, server_b: AsgiServer, tag: str
) -> None:
    rest_a = Rest(server.origin)
    _, token = rest_a.sign_up("cluster-" + tag)
    with connect_as(server_b, token) as on_b:
        subscribed(on_b, 5, "LQItem", {"tag": tag})
        rest_a.call("POST", "logout", {}, session=token)
        on_b.expect("error", code=209, requestId=5)
