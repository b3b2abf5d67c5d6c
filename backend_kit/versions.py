"""Version counters read on every request, held in each process and pushed by Redis.

The schema cache and the role cache are valid while a counter in Django's cache
(``CACHE_ALIAS``) keeps its value; every change bumps it. Reading that counter from
Redis on every request kept each process exact, at a round trip per request: with
Redis's own CPU and the two system calls, about a twentieth of a ``GET
/classes/X/id`` on the benchmark machine.

On Django's ``RedisCache`` with one server, each process now keeps the counters it has
read, and a thread of its own listens on a Redis channel:

- :func:`bump` increments a counter, publishes its name and waits until every process
  listening on the channel has acknowledged that it dropped its copy (``PUBLISH``
  answers how many listeners received the message; each pushes an acknowledgement onto
  a list that the bumper pops), for at most ``VERSION_PUSH_TIMEOUT`` seconds. A
  request that starts after the change's response therefore sees the new value in
  every process, as when every request read Redis.
- A process whose listener is not subscribed (starting, or reconnecting after a Redis
  outage) reads Redis on every use, as before; a listener that subscribes again starts
  with no copies, so nothing published while it was away is missed.
- The listener re-reads the counters it holds every ``VERSION_POLL_INTERVAL`` seconds
  and pings its own connection: a counter changed without a publish (an older release
  during a rolling upgrade, an ``INCR`` by hand) is seen within that interval, and a
  connection that stopped answering is replaced.

Any other cache backend, or ``VERSION_PUSH = False``, reads the cache on every use.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from .cache import on_one_redis_server, read_counter, shared_cache
from .conf import bk_settings

logger = logging.getLogger("backend_kit")

CHANNEL = "backend_kit:versions"


def current(key: str, *, initial: Any = None) -> Any:
    """The counter's value, from this process's copy when one is known to be current.

    A missing counter is created with ``initial`` (unless None), or with what another
    process stored first.
    """
    watch = _current_watch
    if watch is None and not _reads_cache:
        watch = _start_watch()
    value = read_counter(key) if watch is None else watch.read(key)
    if value is None and initial is not None:
        if shared_cache().add(key, initial, None):
            return initial
        value = read_counter(key) if watch is None else watch.read(key)
    return value


def bump(key: str, *, initial: Any) -> None:
    """Increment the counter (set it to ``initial`` if it is missing or not a number),
    then wait until every listening process has dropped its copy.

    Errors reach the caller, who decides whether a cache outage may fail its write.
    """
    cache = shared_cache()
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, initial, None)
    if _pushes(cache):
        announce(cache, key)


def announce(cache: BaseCache, key: str) -> int:
    """Publish that ``key`` changed and wait for the listeners; how many acknowledged."""
    from redis.exceptions import TimeoutError as RedisTimeoutError  # only ever on Redis

    client = _client(cache)
    ack = cache.make_and_validate_key(f"{CHANNEL}:ack:{secrets.token_hex(8)}")
    listeners = client.publish(_channel(cache), json.dumps({"key": key, "ack": ack}))
    timeout = float(bk_settings.VERSION_PUSH_TIMEOUT)
    deadline = time.monotonic() + timeout
    acknowledged = 0
    try:
        while acknowledged < listeners:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.warning(
                    "%d of %d processes acknowledged the change of %s within %.1f s; the others "
                    "use their copy until their listener reconnects or polls.",
                    acknowledged,
                    listeners,
                    key,
                    timeout,
                )
                break
            try:
                popped = client.blpop([ack], timeout=_wait_slice(client, left))
            except RedisTimeoutError:
                popped = None  # the client's socket timeout, not Redis's answer: wait on
            if popped is not None:
                acknowledged += 1
    finally:
        client.delete(ack)
    return acknowledged


def _wait_slice(client: Any, left: float) -> float:
    """How long one ``BLPOP`` for acknowledgements may block: what is left of the wait,
    but less than the client's socket timeout (the cache's ``OPTIONS``), since a
    ``BLPOP`` longer than that ends in a ``TimeoutError`` rather than an empty answer.
    Redis ends a blocking wait up to 1/hz (100 ms by default) late, hence the margin."""
    socket_timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
    if socket_timeout:
        socket_timeout = float(socket_timeout)
        left = min(left, max(socket_timeout - 0.15, socket_timeout / 2))
    return max(left, 0.01)


class VersionWatch:
    """One process's copies of the counters, and the thread that keeps them current."""

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache
        self.client = _client(cache)
        self.channel = _channel(cache)
        self.lock = threading.Lock()
        self.values: dict[str, Any] = {}
        # bumped whenever a copy is dropped: a reader that fetched a value before the
        # drop must not store it after (see read)
        self.generation = 0
        #: True while subscribed: only then are the copies used.
        self.live = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bk-version-watch", daemon=True)
        self.thread.start()

    def read(self, key: str) -> Any:
        if not self.live:
            return read_counter(key)
        try:
            return self.values[key]
        except KeyError:
            pass
        generation = self.generation
        value = read_counter(key)
        if value is None:
            return None  # not a counter yet: whoever creates it publishes nothing
        with self.lock:
            if generation == self.generation and self.live:
                self.values[key] = value
        return value

    def stop(self) -> None:
        self.stopped.set()
        self._forget()

    def _forget(self) -> None:
        with self.lock:
            self.live = False
            self.values.clear()
            self.generation += 1

    def _drop(self, key: str) -> None:
        with self.lock:
            self._drop_locked(key)

    def _drop_locked(self, key: str) -> None:
        self.values.pop(key, None)
        self.generation += 1

    # --- the listener thread ------------------------------------------------------------
    def _run(self) -> None:
        delay = 0.1
        while not self.stopped.is_set():
            pubsub = self.client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                self._listen(pubsub)
            except Exception as exc:
                if not self.stopped.is_set():
                    logger.warning(
                        "Version listener lost Redis (%s); retrying in %.1f s", exc, delay
                    )
            finally:
                self._forget()
                try:
                    pubsub.close()
                except Exception:
                    pass
            if self.stopped.wait(delay):
                return
            delay = min(delay * 2, 5.0)

    def _listen(self, pubsub: Any) -> None:
        interval = max(float(bk_settings.VERSION_POLL_INTERVAL), 0.05)
        next_poll = time.monotonic() + interval
        pong_due: float | None = None
        while not self.stopped.is_set():
            message = pubsub.get_message(timeout=min(max(next_poll - time.monotonic(), 0), 1.0))
            if message is not None:
                kind = message["type"]
                if kind == "subscribe":
                    self._forget()
                    self.live = True
                elif kind == "pong":
                    pong_due = None
                elif kind == "message":
                    self._handle(message["data"])
            if time.monotonic() >= next_poll:
                if pong_due is not None:
                    raise ConnectionError("no answer to the listener's ping")
                self._poll()
                pubsub.ping()
                pong_due = next_poll
                next_poll = time.monotonic() + interval

    def _handle(self, data: Any) -> None:
        try:
            note = json.loads(data)
            key, ack = note["key"], note.get("ack")
        except (ValueError, TypeError, KeyError):
            return
        self._drop(key)
        if ack:
            pipe = self.client.pipeline()
            pipe.rpush(ack, 1)
            pipe.expire(ack, 60)  # a bumper that gave up no longer deletes it
            pipe.execute()

    def _poll(self) -> None:
        with self.lock:
            held = dict(self.values)
        for key, value in held.items():
            if read_counter(key) != value:
                with self.lock:
                    if self.values.get(key) == value:
                        self._drop_locked(key)


