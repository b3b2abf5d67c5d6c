"""The ASGI wrapper (registered with ``routing.register_application_wrapper``): the
``realtime_connections`` quota and the LiveQuery metrics."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async

from ..errors import ParseError
from . import app_settings, metrics, quotas

log = logging.getLogger("backend_kit.guardrails")
# "Try again later", sent instead of accepting the socket (the handshake answers 403).
REFUSED_CLOSE_CODE = 1013


def _admit_connection(ip: str | None) -> bool:
    from django.db import connections

    from ..context import RequestContext

    ctx = RequestContext(ip=ip)
    try:
        quotas.consume("realtime_connections", 1, enforce=not quotas.exempt(ctx))
    except ParseError:
        return False
    finally:
        # a notice may have opened a connection in this pool thread: do not keep it
        for conn in connections.all(initialized_only=True):
            conn.close()
    return True


def wrap(app: Any) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "websocket":
            await app(scope, receive, send)
            return
        client = scope.get("client") or (None, None)
        if not await sync_to_async(_admit_connection, thread_sensitive=False)(client[0]):
            message = await receive()
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": REFUSED_CLOSE_CODE})
            return
        if not app_settings.get("METRICS_ENABLED") or not metrics.enabled():
            await app(scope, receive, send)
            return
        accepted = False

        async def measured_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            kind = message.get("type")
            if kind == "websocket.send":
                metrics.frame_sent(message.get("text"))
            elif kind == "websocket.accept" and not accepted:
                accepted = True
                metrics.connection_opened()
            await send(message)

        try:
            await app(scope, receive, measured_send)
        finally:
            if accepted:
                metrics.connection_closed()

    return guarded
