"""The LiveQuery WebSocket protocol on a Channels consumer.

Client ops: ``connect``, ``subscribe``, ``update``, ``unsubscribe`` and SDK 8's
``query`` (answered with ``result``). Every frame the server sends goes through a
bounded queue drained by one sender task: a client that cannot keep up is told to
reconnect and closed, so it never slows the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import uuid
from collections import deque
from typing import Any

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from . import protocol, settings
from .hub import hub
from .subscriptions import Subscription

log = logging.getLogger("backend_kit.realtime")
OVERLOADED_CLOSE_CODE = 1013  # "try again later"


class LiveQueryConsumer(AsyncWebsocketConsumer):
    # Events reach sockets through the process's hub, never through a channel of the
    # socket's own: an alias that names no layer keeps Channels from opening one per
    # socket. With one per socket, a broker hiccup ended every socket, and
    # channels-redis made the hub's channel wait behind thousands of idle pops.
    channel_layer_alias = "__backend_kit_live_query_uses_the_hub__"

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-frame ``close_old_connections`` thread hop.

        Every database call here goes through ``database_sync_to_async``, which already
        closes stale connections around it; the extra hop per frame cost more than
        the rest of the frame's handling put together.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.client_key = uuid.uuid4().hex
        self.client_id: str | None = None
        self.frame_head = ""  # the clientId (and installationId) members of event frames
        self.installation_id: str | None = None
        self.ctx: RequestContext | None = None
        self.session_revoked = False
        self.subs: dict[int, Subscription] = {}
        # Frames waiting for the sender; bounded by SEND_QUEUE frames and
        # SEND_QUEUE_BYTES characters.
        self.outbox: deque[str] = deque()
        self.queued_bytes = 0
        self.max_queued = int(settings.get("SEND_QUEUE"))
        self.max_queued_bytes = int(settings.get("SEND_QUEUE_BYTES"))
        self.wakeup: asyncio.Future[None] | None = None
        self.overloaded = False
        self.closed = False
        await self.accept()
        self.sender: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._send_loop()
        )
        await hub().attach(self)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        hub().remove_client(self)
        self.subs.clear()
        sender, self.sender = getattr(self, "sender", None), None
        if sender is not None:
            sender.cancel()

    # --- outgoing ------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        # ASGI's send directly: Channels' send() wrappers add two coroutine layers per
        # frame, and this runs once per socket per event.
        send, outbox = self.base_send, self.outbox
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not outbox:
                    self.wakeup = loop.create_future()
                    await self.wakeup
                    continue
                text = outbox.popleft()
                self.queued_bytes -= len(text)
                await send({"type": "websocket.send", "text": text})
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket went away under us: disconnect() cleans up
            return

    def _enqueue_text(self, text: str) -> None:
        if self.overloaded or self.closed:
            return
        outbox = self.outbox
        if outbox and (
            len(outbox) >= self.max_queued or self.queued_bytes + len(text) > self.max_queued_bytes
        ):
            self._overload()
            return
        outbox.append(text)
        self.queued_bytes += len(text)
        wakeup = self.wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def _enqueue(self, frame: dict[str, Any]) -> None:
        self._enqueue_text(orjson.dumps(frame).decode())

    def _overload(self) -> None:
        """The client reads slower than events arrive: tell it to reconnect, then close.

        Queued frames are dropped (the client resynchronises after reconnecting) and
        the sender, which may be waiting for the socket to drain, is replaced by a task
        that sends the error and the close frame.
        """
        self.overloaded = True
        hub().remove_client(self)
        self.subs.clear()
        self.outbox.clear()
        self.queued_bytes = 0
        if self.sender is not None:
            self.sender.cancel()
        error = protocol.error_frame(
            1,
            "The client cannot keep up with its events; reconnect to resynchronise.",
            reconnect=True,
        )
        self.sender = asyncio.get_running_loop().create_task(self._close_overloaded(error))

    async def _close_overloaded(self, error: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.send(text_data=orjson.dumps(error).decode())
            await self.close(code=OVERLOADED_CLOSE_CODE)

    def push_prepared(self, op: str, request_id: int, body: str) -> None:
        self._enqueue_text(
            f'{{"op":"{op}"{self.frame_head},"requestId":{request_id}'
            + ("," + body if body else "")
            + "}"
        )

    def push_error(
        self, code: int, message: str, *, reconnect: bool, request_id: int | None = None
    ) -> None:
        self._enqueue(
            protocol.error_frame(code, message, reconnect=reconnect, request_id=request_id)
        )

    def drop_subscription(self, request_id: int) -> None:
        self.subs.pop(request_id, None)

    def contexts(self) -> list[RequestContext]:
        """Every context this socket acts with (its connection's and its subscriptions')."""
        found = [sub.ctx for sub in self.subs.values()]
        return found + [self.ctx] if self.ctx is not None else found

    def sessions_revoked(self, session_ids: set[str]) -> None:
        session = self.ctx.session if self.ctx is not None else None
        if session is not None and session.object_id in session_ids:
            self.session_revoked = True

    def _reply(self, op: str, **fields: Any) -> None:
        frame: dict[str, Any] = {"op": op, "clientId": self.client_id}
        if self.installation_id:
            frame["installationId"] = self.installation_id
        frame.update(fields)
        self._enqueue(frame)

    # --- incoming ------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.overloaded:
            return
        raw: str | bytes = text_data if text_data is not None else (bytes_data or b"")
        if _size(raw) > int(settings.get("MAX_FRAME")):
            self.push_error(1, "Message is too large.", reconnect=False)
            return
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.push_error(1, "Message is not valid JSON.", reconnect=False)
            return
        problem = protocol.validate(message)
        if problem is not None:
            code, text = problem
            self.push_error(
                code,
                text,
                reconnect=code == 1,
                request_id=_request_id(message),
            )
            return
        op = message["op"]
        try:
            if op == "connect":
                await self.op_connect(message)
            elif self.client_id is None:
                self.push_error(
                    2,
                    "Can not find this client, make sure you connect to server before subscribing",
                    reconnect=True,
                    request_id=_request_id(message),
                )
            elif op in ("subscribe", "update"):
                await self.op_subscribe(message)
            elif op == "unsubscribe":
                await self.op_unsubscribe(message)
            elif op == "query":
                await self.op_query(message)
        except ParseError as exc:
            self.push_error(exc.code, exc.message, reconnect=False, request_id=_request_id(message))
        except Exception:
            log.exception("LiveQuery %s failed", op)
            self.push_error(
                Code.INTERNAL_SERVER_ERROR,
                "Internal server error.",
                reconnect=True,
                request_id=_request_id(message),
            )

    async def op_connect(self, message: dict[str, Any]) -> None:
        if not _keys_valid(message):
            self.push_error(4, "Key in request is not valid", reconnect=False)
            return
        if message.get("sessionToken") or _has_connect_trigger():
            ctx = await database_sync_to_async(connection_context)(message, self.scope)
        else:  # nothing to look up: no thread hop for the common anonymous connect
            ctx = connection_context(message, self.scope)
        self.ctx = ctx
        self.session_revoked = False
        self.installation_id = message.get("installationId") or None
        self.client_id = str(uuid.uuid4())
        self.frame_head = f',"clientId":"{self.client_id}"'
        if self.installation_id:
            self.frame_head += ',"installationId":' + orjson.dumps(self.installation_id).decode()
        self._reply("connected")

    async def op_subscribe(self, message: dict[str, Any]) -> None:
        assert self.ctx is not None
        request_id = int(message["requestId"])
        if self.session_revoked and not message.get("sessionToken"):
            raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
        sub = await database_sync_to_async(protocol.build_subscription)(self.ctx, message)
        if self.overloaded or self.closed:
            return
        _ = sub.share_key  # computed now rather than during the first event's fan-out
        self.subs[request_id] = sub
        await hub().add(self, sub)  # replaces a subscription with the same requestId
        self._reply("subscribed", requestId=request_id)

    async def op_unsubscribe(self, message: dict[str, Any]) -> None:
        request_id = int(message["requestId"])
        if self.subs.pop(request_id, None) is None:
            self.push_error(
                2,
                f"Cannot find subscription with clientId {self.client_id} subscriptionId {request_id}. "
                "Make sure you subscribe to live query server before unsubscribing.",
                reconnect=True,
                request_id=request_id,
            )
            return
        hub().remove(self, request_id)
        self._reply("unsubscribed", requestId=request_id)

    async def op_query(self, message: dict[str, Any]) -> None:
        request_id = int(message["requestId"])
        sub = self.subs.get(request_id)
        if sub is None:
            self.push_error(
                2, f"Cannot find subscription {request_id}.", reconnect=False, request_id=request_id
            )
            return
        results = await database_sync_to_async(protocol.current_results)(sub)
        self._reply("result", requestId=request_id, results=results)


def _size(raw: str | bytes) -> int:
    """Size in bytes; cheap for the common case (ASCII text far under the limit)."""
    if isinstance(raw, bytes):
        return len(raw)
    if len(raw) * 4 <= int(settings.get("MAX_FRAME")):
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


def _request_id(message: Any) -> int | None:
    if not isinstance(message, dict):
        return None
    value = message.get("requestId")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _keys_valid(message: dict[str, Any]) -> bool:
    """Parse's rule: when keys are configured, one of the connect message's keys must match."""
    pairs = {
        "masterKey": bk_settings.MASTER_KEY,
        "javascriptKey": bk_settings.JAVASCRIPT_KEY,
        "clientKey": bk_settings.CLIENT_KEY,
        "restAPIKey": bk_settings.REST_API_KEY,
        "windowsKey": bk_settings.DOTNET_KEY,
    }
    if message.get("applicationId") != bk_settings.APP_ID:
        return False
    client_keys = {k: v for k, v in pairs.items() if v and k != "masterKey"}
    if not client_keys:
        return True
    for key, secret in pairs.items():
        given = message.get(key)
        if (
            secret
            and isinstance(given, str)
            and hmac.compare_digest(given.encode(), secret.encode())
        ):
            return True
    return False


def _has_connect_trigger() -> bool:
    from ..objects import hooks

    return bool(hooks.triggers().has("beforeConnect", "@global"))


def connection_context(message: dict[str, Any], scope: dict[str, Any]) -> RequestContext:
    from .protocol import context_for

    client = scope.get("client") or (None, None)
    return context_for(message, ip=client[0])
