"""backend_kit.cache: the process-wide cache and the counters read on every request."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from backend_kit.cache import read_counter, shared_cache

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache() -> Iterator[Any]:
    """The shared cache on Redis, under a key prefix of this run only."""
    if not redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"bk-cache-test-{secrets.token_hex(6)}",
        }
    }
    with override_settings(CACHES=config):
        cache = shared_cache()
        yield cache
        cache.delete_many(["counter", "other"])


def test_a_counter_reads_what_the_cache_wrote(redis_cache: Any) -> None:
    assert read_counter("counter") is None
    redis_cache.set("counter", 5, None)
    assert read_counter("counter") == 5
    redis_cache.incr("counter")
    assert read_counter("counter") == 6 == redis_cache.get("counter")


def test_a_change_by_another_process_is_read_at_once(redis_cache: Any) -> None:
    redis_cache.set("counter", 1, None)
    assert read_counter("counter") == 1
    # another process: its own connection, the same key as Django stores it
    other = redis.Redis.from_url(REDIS_URL)
    other.incr(redis_cache.make_key("counter"))
    assert read_counter("counter") == 2
    other.close()


def test_a_value_that_is_not_a_counter_is_decoded_by_django(redis_cache: Any) -> None:
    redis_cache.set("other", {"not": "a counter"}, None)
    assert read_counter("other") == {"not": "a counter"}


def test_each_thread_reads_on_its_own_connection(redis_cache: Any) -> None:
    redis_cache.set("counter", 7, None)
    seen: list[Any] = []
    threads = [
        threading.Thread(target=lambda: seen.append(read_counter("counter"))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [7, 7, 7, 7]


def test_an_unreachable_redis_raises_like_the_cache() -> None:
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    with override_settings(CACHES=config):
        with pytest.raises(redis.exceptions.ConnectionError):
            read_counter("counter")
        with pytest.raises(redis.exceptions.ConnectionError):
            read_counter("counter")  # the failed connection was dropped, tried again


def test_other_backends_use_the_cache_itself() -> None:
    config = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=config):
        shared_cache().set("counter", 3, None)
        assert read_counter("counter") == 3
