"""backend_kit.versions: counters kept per process, dropped by a Redis publish.

Every test runs against a private ``redis-server`` of this module (so that its command
counts and its restarts concern nobody else). A second :class:`VersionWatch` on the
same cache stands for a second process: it has its own listener connection and thread.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from backend_kit import versions
from backend_kit.cache import shared_cache
from backend_kit.objects import schema

from .processes import RedisServer, poll_until

FAST = {"VERSION_POLL_INTERVAL": 0.2, "VERSION_PUSH_TIMEOUT": 2.0}


def gets(server: RedisServer) -> int:
    """GET commands the server has answered so far."""
    stats = redis.Redis.from_url(server.url).info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    if not RedisServer.available():
        pytest.skip("needs redis-server on PATH")
    with RedisServer() as found:
        yield found


@pytest.fixture
def cache(server: RedisServer) -> Iterator[Any]:
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"bk-versions-{secrets.token_hex(4)}",
        }
    }
    with override_settings(CACHES=config, BACKEND_KIT=FAST):
        yield shared_cache()
        versions.reset()


def live_watch() -> versions.VersionWatch:
    versions.current("warm-up")
    watch = versions._current_watch
    assert watch is not None
    poll_until(lambda: watch.live, "the listener to subscribe", 5, 0.01)
    return watch


def other_process(cache: Any) -> versions.VersionWatch:
    watch = versions.VersionWatch(cache)
    poll_until(lambda: watch.live, "the second listener to subscribe", 5, 0.01)
    return watch


def test_a_live_process_answers_from_its_copy_without_asking_redis(
    cache: Any, server: RedisServer
) -> None:
    cache.set("counter", 3, None)
    live_watch()
    assert versions.current("counter") == 3
    before = gets(server)
    for _ in range(50):
        assert versions.current("counter") == 3
    assert gets(server) == before


def test_a_bump_returns_once_every_process_dropped_its_copy(cache: Any) -> None:
    cache.set("counter", 1, None)
    here = live_watch()
    there = other_process(cache)
    try:
        assert here.read("counter") == there.read("counter") == 1
        versions.bump("counter", initial=1)
        # no waiting here: bump returned after both acknowledged
        assert "counter" not in there.values and "counter" not in here.values
        assert there.read("counter") == here.read("counter") == 2
    finally:
        there.stop()


def test_a_bump_waits_for_a_slow_process(cache: Any) -> None:
    class Slow(versions.VersionWatch):
        def _handle(self, data: Any) -> None:
            time.sleep(0.4)
            super()._handle(data)

    cache.set("counter", 1, None)
    live_watch()
    slow = Slow(cache)
    poll_until(lambda: slow.live, "the slow listener", 5, 0.01)
    try:
        assert slow.read("counter") == 1
        started = time.monotonic()
        versions.bump("counter", initial=1)
        assert time.monotonic() - started >= 0.35
        assert slow.read("counter") == 2
    finally:
        slow.stop()


def test_a_bump_outwaits_a_socket_timeout_shorter_than_its_own(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The cache's client gives up on a read after ``socket_timeout``; the wait for a
    slow listener is longer, and is still a wait, not a Redis error."""
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"bk-versions-{secrets.token_hex(4)}",
            "OPTIONS": {"socket_timeout": 0.5},
        }
    }

    class Slow(versions.VersionWatch):
        def _handle(self, data: Any) -> None:
            time.sleep(1.2)
            super()._handle(data)

    with override_settings(CACHES=config, BACKEND_KIT=FAST):
        cache = shared_cache()
        slow = Slow(cache)
        try:
            poll_until(lambda: slow.live, "the slow listener", 5, 0.01)
            cache.set("counter", 1, None)
            assert slow.read("counter") == 1
            started = time.monotonic()
            assert versions.announce(cache, "counter") == 1
            assert time.monotonic() - started >= 1.15
            assert "acknowledged the change" not in caplog.text
        finally:
            slow.stop()
            versions.reset()


