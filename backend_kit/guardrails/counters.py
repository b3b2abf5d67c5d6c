"""Fixed-window counters in Django's cache, atomic across processes on Redis.

On Django's ``RedisCache`` (and django-redis) each batch of counters is one round
trip: ``SET key 0 EX ttl NX`` then ``INCRBY key n`` per counter, in one MULTI/EXEC,
so a counter never exists without its expiry and concurrent processes never lose a
hit. Other caches use ``add`` + ``incr``: atomic on Memcached, per process on
``LocMemCache`` (check ``backend_kit.W101`` says so).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from typing import Any

from ..cache import shared_cache
from . import app_settings

log = logging.getLogger("backend_kit.guardrails")

# (key, ttl seconds, amount)
Hit = tuple[str, int, int]


def cache() -> Any:
    return shared_cache(app_settings.cache_alias())


def _redis_client(backend: Any, key: str) -> tuple[Any, str] | None:
    """The redis-py client behind a Django cache and the cache's full key, if Redis."""
    if hasattr(backend, "_cache") and hasattr(backend._cache, "get_client"):
        full = backend.make_and_validate_key(key)  # django.core.cache.backends.redis
        return backend._cache.get_client(full, write=True), full
    client = getattr(backend, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis
        return client.get_client(write=True), backend.make_and_validate_key(key)
    return None


def hit(hits: list[Hit]) -> list[int]:
    """Add each amount to its counter (created with its ttl); returns the new values."""
    if not hits:
        return []
    backend = cache()
    first = _redis_client(backend, hits[0][0])
    if first is not None:
        client = first[0]
        pipe = client.pipeline(transaction=True)
        for key, ttl, amount in hits:
            full = backend.make_and_validate_key(key)
            pipe.set(full, 0, ex=max(int(ttl), 1), nx=True)
            pipe.incrby(full, amount)
        replies = pipe.execute()
        return [int(value) for value in replies[1::2]]
    return [_hit_generic(backend, key, ttl, amount) for key, ttl, amount in hits]


def _hit_generic(backend: Any, key: str, ttl: int, amount: int) -> int:
    for _attempt in range(3):
        if backend.add(key, amount, max(int(ttl), 1)):
            return amount
        try:
            return int(backend.incr(key, amount))
        except ValueError:  # expired between add and incr: start it again
            continue
    return amount


def take_back(hits: list[Hit]) -> None:
    """Undo hits (a refused request must not use up a quota)."""
    if not hits:
        return
    backend = cache()
    first = _redis_client(backend, hits[0][0])
    if first is not None:
        pipe = first[0].pipeline(transaction=False)
        for key, _ttl, amount in hits:
            pipe.decrby(backend.make_and_validate_key(key), amount)
        pipe.execute()
        return
    for key, _ttl, amount in hits:
        try:
            backend.decr(key, amount)
        except ValueError:
            pass


def read(keys: list[str]) -> dict[str, int]:
    """Current values (missing counters are absent)."""
    found = cache().get_many(keys)
    return {key: int(value) for key, value in found.items() if value is not None}


# --- counts that nobody waits for ----------------------------------------------------
# Usage of a metric without a quota is only shown (admin, metrics): a Redis round trip
# per request for it cost a sixth of a ``GET /classes/X/id``. Those counts gather in
# the process and a daemon thread adds them every ``USAGE_FLUSH_SECONDS`` (and at exit).

_pending: Counter[tuple[str, int]] = Counter()
_pending_lock = threading.Lock()
_flusher_pid: int | None = None


def hit_later(hits: list[Hit]) -> None:
    """Add the amounts within ``USAGE_FLUSH_SECONDS``; nothing is returned or refused."""
    interval = _flush_interval()
    if interval <= 0:
        hit(hits)
        return
    with _pending_lock:
        for key, ttl, amount in hits:
            _pending[(key, ttl)] += amount
    _ensure_flusher(interval)


def pending(key: str) -> int:
    """What this process counted for ``key`` and has not added yet."""
    with _pending_lock:
        return sum(amount for (k, _ttl), amount in _pending.items() if k == key)


def discard_pending() -> None:
    """Forget what this process gathered (tests start each from zero)."""
    with _pending_lock:
        _pending.clear()


def flush() -> None:
    """Add what this process gathered to the shared counters now."""
    with _pending_lock:
        batch = [(key, ttl, amount) for (key, ttl), amount in _pending.items() if amount]
        _pending.clear()
    if not batch:
        return
    try:
        hit(batch)
    except Exception:
        log.warning("usage counters unavailable; %d counts kept for later", len(batch))
        with _pending_lock:
            for key, ttl, amount in batch:
                _pending[(key, ttl)] += amount


def _flush_interval() -> float:
    value = app_settings.get("USAGE_FLUSH_SECONDS")
    return float(value) if isinstance(value, (int, float)) and value > 0 else 0.0


def _ensure_flusher(interval: float) -> None:
    global _flusher_pid
    if _flusher_pid == os.getpid():
        return
    with _pending_lock:
        if _flusher_pid == os.getpid():
            return
        # after a fork (Celery's prefork pool) the parent's thread is not running here
        _flusher_pid = os.getpid()
    thread = threading.Thread(
        target=_flush_forever, args=(interval,), name="bk-usage-flush", daemon=True
    )
    thread.start()


def _flush_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            flush()
        except Exception:  # the thread must outlive any one failure
            log.exception("flushing usage counters failed")


atexit.register(flush)
