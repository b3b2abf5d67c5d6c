"""Push transports: how a batch of devices of one type gets a notification.

A transport is configured per device type in ``BACKEND_KIT["PUSH"]["TRANSPORTS"]``
(``{"BACKEND": dotted path, "OPTIONS": {...}}``) and instantiated lazily, once per
distinct entry; the instances are dropped when settings change. Shipped:

* :class:`~backend_kit.push.transports.apns.APNsTransport` (aioapns, HTTP/2),
* :class:`~backend_kit.push.transports.fcm.FCMTransport` (firebase-admin, FCM v1),
* :class:`~backend_kit.push.transports.webpush.WebPushTransport` (pywebpush, VAPID),
* :class:`~backend_kit.push.transports.local.LoggingTransport` and
  :class:`~backend_kit.push.transports.local.RecordingTransport` (nothing leaves).

Write your own by subclassing :class:`PushTransport`.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..app_settings import get


@dataclass
class Device:
    """One installation as a transport sees it."""

    installation_id: str  # the installation's objectId
    device_type: str
    token: str
    badge: int | None = None
    locale: str | None = None
    time_zone: str | None = None
    app_identifier: str | None = None


@dataclass
class Delivery:
    """What became of one device: sent, or failed with the provider's reason.

    ``invalid_token``: the provider says the token is dead (it gets pruned).
    ``retry``: a passing failure (unreachable, overloaded): send to it again later.
    """

    device: Device
    sent: bool
    error: str | None = None
    invalid_token: bool = False
    retry: bool = False


class LoopThread:
    """An event loop in a daemon thread that outlives single calls.

    Async clients (firebase-admin's httpx client, aioapns' HTTP/2 connections) bind to
    the loop they were made on, so a transport keeps one loop for its whole life
    instead of a fresh ``asyncio.run`` per batch. A forked process (a Celery pool
    child) gets its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="bk-push-loop", daemon=True)
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop()).result()

    def stop(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None and self._pid == os.getpid():
            loop.call_soon_threadsafe(loop.stop)


class TransportUnavailable(Exception):
    """The provider cannot be reached at all: the whole batch is retried later."""


class InvalidToken(ValueError):
    """A ``deviceToken`` that cannot be a token of this transport's provider."""


class PushTransport:
    """Base of transports. Subclasses implement :meth:`send`.

    ``options`` are the ``OPTIONS`` of the transport's entry. :meth:`send` gets the
    message and the devices of one batch that share this transport, and answers one
    :class:`Delivery` per device; it raises :class:`TransportUnavailable` only when
    nothing could be sent because the provider is down.
    """

    #: Largest payload the provider accepts, in bytes, as measured by :meth:`payload_size`.
    max_payload_bytes: int = 4096

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.loop_thread = LoopThread()

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[str]:
        """Problems with ``options`` (for system checks); empty when they are usable."""
        return []

    def normalize_token(self, token: str) -> str:
        """``token`` in its stored form, or :class:`InvalidToken` with the reason."""
        return token

    def payload(self, data: dict[str, Any]) -> Any:
        """What goes on the wire for a device receiving Parse push ``data``."""
        return data

    def payload_size(self, data: dict[str, Any]) -> int:
        """Size of :meth:`payload` in the unit :attr:`max_payload_bytes` limits."""
        return len(orjson.dumps(self.payload(data)))

    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called when settings change."""
        self.loop_thread.stop()


_lock = threading.Lock()
_instances: dict[bytes, PushTransport] = {}


def _entries() -> dict[str, Any]:
    value = get("TRANSPORTS")
    return value if isinstance(value, dict) else {}


def configured_types() -> list[str]:
    """Device types that have a transport."""
    return sorted(t for t, entry in _entries().items() if entry)


def is_configured() -> bool:
    return bool(configured_types())


def transport_for(device_type: str | None) -> PushTransport | None:
    """The transport of ``device_type``, or None when it has none."""
    entry = _entries().get(device_type) if isinstance(device_type, str) else None
    if not entry:
        return None
    key = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS, default=str)
    with _lock:
        transport = _instances.get(key)
        if transport is None:
            cls = import_string(entry["BACKEND"])
            transport = cls(**(entry.get("OPTIONS") or {}))
            _instances[key] = transport
        return transport


def reset() -> None:
    with _lock:
        instances = list(_instances.values())
        _instances.clear()
    for transport in instances:
        try:
            transport.close()
        except Exception:  # a transport that fails to close must not block the reset
            pass


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "BACKEND_KIT":
        reset()


setting_changed.connect(_on_setting_changed)
