"""The per-process LiveQuery hub.

Each ASGI process (each event loop) has one hub. It holds the sockets connected to
*this* process and their subscriptions, and listens, on one channel-layer channel, to
the groups of the classes they subscribe to. A change is therefore sent once per
process through the channel layer (Redis in production) and fanned out here, in
memory, to the local sockets. Nothing another process needs is kept here.

Fan-out cost is kept per *distinct* subscription, not per socket: subscriptions that
would see the same event the same way (same query, keys, watch, hidden fields and
caller; see :attr:`Subscription.share_key`) are evaluated and serialised once per
event, and each socket only gets its own ``clientId``/``requestId`` around the shared
JSON.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from ..context import RequestContext
from ..errors import Code
from ..objects.query.matcher import Matcher
from . import settings
from .subscriptions import Subscription, encode_event, event_for

log = logging.getLogger("backend_kit.realtime")
YIELD_EVERY = 500  # subscriptions handled between two yields to the event loop
# Group memberships are refreshed this often: a restarted Redis has forgotten them,
# and channels-redis drops idle ones after a day.
REJOIN_SECONDS = 5.0
INBOX_SIZE = 10_000  # changes waiting for fan-out before new ones are dropped (logged)
MISSING = object()


class Client(Protocol):
    client_key: str

    def push_prepared(self, op: str, request_id: int, body: str) -> None:
        """Queue an event whose ``"object"``/``"original"`` JSON members are ``body``."""

    def push_error(
        self, code: int, message: str, *, reconnect: bool, request_id: int | None = None
    ) -> None: ...

    def drop_subscription(self, request_id: int) -> None: ...

    def sessions_revoked(self, session_ids: set[str]) -> None:
        """The sessions were deleted: a connection opened with one of them loses it."""

    def contexts(self) -> list[RequestContext]:
        """The contexts the socket acts with (their roles are refreshed in place)."""


Entry = tuple[Client, Subscription]


class Hub:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.layer: Any = None
        self.channel: str | None = None
        self.clients: dict[str, Client] = {}
        self.by_class: dict[str, dict[tuple[str, int], Entry]] = {}
        self.by_client: dict[str, dict[int, str]] = {}  # client_key -> requestId -> class
        self.groups: set[str] = set()
        self.inbox: asyncio.Queue[dict[str, Any]] | None = None
        self.tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if self.loop is not None:
            return
        self.loop = asyncio.get_running_loop()
        self.inbox = asyncio.Queue(maxsize=INBOX_SIZE)
        self.tasks.append(self.loop.create_task(self._work()))
        self.layer = get_channel_layer(settings.get("LAYER"))
        if self.layer is not None:
            # The default prefix on purpose: channels-redis serves all of a process's
            # channels of one prefix with one blocking pop, but channels of different
            # prefixes take turns on one lock, each holding it for a 5 s pop. A hub
            # channel of its own prefix would wait behind every other consumer.
            self.channel = await self.layer.new_channel()
            await self._join(settings.control_group())
            self.tasks.append(self.loop.create_task(self._listen()))
            self.tasks.append(self.loop.create_task(self._keep_groups()))

    async def _join(self, group: str) -> None:
        self.groups.add(group)
        if self.layer is not None and self.channel is not None:
            try:
                await self.layer.group_add(group, self.channel)
            except Exception as exc:  # the keeper joins it once the broker is back
                log.warning("LiveQuery hub could not join %s: %s", group, exc)

    async def _listen(self) -> None:
        """Move messages from the channel layer to the inbox as fast as they come.

        The layer's per-channel capacity is small and a full channel drops group
        messages silently, so fan-out (which may take a while) never runs here.
        """
        backoff = 0.5
        while True:
            try:
                message = await self.layer.receive(self.channel)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: wait, then join the groups again
                log.warning(
                    "LiveQuery hub lost the channel layer (%s); retrying in %.1fs", exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                await self._rejoin()
                continue
            self._accept(message.get("message") or {})

    async def _keep_groups(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self._rejoin()

    async def _rejoin(self) -> None:
        for group in list(self.groups):
            try:
                await self.layer.group_add(group, self.channel)
            except Exception:
                return

    def _accept(self, message: dict[str, Any]) -> None:
        assert self.inbox is not None
        try:
            self.inbox.put_nowait(message)
        except asyncio.QueueFull:
            log.error("LiveQuery hub is %d changes behind; dropping one", INBOX_SIZE)

    async def _work(self) -> None:
        assert self.inbox is not None
        while True:
            message = await self.inbox.get()
            try:
                await self.dispatch(message)
            except Exception:
                log.exception("LiveQuery event could not be dispatched")

    # --- clients and subscriptions -----------------------------------------------------------
    async def attach(self, client: Client) -> None:
        await self.start()
        self.clients[client.client_key] = client

    async def add(self, client: Client, sub: Subscription) -> None:
        await self.start()
        self.remove(client, sub.request_id)
        self.by_class.setdefault(sub.class_name, {})[(client.client_key, sub.request_id)] = (
            client,
            sub,
        )
        self.by_client.setdefault(client.client_key, {})[sub.request_id] = sub.class_name
        group = settings.group_for(sub.class_name)
        if group not in self.groups:
            await self._join(group)

    def remove(self, client: Client, request_id: int) -> Subscription | None:
        class_name = self.by_client.get(client.client_key, {}).pop(request_id, None)
        if class_name is None:
            return None
        entry = self.by_class.get(class_name, {}).pop((client.client_key, request_id), None)
        return entry[1] if entry is not None else None

    def remove_client(self, client: Client) -> None:
        """Forget a socket and all its subscriptions (it closed, or is being closed)."""
        self.clients.pop(client.client_key, None)
        for request_id, class_name in self.by_client.pop(client.client_key, {}).items():
            self.by_class.get(class_name, {}).pop((client.client_key, request_id), None)

    def subscriptions(self) -> list[Entry]:
        return [entry for subs in self.by_class.values() for entry in subs.values()]

    # --- events ----------------------------------------------------------------------------
    def publish_local(self, message: dict[str, Any]) -> None:
        """Deliver without a channel layer (one process): thread-safe, order kept."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._accept, message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "event":
            await self._fan_out(message)
        elif kind == "roles":
            await self._refresh_roles()
        elif kind == "sessions":
            self._revoke_sessions(set(message.get("ids") or []))

    async def _fan_out(self, message: dict[str, Any]) -> None:
        class_name = message["className"]
        entries = list((self.by_class.get(class_name) or {}).values())
        if not entries:
            return
        change = Change(message)
        shared = change.shared
        now_iso = _now_iso() if any(e[1].ctx.session is not None for e in entries) else ""
        for i, (client, sub) in enumerate(entries):
            if i and i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            if now_iso and _session_expired(sub, now_iso):
                self._expire(client, sub)
                continue
            # Most subscriptions share an answer already computed for this change: no
            # coroutine, no matching, no serialising for them.
            result = shared.get(sub.share_key, MISSING)
            if result is MISSING:
                try:
                    result = await change.event(sub)
                except Exception as exc:
                    log.warning(
                        "LiveQuery subscription %s could not be matched: %s", sub.request_id, exc
                    )
                    client.push_error(
                        Code.INVALID_QUERY,
                        f"subscription could not be evaluated: {exc}",
                        reconnect=False,
                        request_id=sub.request_id,
                    )
                    continue
            if result is not None:
                client.push_prepared(result[0], sub.request_id, result[1])

    async def _refresh_roles(self) -> None:
        """Roles changed somewhere: reload every connected user's roles, then swap them in.

        The new lists are computed off the event loop and assigned in one step, so an
        event being matched meanwhile sees either the old roles or the new ones.
        """
        contexts: dict[int, RequestContext] = {}
        for client in self.clients.values():
            for ctx in client.contexts():
                if ctx.user is not None:
                    contexts[id(ctx)] = ctx
        from .. import identity

        def load() -> list[tuple[Any, list[str]]]:
            _forget_cached_roles()
            return [(ctx, identity.roles_for(ctx)) for ctx in contexts.values()]

        for ctx, roles in await database_sync_to_async(load)():
            ctx._roles = roles

    def _revoke_sessions(self, session_ids: set[str]) -> None:
        for client, sub in self.subscriptions():
            session = sub.ctx.session
            if session is not None and session.object_id in session_ids:
                self._expire(client, sub, "Invalid session token")
        for client in list(self.clients.values()):
            client.sessions_revoked(session_ids)

    def _expire(
        self, client: Client, sub: Subscription, message: str = "Session token is expired."
    ) -> None:
        self.remove(client, sub.request_id)
        client.drop_subscription(sub.request_id)
        client.push_error(
            Code.INVALID_SESSION_TOKEN, message, reconnect=False, request_id=sub.request_id
        )


