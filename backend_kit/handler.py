"""Django's ASGI handler for the Parse API, with its sync request path on a thread pool.

Every backend_kit endpoint is a sync DRF view. Under Django's own ``ASGIHandler`` each
request opens a ``ThreadSensitiveContext``: asgiref starts a new thread for it, and the
request hops between the event loop and that thread once per sync middleware and
again for the view, the signals and ``response.close()``. On the benchmark machine
those hops and the thread start were a quarter of a ``GET /classes/X/id``.

``PooledASGIHandler`` does what a WSGI server does instead: it reads the body on the
event loop, runs the whole sync middleware chain and view in one call on a fixed pool
of long-lived threads (no thread start per request; ``request_finished`` runs in the
thread that served the request, so its database connection goes back to the pool), and
sends the response from the event loop. ``parse_application`` uses it for requests
under the Parse mount only; the host project's other URLs (and any async view of
theirs) keep Django's handler. ``BACKEND_KIT["REQUEST_THREADS"]`` sizes the pool;
``0`` keeps Django's handler for the Parse mount too.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)
        # The sync middleware chain: called once, in one thread, with no hop between
        # middleware (async-only middleware is adapted by Django, as under WSGI).
        self.load_middleware(is_async=False)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="bk-request")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            # A fresh copy of the loop's context per request: nothing one request sets
            # in a context variable is seen by the next request on the same thread.
            context = contextvars.copy_context()
            response = await loop.run_in_executor(
                self.pool, context.run, self.respond, scope, body_file
            )
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the response was being sent
            finally:
                if response.streaming:
                    await loop.run_in_executor(self.pool, context.run, response.close)
        finally:
            body_file.close()

    def respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The whole sync request cycle, in one thread of the pool."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if not response.streaming:
            # request_finished fires here, in the thread that served the request, so
            # its database connection goes back to the pool before the next request.
            response.close()
        return response


def pooled_handler(threads: int) -> PooledASGIHandler | None:
    """The handler for the Parse mount, or None to keep the host's Django handler."""
    return PooledASGIHandler(threads) if threads > 0 else None
