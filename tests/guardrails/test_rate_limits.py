"""Rate limits per route group, user, installation and client address (one process).

The cluster-wide count across processes sharing Redis is in tests/ha/test_cluster_limits.py.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from backend_kit.cloud import define
from backend_kit.guardrails import ratelimit
from tests.conftest import ParseClient
from tests.files.support import get_url, upload

from .conftest import sign_up


def client_at(address: str, **kw: Any) -> ParseClient:
    client = ParseClient(**kw)
    client.client.defaults["REMOTE_ADDR"] = address
    return client


def assert_limited(response: Any, *, window: int) -> None:
    assert response.status_code == 429, response.json_body
    assert response.json_body == {"code": 155, "error": "Too many requests."}
    assert 1 <= int(response["Retry-After"]) <= window


@pytest.fixture
def clock(monkeypatch: Any) -> list[float]:
    """The limits' clock, at the start of a window (so none ends during a test)."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def test_per_address_limit_and_other_clients(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"reads": {"ip": [3, 60]}})
    hammer, calm = client_at("10.0.0.1"), client_at("10.0.0.2")
    for _ in range(3):
        assert hammer.get("classes/Thing").status_code == 200
    for _ in range(5):
        assert_limited(hammer.get("classes/Thing"), window=60)
    # another client is not slowed down, and writes are another group
    assert [calm.get("classes/Thing").status_code for _ in range(3)] == [200, 200, 200]
    assert hammer.post("classes/Thing", {"a": 1}).status_code == 201
    # the next window starts from zero
    clock[0] += 60
    assert hammer.get("classes/Thing").status_code == 200


def test_retry_after_counts_down_to_the_window_end(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"reads": {"ip": [1, 60]}})
    client = client_at("10.0.0.1")
    clock[0] += 15
    assert client.get("classes/Thing").status_code == 200
    assert client.get("classes/Thing")["Retry-After"] == "45"


def test_per_user_limit(classes: None, guardrails: Any, clock: list[float]) -> None:
    guardrails(RATE_LIMITS={"writes": {"user": [2, 60]}})
    _, ann = sign_up("ann")
    _, bob = sign_up("bob")
    assert [ann.post("classes/Note", {"i": i}).status_code for i in range(2)] == [201, 201]
    assert_limited(ann.post("classes/Note", {"i": 3}), window=60)
    assert bob.post("classes/Note", {"i": 1}).status_code == 201
    # without a session there is no user to count: the user limit does not apply
    assert ParseClient().post("classes/Note", {"i": 9}).status_code == 201


def test_per_installation_limit(classes: None, guardrails: Any, clock: list[float]) -> None:
    guardrails(RATE_LIMITS={"reads": {"installation": [1, 60]}})
    client = ParseClient()
    one = {"X-Parse-Installation-Id": "device-1"}
    assert client.request("GET", "classes/Thing", headers=one).status_code == 200
    assert_limited(client.request("GET", "classes/Thing", headers=one), window=60)
    assert (
        client.request(
            "GET", "classes/Thing", headers={"X-Parse-Installation-Id": "device-2"}
        ).status_code
        == 200
    )


def test_class_and_function_overrides(
    classes: None, guardrails: Any, clock: list[float], cloud_code: Any
) -> None:
    @define("ping")
    def ping(request: Any) -> str:
        return "pong"

    guardrails(
        RATE_LIMITS={"writes": {"ip": [100, 60]}, "functions": {"ip": [100, 60]}},
        CLASS_RATE_LIMITS={"Hot": {"writes": {"ip": [1, 60]}}},
        FUNCTION_RATE_LIMITS={"ping": {"ip": [2, 60]}},
    )
    client = ParseClient()
    assert client.post("classes/Hot", {"a": 1}).status_code == 201
    assert_limited(client.post("classes/Hot", {"a": 2}), window=60)
    assert client.post("classes/Cold", {"a": 1}).status_code == 201
    assert [client.post("functions/ping").status_code for _ in range(2)] == [200, 200]
    assert_limited(client.post("functions/ping"), window=60)


