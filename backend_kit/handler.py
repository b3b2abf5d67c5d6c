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

Database connections: with Django's connection pool (``OPTIONS["pool"]``, PostgreSQL)
every request takes a connection from the pool when it first queries and gives it back
at its end, and each checkout runs Django's whole connect path (the pool, the
connection's state, the ``connection_created`` signal): a tenth of the CPU of a
``GET``. The threads here are few and long-lived, so each keeps the pooled connection
it took for ``BACKEND_KIT["KEEP_DB_CONNECTIONS"]`` seconds (60) across the requests it
serves, then gives it back at the end of a request and takes a fresh one, so the pool
still recycles it. Django's own checks still close it early: a connection that saw an
error and no longer answers, or one left outside autocommit. A pool too small to hold
one connection per request thread with room to spare keeps Django's behaviour.

A Parse SDK authenticates with keys and session tokens, never with cookies, and reads
JSON, never a rendered page. For such a request (no ``Cookie`` header, no HTML asked
for) the pooled handler runs the host's middleware chain without the middleware that
only reads cookies or protects rendered pages (sessions, CSRF, Django's authentication,
messages, ``X-Frame-Options``: ``BACKEND_KIT["API_SKIPPED_MIDDLEWARE"]``); with none of
them there is nothing for them to do, yet they cost a tenth of a ``GET``. Every other
middleware of the host (logging, request ids, CORS, security headers) still runs, and
a browser (a cookie, or the browsable API) gets the whole chain.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver, set_script_prefix

from .api import ParseAPIView, may_ask_for_a_page
from .conf import bk_settings


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)
        self.threads = threads
        # The sync middleware chain: called once, in one thread, with no hop between
        # middleware (async-only middleware is adapted by Django, as under WSGI).
        self.load_middleware(is_async=False)
        self.api_chain = _api_chain()
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
            if self.api_chain is not None and _api_endpoint_for_client(request):
                if self.api_chain.anonymous_user:
                    request.user = AnonymousUser()  # what AuthenticationMiddleware gave it
                response = self.api_chain.get_response(request)
            else:
                response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if not response.streaming:
            # request_finished fires here, in the thread that served the request: its
            # database connections go back to the pool unless this thread keeps them.
            keep_pooled_connections(self.threads)
            response.close()
        return response


def keep_pooled_connections(threads: int) -> None:
    """Let this thread's new pooled connections outlive the request (see the module text).

    Django gives a pooled connection ``close_at`` = its connect time (``CONN_MAX_AGE``
    must be 0 with a pool), so ``close_old_connections`` at the end of the request
    returns it. A connection this thread has just taken gets ``close_at`` moved
    ``KEEP_DB_CONNECTIONS`` seconds on, once: after that the end of a request returns it.
    """
    keep = float(bk_settings.KEEP_DB_CONNECTIONS or 0)
    if keep <= 0:
        return
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        held = conn.connection
        if held is None or conn.close_at is None or getattr(conn, "bk_kept", None) is held:
            continue
        pool = getattr(conn, "pool", None)  # Django 5.1+ on PostgreSQL; None without a pool
        if pool is None or pool.max_size <= threads:
            continue  # every request thread holding one would starve the others
        conn.close_at = now + keep
        conn.bk_kept = held


class _MiddlewareChain(base.BaseHandler):
    """The host's sync middleware chain around Django's view call, minus some entries."""

    def __init__(self, middleware: list[str], *, anonymous_user: bool) -> None:
        super().__init__()
        #: True when the chain lacks the host's AuthenticationMiddleware: a cookie-less
        #: request would have had an anonymous ``request.user`` from it.
        self.anonymous_user = anonymous_user
        # load_middleware reads settings.MIDDLEWARE once; this runs while the ASGI
        # application is built, before any request is served.
        host = settings.MIDDLEWARE
        try:
            settings.MIDDLEWARE = middleware
            self.load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = host

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        # the match _api_endpoint_for_client found, unless a middleware changed the path
        # or the URLconf since
        found = getattr(request, "bk_resolved", None)
        if found is not None and found[0] == request.path_info and not hasattr(request, "urlconf"):
            request.resolver_match = found[1]
            return found[1]
        return super().resolve_request(request)


def _api_chain() -> _MiddlewareChain | None:
    """The chain for API clients, or None when no host middleware is skipped."""
    skipped = set(bk_settings.API_SKIPPED_MIDDLEWARE or ())
    kept = [path for path in settings.MIDDLEWARE if path not in skipped]
    if len(kept) == len(settings.MIDDLEWARE):
        return None
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    return _MiddlewareChain(kept, anonymous_user=auth in settings.MIDDLEWARE and auth not in kept)


def _api_endpoint_for_client(request: Any) -> bool:
    """A JSON endpoint of the Parse API, asked by a client with no cookie, for no page.

    The URL is resolved here, once: the chain hands the match to Django's view lookup
    (``_MiddlewareChain.resolve_request``). Pages under the mount (password reset,
    email verification) are plain Django views and keep the whole chain: their forms
    need the CSRF cookie whoever asks for them.
    """
    if "HTTP_COOKIE" in request.META or may_ask_for_a_page(request.META):
        return False
    try:
        match = get_resolver().resolve(request.path_info)
    except Resolver404:
        return False
    view = getattr(match.func, "cls", None)
    if not (isinstance(view, type) and issubclass(view, ParseAPIView)):
        return False
    request.bk_resolved = (request.path_info, match)
    return True


def pooled_handler(threads: int) -> PooledASGIHandler | None:
    """The handler for the Parse mount, or None to keep the host's Django handler."""
    return PooledASGIHandler(threads) if threads > 0 else None