_current_watch: VersionWatch | None = None
#: True once this process found it has no watch to start (not Redis, or push turned off):
#: every use reads the cache without asking again, until the settings change (reset).
_reads_cache = False
_start_lock = threading.Lock()


def _start_watch() -> VersionWatch | None:
    """This process's watch, started on first use (None: the cache is read every time)."""
    global _current_watch, _reads_cache
    cache = shared_cache()
    if not _pushes(cache):
        _reads_cache = True
        return None
    with _start_lock:
        if _current_watch is None:
            _current_watch = VersionWatch(cache)
        return _current_watch


def _pushes(cache: BaseCache) -> bool:
    return bool(bk_settings.VERSION_PUSH) and on_one_redis_server(cache)


def _client(cache: BaseCache) -> Any:
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


def _channel(cache: BaseCache) -> str:
    # under the cache's key prefix and version: projects sharing one Redis stay apart
    return cache.make_and_validate_key(CHANNEL)


def reset() -> None:
    """Stop this process's watch; the next read starts another (settings changed, fork)."""
    global _current_watch, _reads_cache
    with _start_lock:
        watch, _current_watch = _current_watch, None
        _reads_cache = False
    if watch is not None:
        watch.stop()


@receiver(setting_changed)
def _reset_on_change(*, setting: str, **kwargs: object) -> None:
    if setting in ("CACHES", "BACKEND_KIT"):
        reset()


def _after_fork() -> None:
    # a forked child (a Celery prefork worker) has the parent's copies but no thread
    global _current_watch, _reads_cache, _start_lock
    _current_watch = None
    _reads_cache = False
    _start_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
