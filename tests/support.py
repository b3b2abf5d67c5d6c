"""Helpers shared by the objects/envelope test modules (not fixtures: plain functions)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
from django.test import Client

from backend_kit.context import RequestContext

from .conftest import APP_ID, JS_KEY, MASTER_KEY

MASTER = RequestContext.master(app_id=APP_ID)


def kit(**extra: Any) -> dict[str, Any]:
    """The test project's BACKEND_KIT with some values replaced (for override_settings)."""
    from django.conf import settings

    return {**settings.BACKEND_KIT, **extra}


def user_ctx(user_id: str | None, roles: list[str] | None = None) -> RequestContext:
    """A caller authenticated as ``user_id`` holding ``roles`` (no accounts app needed)."""
    if user_id is None:
        return RequestContext(app_id=APP_ID)
    return RequestContext(
        app_id=APP_ID, user=SimpleNamespace(object_id=user_id), _roles=list(roles or [])
    )


def public_ctx() -> RequestContext:
    return RequestContext(app_id=APP_ID)


def tunnel(
    path: str,
    body: dict[str, Any],
    *,
    method: str | None = None,
    app_id: str | None = APP_ID,
    js_key: str | None = JS_KEY,
    master_key: str | None = None,
    raw: bytes | None = None,
    client: Client | None = None,
    mount: str = "/parse",
    **extra_headers: str,
) -> Any:
    """A request as the Parse JS SDK sends it: POST, text/plain, keys inside the body."""
    payload = dict(body)
    if method is not None:
        payload["_method"] = method
    if app_id is not None:
        payload["_ApplicationId"] = app_id
    if js_key is not None:
        payload["_JavaScriptKey"] = js_key
    if master_key is not None:
        payload["_MasterKey"] = master_key
    data = raw if raw is not None else orjson.dumps(payload)
    response = (client or Client()).generic(
        "POST",
        mount + "/" + path.lstrip("/"),
        data,
        content_type="text/plain",
        headers=extra_headers or None,
    )
    response.json_body = _json(response)
    return response


def _json(response: Any) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def raw_request(
    method: str,
    path: str,
    data: bytes = b"",
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    client: Client | None = None,
    **query: str,
) -> Any:
    """A request with exactly the headers given (no keys added)."""
    c = client or Client()
    url = "/parse/" + path.lstrip("/")
    if method == "GET":
        response = c.get(url, query, headers=headers or {})
    else:
        response = c.generic(method, url, data, content_type=content_type, headers=headers or {})
    response.json_body = _json(response)
    return response


def master_headers(**extra: str) -> dict[str, str]:
    return {"X-Parse-Application-Id": APP_ID, "X-Parse-Master-Key": MASTER_KEY, **extra}


def ids(results: list[dict[str, Any]]) -> list[str]:
    return [o["objectId"] for o in results]


def sdk_node() -> str:
    """``node``, with tests/sdk's pinned Parse JS SDK installed (``npm ci`` on first use).

    Skips only where Node.js or npm is missing from the machine.
    """
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("needs Node.js and npm for the Parse JS SDK")
    folder = Path(__file__).resolve().parent / "sdk"
    lock, installed = folder / "package-lock.json", folder / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"npm ci in {folder} failed:\n{done.stdout}{done.stderr}"
    return node
