"""backend_kit.handler.PooledASGIHandler driven as an ASGI application.

Which middleware runs: a Parse client (no cookie, no page asked for) gets the host's
chain without ``API_SKIPPED_MIDDLEWARE``; a browser gets all of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from django.test import override_settings

from backend_kit.handler import PooledASGIHandler

from .support import kit

SEEN: list[dict[str, Any]] = []


class RecordingMiddleware:
    """A host middleware of its own: it must run for every request."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        SEEN.append(
            {
                "session": hasattr(request, "session"),
                "user_authenticated": None if user is None else user.is_authenticated,
            }
        )
        response["X-Host-Middleware"] = "ran"
        return response


HOST_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tests.test_handler.RecordingMiddleware",
]


def call(handler: PooledASGIHandler, path: str, headers: dict[str, str]) -> tuple[int, dict, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(handler(scope, receive, send))
    start = sent[0]
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    json = body and response_headers.get("content-type", "").startswith("application/json")
    return start["status"], response_headers, orjson.loads(body) if json else body


@pytest.fixture
def host_chain():
    SEEN.clear()
    with override_settings(MIDDLEWARE=HOST_MIDDLEWARE, ALLOWED_HOSTS=["testserver"]):
        handler = PooledASGIHandler(1)
        yield handler
        handler.pool.shutdown()


def test_a_parse_client_skips_the_cookie_and_page_middleware(host_chain):
    # a Parse endpoint refusing unknown keys: the whole cycle runs, no database needed
    status, headers, body = call(
        host_chain, "/parse/classes/Thing", {"X-Parse-Application-Id": "x"}
    )
    assert (status, body) == (403, {"error": "unauthorized"})
    assert headers["x-host-middleware"] == "ran"  # the host's own middleware
    assert headers["x-content-type-options"] == "nosniff"  # SecurityMiddleware kept
    assert "x-frame-options" not in headers  # XFrameOptionsMiddleware skipped
    # no session was attached; request.user is the anonymous user the chain would give
    assert SEEN == [{"session": False, "user_authenticated": False}]


def test_a_view_that_is_not_a_parse_endpoint_keeps_the_whole_chain(host_chain):
    # plain Django views under the mount (health, the password reset and email pages,
    # whose forms need the CSRF cookie) are not JSON endpoints of the Parse API
    status, headers, body = call(host_chain, "/parse/health", {"X-Parse-Application-Id": "x"})
    assert (status, body) == (200, {"status": "ok"})
    assert headers["x-frame-options"] == "DENY"
    assert SEEN == [{"session": True, "user_authenticated": False}]


def test_an_unknown_path_keeps_the_whole_chain(host_chain):
    status, headers, _ = call(host_chain, "/parse/no/such/route", {})
    assert status == 404 and headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "sessionid=abc"},
        {"Accept": "text/html,application/xhtml+xml"},
    ],
    ids=["cookie", "page"],
)
def test_a_browser_gets_the_whole_chain(host_chain, headers):
    status, response_headers, _ = call(host_chain, "/parse/classes/Thing", headers)
    assert status == 403
    assert response_headers["x-frame-options"] == "DENY"
    assert response_headers["x-host-middleware"] == "ran"
    assert SEEN == [{"session": True, "user_authenticated": False}]


def test_an_empty_skip_list_runs_the_whole_chain_for_everyone():
    SEEN.clear()
    with override_settings(
        MIDDLEWARE=HOST_MIDDLEWARE,
        ALLOWED_HOSTS=["testserver"],
        BACKEND_KIT=kit(API_SKIPPED_MIDDLEWARE=[]),
    ):
        handler = PooledASGIHandler(1)
        assert handler.api_chain is None
        status, headers, _ = call(handler, "/parse/classes/Thing", {"X-Parse-Application-Id": "x"})
        handler.pool.shutdown()
    assert status == 403 and headers["x-frame-options"] == "DENY"
    assert SEEN == [{"session": True, "user_authenticated": False}]


def test_the_host_settings_are_left_as_they_were(host_chain):
    from django.conf import settings

    assert settings.MIDDLEWARE == HOST_MIDDLEWARE