def test_a_listener_that_never_answers_delays_a_bump_by_the_timeout_only(
    cache: Any, server: RedisServer, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    live_watch()
    mute = redis.Redis.from_url(server.url).pubsub()
    mute.subscribe(cache.make_and_validate_key(versions.CHANNEL))
    mute.get_message(timeout=1)  # the subscription's confirmation
    monkeypatch.setattr(versions.bk_settings, "VERSION_PUSH_TIMEOUT", 0.3)
    try:
        started = time.monotonic()
        acknowledged = versions.announce(cache, "counter")
        assert 0.25 <= time.monotonic() - started < 2
        assert acknowledged == 1  # this process's listener; the mute one never answered
        assert "1 of 2 processes acknowledged" in caplog.text
        note = json.loads(mute.get_message(timeout=1)["data"])
        assert note["key"] == "counter"
        assert not redis.Redis.from_url(server.url).exists(note["ack"])  # cleaned up
    finally:
        mute.close()


def test_a_change_made_without_a_publish_is_seen_within_the_poll_interval(
    cache: Any, server: RedisServer
) -> None:
    cache.set("counter", 1, None)
    live_watch()
    assert versions.current("counter") == 1
    redis.Redis.from_url(server.url).incr(cache.make_and_validate_key("counter"))
    poll_until(lambda: versions.current("counter") == 2, "the poll to see the new value", 2, 0.01)


def test_a_value_read_before_a_concurrent_drop_is_not_kept(cache: Any) -> None:
    cache.set("counter", 1, None)
    watch = live_watch()
    real_read = versions.read_counter
    in_get, resume = threading.Event(), threading.Event()

    def slow_read(key: str, alias: str | None = None) -> Any:
        value = real_read(key, alias)
        if threading.current_thread().name == "reader":  # not the listener's polls
            in_get.set()
            resume.wait(5)
        return value

    seen: list[Any] = []
    versions.read_counter = slow_read  # type: ignore[assignment]
    try:
        reader = threading.Thread(target=lambda: seen.append(watch.read("counter")), name="reader")
        reader.start()
        assert in_get.wait(5)
        versions.bump("counter", initial=1)  # dropped while the reader held the old value
        resume.set()
        reader.join(5)
    finally:
        versions.read_counter = real_read
    assert seen == [1]
    assert "counter" not in watch.values  # the stale value was not stored
    assert versions.current("counter") == 2


def test_without_redis_every_use_reads_the_cache_and_a_restart_starts_empty(
    cache: Any, server: RedisServer
) -> None:
    cache.set("counter", 1, None)
    watch = live_watch()
    assert versions.current("counter") == 1
    server.stop()
    try:
        poll_until(lambda: not watch.live, "the listener to notice the outage", 10, 0.01)
        with pytest.raises(redis.exceptions.ConnectionError):
            versions.current("counter")
        assert watch.values == {}
        # the schema cache survives the outage: no cache rather than an error
        assert schema._shared_version() is not None
    finally:
        server.start()
    poll_until(lambda: watch.live, "the listener to subscribe again", 15, 0.01)
    assert versions.current("counter") is None  # a fresh Redis: nothing stale kept
    cache.set("counter", 9, None)
    assert versions.current("counter") == 9


def _child_reads(key: str, answers: Any) -> None:
    versions.current(key)
    watch = versions._current_watch
    answers.put(watch is not None and watch.thread.is_alive())


def test_a_forked_child_starts_a_listener_of_its_own(cache: Any) -> None:
    cache.set("counter", 1, None)
    live_watch()
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_child_reads, args=("counter", answers))
    child.start()
    child.join(20)
    assert answers.get(timeout=5) is True


def test_a_missing_counter_starts_at_its_initial_value_once(cache: Any) -> None:
    here = live_watch()
    there = other_process(cache)
    try:
        assert versions.current("fresh", initial=7) == 7
        assert there.read("fresh") == 7
        # a later caller with another initial value gets the stored one
        assert versions.current("fresh", initial=100) == 7
        assert cache.get("fresh") == 7 and here.values["fresh"] == 7
    finally:
        there.stop()


def test_other_caches_are_read_on_every_use() -> None:
    config = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=config):
        shared_cache().set("counter", 4, None)
        assert versions.current("counter") == 4
        assert versions._current_watch is None
        versions.bump("counter", initial=1)
        assert versions.current("counter") == 5


def test_push_can_be_turned_off(cache: Any, server: RedisServer) -> None:
    with override_settings(BACKEND_KIT={"VERSION_PUSH": False}):
        cache.set("counter", 1, None)
        before = gets(server)
        assert versions.current("counter") == 1
        assert versions.current("counter") == 1
        assert gets(server) == before + 2
        assert versions._current_watch is None
