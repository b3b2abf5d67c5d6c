"""LiveQuery behaviour the Parse JS SDK's integration suite relies on (Parse Server 9.10).

Each test names the suite spec that found the difference. These call the protocol
functions directly (no server), with the SDK-suite mode's cloud code registered.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from backend_kit.cloud import registry
from backend_kit.errors import ParseError
from backend_kit.realtime.protocol import build_subscription, context_for
from tests.conftest import ParseClient


@pytest.fixture
def sdk_cloud() -> Iterator[None]:
    snap = registry.snapshot()
    registry.clear()
    sys.modules.pop("example_project.cloud_sdk", None)
    importlib.import_module("example_project.cloud_sdk")
    yield
    registry.restore(snap)


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ParseError) as info:
        call(*args, **kwargs)
    return info.value.code, info.value.message


# --- "Parse LiveQuery connectPromise does throw" ---------------------------------------------


def test_before_connect_sees_an_unknown_token(db: Any, sdk_cloud: None) -> None:
    # the hook's refusal (141) is what the client gets, not the unknown token
    connect = {"op": "connect", "applicationId": "integration", "sessionToken": "testToken"}
    assert error_of(context_for, connect) == (141, "not allowed to connect")
    # a connect the hook lets through is one without a user
    ctx = context_for({**connect, "sessionToken": "r:not-a-session"})
    assert ctx.user is None and ctx.session_token is None


# --- "Parse LiveQuery can subscribe to ACL" (restart mode: the SDK's default client ---------
# --- reconnects after a restart with the token it was created with, since logged out) ------


def test_connect_with_a_stale_token_is_a_connect_without_a_user(master: ParseClient) -> None:
    token = master.post("users", {"username": "ooo", "password": "pw"}).json_body["sessionToken"]
    ParseClient(session_token=token).post("logout", {})
    ctx = context_for({"op": "connect", "applicationId": "integration", "sessionToken": token})
    assert ctx.user is None and ctx.session_token is None
    # a subscription's own token is still checked
    subscribe = {
        "op": "subscribe",
        "requestId": 1,
        "sessionToken": token,
        "query": {"className": "TestObject", "where": {}},
    }
    assert error_of(build_subscription, ctx, subscribe)[0] == 209


# --- "Parse LiveQuery live query can handle beforeConnect and beforeSubscribe errors" --------


def test_sdk_mode_refuses_subscriptions_to_test_error(master: ParseClient, sdk_cloud: None) -> None:
    ctx = context_for({"op": "connect", "applicationId": "integration"})
    subscribe = {
        "op": "subscribe",
        "requestId": 1,
        "query": {"className": "TestError", "where": {}},
    }
    assert error_of(build_subscription, ctx, subscribe) == (141, "not allowed to subscribe")
    other = {**subscribe, "query": {"className": "TestObject", "where": {}}}
    assert build_subscription(ctx, other) is not None
