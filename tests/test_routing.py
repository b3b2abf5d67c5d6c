"""backend_kit.routing.BodyLimitMiddleware driven as an ASGI application."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from django.core.asgi import get_asgi_application
from django.test import override_settings

from backend_kit.routing import BodyLimitMiddleware, parse_application, register_body_limit

from .support import kit

LIMIT = 1000


class RecordingApp:
    """An inner ASGI app that reads the whole body and echoes its length."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""
        self.disconnected = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.called = True
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload = orjson.dumps({"received": len(self.body)})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def http_scope(
    path: str = "/parse/classes/X", headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


def drive(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[list[dict[str, Any]], int]:
    """Run ``app`` with ``chunks`` as the request body; returns (sent messages, chunks read)."""
    sent: list[dict[str, Any]] = []
    queue = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(queue):
            read += 1
            return queue[read - 1]
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    return sent, read


def status_and_body(sent: list[dict[str, Any]]) -> tuple[int, Any]:
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent  # exactly one response
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return starts[0]["status"], orjson.loads(body) if body else None


@pytest.fixture(autouse=True)
def small_limit() -> Any:
    with override_settings(BACKEND_KIT=kit(MAX_BODY_SIZE=LIMIT)):
        yield


def test_content_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")
    scope = http_scope(headers=[(b"content-length", str(LIMIT + 1).encode())])
    sent, read = drive(app, scope, [b"x" * (LIMIT + 1)])
    status, body = status_and_body(sent)
    assert status == 413
    assert body["code"] == 116 and str(LIMIT) in body["error"]
    assert inner.called is False
    assert read == 0  # not a byte of the body was read
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert (b"content-type", b"application/json") in start["headers"]


def test_streamed_body_over_the_limit_is_cut_off() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")
    chunks = [b"x" * 400] * 10  # no content-length; 4000 bytes in 400-byte chunks
    sent, read = drive(app, http_scope(), chunks)
    status, body = status_and_body(sent)
    assert status == 413 and body["code"] == 116
    assert inner.disconnected is True
    assert len(inner.body) <= LIMIT
    assert read == 3  # reading stopped at the chunk that crossed the limit


def test_body_under_the_limit_passes() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")
    scope = http_scope(headers=[(b"content-length", b"800")])
    sent, _ = drive(app, scope, [b"x" * 400, b"y" * 400])
    assert status_and_body(sent) == (200, {"received": 800})
    assert inner.body == b"x" * 400 + b"y" * 400


def test_body_exactly_at_the_limit_passes() -> None:
    inner = RecordingApp()
    sent, _ = drive(BodyLimitMiddleware(inner, "/parse"), http_scope(), [b"z" * LIMIT])
    assert status_and_body(sent) == (200, {"received": LIMIT})


def test_paths_outside_the_mount_are_not_limited() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")
    scope = http_scope("/uploads/big", headers=[(b"content-length", b"5000")])
    sent, _ = drive(app, scope, [b"x" * 5000])
    assert status_and_body(sent) == (200, {"received": 5000})
    # "/parser" is not under "/parse"
    inner = RecordingApp()
    sent, _ = drive(BodyLimitMiddleware(inner, "/parse"), http_scope("/parser/x"), [b"x" * 5000])
    assert status_and_body(sent)[0] == 200


def test_a_bad_content_length_is_counted_instead() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")
    scope = http_scope(headers=[(b"content-length", b"nonsense")])
    sent, _ = drive(app, scope, [b"x" * 600, b"x" * 600])
    assert status_and_body(sent)[0] == 413


def test_other_scopes_pass_through() -> None:
    inner = RecordingApp()
    app = BodyLimitMiddleware(inner, "/parse")

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        async def send(message: dict[str, Any]) -> None:
            return None

        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(run())
    assert inner.called is True


def test_per_path_limits_from_a_provider() -> None:
    from backend_kit import routing

    def uploads(path: str) -> int | None:
        return 10_000 if path.startswith("files/") else None

    register_body_limit(uploads)
    try:
        inner = RecordingApp()
        app = BodyLimitMiddleware(inner, "/parse")
        sent, _ = drive(app, http_scope("/parse/files/a.png"), [b"x" * 5000])
        assert status_and_body(sent) == (200, {"received": 5000})
        sent, _ = drive(
            BodyLimitMiddleware(RecordingApp(), "/parse"),
            http_scope("/parse/classes/X"),
            [b"x" * 5000],
        )
        assert status_and_body(sent)[0] == 413
    finally:
        routing._limit_providers.remove(uploads)


@pytest.mark.django_db(transaction=True)
def test_with_the_real_django_application() -> None:
    app = parse_application(get_asgi_application(), mount="/parse")
    headers = [(b"content-type", b"application/json"), (b"x-parse-application-id", b"test-app")]
    # streamed, no content-length: cut off while Django reads the body
    sent, _ = drive(app, http_scope("/parse/health", headers=headers), [b"x" * 400] * 10)
    status, body = status_and_body(sent)
    assert status == 413 and body["code"] == 116
    # small enough: Django answers
    sent, _ = drive(app, http_scope("/parse/health", headers=headers), [b"{}"])
    assert status_and_body(sent) == (200, {"status": "ok"})


def test_the_413_carries_cors_headers() -> None:
    scope = http_scope(
        headers=[(b"content-length", b"5000"), (b"origin", b"https://app.example.com")]
    )
    sent, _ = drive(BodyLimitMiddleware(RecordingApp(), "/parse"), scope, [b"x" * 5000])
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = dict(start["headers"])
    assert headers[b"access-control-allow-origin"] == b"*"
    assert b"X-Parse-Push-Status-Id" in headers[b"access-control-expose-headers"]