def test_a_batch_counts_its_sub_requests(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"writes": {"ip": [3, 60]}})
    client = ParseClient()

    def batch(n: int) -> Any:
        return client.post(
            "batch",
            {
                "requests": [
                    {"method": "POST", "path": "/parse/classes/Item", "body": {"n": i}}
                    for i in range(n)
                ]
            },
        )

    assert batch(2).status_code == 200
    # two more would make four: the whole batch is refused before any of it runs
    assert_limited(batch(2), window=60)
    master = ParseClient(master=True)
    assert master.get("classes/Item", count=1, limit=0).json_body["count"] == 2
    assert_limited(client.post("classes/Item", {"n": 9}), window=60)


def test_a_batch_alone_cannot_pass_a_limit(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"reads": {"ip": [5, 60]}})
    r = ParseClient().post(
        "batch", {"requests": [{"method": "GET", "path": "/parse/classes/Item"} for _ in range(6)]}
    )
    assert_limited(r, window=60)


def test_master_key_is_exempt_unless_configured(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"reads": {"ip": [1, 60]}})
    master = ParseClient(master=True)
    assert [master.get("classes/Thing").status_code for _ in range(3)] == [200, 200, 200]
    # the exempt requests were not counted: one more fits, then the master is limited too
    guardrails(RATE_LIMITS={"reads": {"ip": [1, 60]}}, RATE_LIMITS_APPLY_TO_MASTER=True)
    assert master.get("classes/Thing").status_code == 200
    assert_limited(master.get("classes/Thing"), window=60)


def test_auth_group_limits_sign_ups_and_logins(
    classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"auth": {"ip": [2, 600]}})
    client = client_at("10.9.9.9")
    assert client.post("users", {"username": "a1", "password": "pw"}).status_code == 201
    assert client.post("login", {"username": "a1", "password": "pw"}).status_code == 200
    assert_limited(client.post("login", {"username": "a1", "password": "pw"}), window=600)
    # the same client may still read
    assert client.get("classes/Thing").status_code == 200


def test_nonsense_entries_are_ignored_at_run_time(classes: None, guardrails: Any) -> None:
    # the system checks refuse these at start (tests/guardrails/test_checks.py); a
    # server started anyway serves rather than failing every request
    guardrails(
        RATE_LIMITS={"reads": {"ip": [0, 60], "nobody": [1, 1]}, "bogus": 3}, CLASS_RATE_LIMITS=[1]
    )
    assert [ParseClient().get("classes/Thing").status_code for _ in range(3)] == [200, 200, 200]


def test_a_cache_outage_lets_requests_through(
    classes: None, guardrails: Any, settings: Any
) -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    # through the settings fixture, so that teardown restores CACHES with the rest
    settings.CACHES = caches
    guardrails(RATE_LIMITS={"reads": {"ip": [1, 60]}}, CACHE_ALIAS="down")
    client = ParseClient()
    assert [client.get("classes/Thing").status_code for _ in range(2)] == [200, 200]


def test_file_downloads_are_limited(
    media: Any, classes: None, guardrails: Any, clock: list[float]
) -> None:
    guardrails(RATE_LIMITS={"files": {"ip": [2, 60]}})
    _, ann = sign_up("ann")
    saved = upload(ann, "a.txt", b"hello", "text/plain")  # one of the two
    assert saved.status_code == 201, saved.json_body
    reader = client_at("127.0.0.1")
    assert get_url(reader, saved.json_body["url"]).status_code == 200
    refused = get_url(reader, saved.json_body["url"])
    assert refused.status_code == 429 and refused.json_body["code"] == 155
    assert get_url(client_at("10.1.1.1"), saved.json_body["url"]).status_code == 200