class Change:
    """One saved or deleted object, and what it means for each kind of subscription.

    Results are memoised by :attr:`Subscription.share_key`: thousands of sockets with
    the same query cost one evaluation and one serialisation.
    """

    def __init__(self, message: dict[str, Any]) -> None:
        self.class_name: str = message["className"]
        self.obj = message.get("object")
        self.original = message.get("original")
        self.deleted = bool(message.get("deleted"))
        self.matcher = Matcher(None, self.class_name)
        self.shared: dict[Any, tuple[str, str] | None] = {}
        from ..objects import hooks

        self.triggered = hooks.triggers().has("afterLiveQueryEvent", self.class_name)

    async def event(self, sub: Subscription) -> tuple[str, str] | None:
        """``(op, JSON body)`` for ``sub``, or None when this change is not for it."""
        if self.triggered:  # the trigger sees (and may change) each subscriber's event
            return await self._evaluate(sub)
        key = sub.share_key
        if key not in self.shared:
            self.shared[key] = await self._evaluate(sub)
        return self.shared[key]

    async def _evaluate(self, sub: Subscription) -> tuple[str, str] | None:
        if sub.needs_db:
            result = await database_sync_to_async(_event_with_db)(
                sub, self.obj, self.original, self.deleted
            )
        else:
            result = event_for(
                sub, self.obj, self.original, deleted=self.deleted, matcher=self.matcher
            )
        if result is None:
            return None
        op, shaped, shaped_original = result
        if self.triggered:
            shaped, keep = await _after_event(sub, op, shaped, shaped_original)
            if not keep:
                return None
        return op, encode_event(shaped, shaped_original)


