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


def test_before_connect_runs_before_an_unknown_token_is_refused(db: Any, sdk_cloud: None) -> None:
    # beforeConnect sees the unknown token first: its refusal (141) is what the client gets
    connect = {"op": "connect", "applicationId": "integration", "sessionToken": "testToken"}
    assert error_of(context_for, connect) == (141, "not allowed to connect")
    # a hook that lets the connect through leaves the unknown token refused
    other = {**connect, "sessionToken": "r:not-a-session"}
    assert error_of(context_for, other)[0] == 209


def test_without_before_connect_an_unknown_token_is_209(db: Any) -> None:
    snap = registry.snapshot()
    registry.clear()
    try:
        connect = {"op": "connect", "applicationId": "integration", "sessionToken": "testToken"}
        assert error_of(context_for, connect)[0] == 209
    finally:
        registry.restore(snap)


# --- "Parse LiveQuery live query can handle beforeConnect and beforeSubscribe errors" --------


def test_sdk_mode_refuses_subscriptions_to_test_error(
    master: ParseClient, sdk_cloud: None
) -> None:
    ctx = context_for({"op": "connect", "applicationId": "integration"})
    subscribe = {"op": "subscribe", "requestId": 1, "query": {"className": "TestError", "where": {}}}
    assert error_of(build_subscription, ctx, subscribe) == (141, "not allowed to subscribe")
    other = {**subscribe, "query": {"className": "TestObject", "where": {}}}
    assert build_subscription(ctx, other) is not None
