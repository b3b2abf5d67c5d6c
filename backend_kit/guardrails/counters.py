"""Fixed-window counters in Django's cache, atomic across processes on Redis.

On Django's ``RedisCache`` (and django-redis) each batch of counters is one round
trip: ``SET key 0 EX ttl NX`` then ``INCRBY key n`` per counter, in one MULTI/EXEC,
so a counter never exists without its expiry and concurrent processes never lose a
hit. Other caches use ``add`` + ``incr``: atomic on Memcached, per process on
``LocMemCache`` (check ``backend_kit.W101`` says so).
"""

from __future__ import annotations

import logging
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
