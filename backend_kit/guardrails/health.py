"""The deep health check: every service the app depends on, each with a time limit.

``GET /health`` stays the cheap liveness answer (no keys, no I/O); this one, behind
the master key at ``GET /health/deep``, is for operators and readiness probes that
can afford a few round trips.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.apps import apps
from django.conf import settings

from . import app_settings

Check = Callable[[], str | None]  # returns a detail, or None when not configured


def database() -> str:
    from django.db import connections

    found = []
    for alias in settings.DATABASES:
        conn = connections[alias]
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        found.append(f"{alias} ({conn.vendor})")
        conn.close_if_unusable_or_obsolete()
    return ", ".join(found)


def cache() -> str:
    from django.core.cache import caches

    from ..conf import bk_settings

    names = list(dict.fromkeys([bk_settings.CACHE_ALIAS, app_settings.cache_alias()]))
    for name in names:
        backend = caches[name]
        key = f"bk:health:{uuid.uuid4().hex}"
        backend.set(key, "ok", 10)
        if backend.get(key) != "ok" and type(backend).__name__ != "DummyCache":
            raise RuntimeError(f"cache {name!r} did not return what was stored")
        backend.delete(key)
    return ", ".join(f"{n} ({type(caches[n]).__name__})" for n in names)


def channel_layer() -> str | None:
    if not apps.is_installed("backend_kit.realtime"):
        return None
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from ..realtime import settings as live_settings

    alias = live_settings.get("LAYER")
    layer = get_channel_layer(alias)
    if layer is None:
        raise RuntimeError(f"no channel layer {alias!r}")

    async def round_trip() -> None:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.probe"})
        message = await layer.receive(channel)
        if message.get("type") != "health.probe":
            raise RuntimeError("the channel layer returned another message")

    async_to_sync(round_trip)()
    return type(layer).__name__


def broker() -> str | None:
    if not apps.is_installed("backend_kit.jobs"):
        return None
    from ..jobs import backends

    if not backends.uses_celery():
        return None
    app = backends.celery_app()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=float(app_settings.get("HEALTH_TIMEOUT")))
        return f"{conn.transport_cls}://{conn.hostname}:{conn.port}"


def storage() -> str | None:
    if not apps.is_installed("backend_kit.files"):
        return None
    from ..files.storage import get_storage

    backend = get_storage()
    backend.exists(f"bk-health-probe-{uuid.uuid4().hex}")
    return type(backend).__name__


CHECKS: dict[str, Check] = {
    "database": database,
    "cache": cache,
    "channel_layer": channel_layer,
    "broker": broker,
    "storage": storage,
}


def run() -> dict[str, Any]:
    """``{"status": "ok" | "failing", "checks": {name: {"ok", "ms", "detail"|"error"}}}``."""
    timeout = float(app_settings.get("HEALTH_TIMEOUT"))
    results: dict[str, Any] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="bk-health")
    started = {name: time.perf_counter() for name in CHECKS}
    futures = {name: pool.submit(_in_thread, check) for name, check in CHECKS.items()}
    for name, future in futures.items():
        try:
            detail = future.result(
                timeout=max(0.1, timeout - (time.perf_counter() - started[name]))
            )
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {timeout:g} s"}
            continue
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            continue
        ms = round((time.perf_counter() - started[name]) * 1000, 1)
        if detail is None:
            results[name] = {"ok": True, "skipped": "not configured"}
        else:
            results[name] = {"ok": True, "ms": ms, "detail": detail}
    pool.shutdown(wait=False, cancel_futures=True)
    status = "ok" if all(r["ok"] for r in results.values()) else "failing"
    return {"status": status, "checks": results}


def _in_thread(check: Check) -> str | None:
    from django.db import connections

    try:
        return check()
    finally:
        connections.close_all()  # this thread's connections end with it