def _forget_cached_roles() -> None:
    """Make the next role lookups read the database.

    The writer bumps the roles cache version after its commit, in its own thread and
    (with a per-process cache) in its own process only; this hub may get here first,
    or in another process, and would read the old roles.
    """
    from django.apps import apps

    if apps.is_installed("backend_kit.accounts"):
        from ..accounts.roles import bump_version

        bump_version()


def _event_with_db(sub: Subscription, obj: Any, original: Any, deleted: bool) -> Any:
    from ..objects.query.resolver import DatabaseResolver
    from ..objects.sql import principals_for

    matcher = Matcher(DatabaseResolver(principals_for(sub.ctx)), sub.class_name)
    return event_for(sub, obj, original, deleted=deleted, matcher=matcher)


def _now_iso() -> str:
    from ..codec import format_iso
    from ..objects.writes import now

    return format_iso(now())


def _session_expired(sub: Subscription, now_iso: str) -> bool:
    session = sub.ctx.session
    if session is None:
        return False
    expires = ((getattr(session, "data", None) or {}).get("expiresAt") or {}).get("iso")
    return bool(expires) and expires <= now_iso


async def _after_event(sub: Subscription, op: str, obj: Any, original: Any) -> tuple[Any, bool]:
    """Run an ``afterLiveQueryEvent`` trigger: it may change the object or drop the event."""
    from ..objects import hooks

    runner = getattr(hooks.triggers(), "after_live_query_event", None)
    if runner is None:
        return obj, True
    return await database_sync_to_async(runner)(sub.ctx, sub.class_name, op, obj, original)


_hubs: dict[int, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    current = _hubs.get(id(loop))
    if current is None:
        current = _hubs[id(loop)] = Hub()
    return current


def local_hubs() -> list[Hub]:
    return list(_hubs.values())
