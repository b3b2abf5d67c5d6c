"""The one ASGI route a host project mounts.

``parse_application(django_app, mount="/parse")`` returns an ASGI application that

* refuses request bodies over the configured limit before Django reads them
  (``Content-Length`` checked up front, streamed bodies counted as they arrive);
* serves LiveQuery over WebSocket at the mount path when ``backend_kit.realtime``
  is installed (Channels), and hands every other scope to Django.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from .errors import Code

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Per-path body limits: the files app registers its own (uploads may be large).
Limit = tuple[int, int, str]  # (bytes, Parse code, message)
_limit_providers: list[Callable[[str], int | Limit | None]] = []


def register_body_limit(provider: Callable[[str], int | Limit | None]) -> None:
    """``provider(path_below_mount)`` answers None (not mine), a byte limit, or
    ``(limit, code, message)`` to refuse with its own Parse error; the first answer wins."""
    _limit_providers.append(provider)


# Wrappers other apps register (metrics, connection quotas) around the whole app.
_app_wrappers: list[Callable[[ASGIApp], ASGIApp]] = []


def register_application_wrapper(wrapper: Callable[[ASGIApp], ASGIApp]) -> None:
    """``wrapper(app) -> app`` is applied to what :func:`parse_application` returns
    (HTTP and WebSocket scopes); registering twice is a no-op."""
    if wrapper not in _app_wrappers:
        _app_wrappers.append(wrapper)


def body_limit(path: str) -> Limit:
    for provider in _limit_providers:
        answer = provider(path)
        if answer is None:
            continue
        if isinstance(answer, tuple):
            return answer
        return answer, Code.OBJECT_TOO_LARGE, f"request body is larger than {answer} bytes"
    from .conf import bk_settings

    limit = int(bk_settings.MAX_BODY_SIZE)
    return limit, Code.OBJECT_TOO_LARGE, f"request body is larger than {limit} bytes"


async def _too_large(send: Send, limit: Limit, scope: Scope) -> None:
    from .api import cors_headers_for

    body = orjson.dumps({"code": limit[1], "error": limit[2]})
    origin = next(
        (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"origin"), None
    )
    # a browser only shows the Parse error to the SDK with the CORS headers on it
    cors = [(k.lower().encode(), v.encode()) for k, v in cors_headers_for(origin).items()]
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *cors,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` when it is one valid number, else None."""
    found = None
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            if found is not None or not value.isdigit():
                return None  # repeated or not a number: count what arrives instead
            found = int(value)
    return found


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, mount: str) -> None:
        self.app = app
        self.mount = mount.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.mount):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"][len(self.mount) :])
        declared = _declared_length(scope)
        if declared is not None:
            if declared > limit[0]:
                await _too_large(send, limit, scope)
                return
            # The server reads exactly the declared length as the body (HTTP framing):
            # nothing more can arrive, so there is nothing to count.
            await self.app(scope, receive, send)
            return
        received = 0
        refused = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit[0]:
                    refused = True
                    await _too_large(send, limit, scope)
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send)


def _pooled_for_mount(django_app: ASGIApp, mount: str) -> ASGIApp:
    """Requests under the mount go to a thread-pooled Django handler (backend_kit.handler)."""
    from .conf import bk_settings
    from .handler import pooled_handler

    pooled = pooled_handler(int(bk_settings.REQUEST_THREADS or 0))
    if pooled is None:
        return django_app
    prefix = mount.rstrip("/")

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == prefix or path.startswith(prefix + "/")):
            await pooled(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    return application


def parse_application(django_app: ASGIApp, mount: str = "/parse") -> ASGIApp:
    """The host's ASGI application: Django for HTTP, LiveQuery for WebSockets."""
    app = _routed_application(django_app, mount)
    for wrapper in _app_wrappers:
        app = wrapper(app)
    from .conf import bk_settings
    from .gctuning import tune

    tune(bk_settings.GC_TUNING)  # start-up is over: freeze what it allocated
    return app


def _routed_application(django_app: ASGIApp, mount: str) -> ASGIApp:
    http_app = BodyLimitMiddleware(_pooled_for_mount(django_app, mount), mount)
    from django.apps import apps

    if not apps.is_installed("backend_kit.realtime"):
        return http_app
    from .realtime.routing import websocket_application

    ws_app = websocket_application(mount)

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await ws_app(scope, receive, send)
        else:
            await http_app(scope, receive, send)

    return application
