"""Requests the files tests send through Django's test client."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import orjson

from tests.conftest import APP_ID, JS_KEY, ParseClient


def with_body(response: Any) -> Any:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    response.body_bytes = content
    try:
        response.json_body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        response.json_body = None
    return response


def upload(
    client: ParseClient,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> Any:
    """A raw upload as REST clients and the Node SDK send it: keys in headers, bytes in the body."""
    response = client.client.generic(
        "POST",
        f"/parse/files/{quote(name, safe='')}",
        data,
        content_type=content_type,
        headers=client.headers(headers),
    )
    return with_body(response)


def upload_json(
    client: ParseClient,
    name: str,
    data: bytes | str,
    *,
    content_type: str | None = None,
    metadata: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    session_token: str | None = None,
    master_key: str | None = None,
) -> Any:
    """The JS SDK's JSON form: text/plain, keys inside, ``base64`` and ``fileData``."""
    body: dict[str, Any] = {
        "base64": data if isinstance(data, str) else base64.b64encode(data).decode(),
        "fileData": {"metadata": metadata or {}, "tags": tags or {}},
        "_ApplicationId": APP_ID,
        "_JavaScriptKey": JS_KEY,
    }
    if content_type is not None:
        body["_ContentType"] = content_type
    if session_token:
        body["_SessionToken"] = session_token
    if master_key:
        body["_MasterKey"] = master_key
    response = client.client.generic(
        "POST",
        f"/parse/files/{quote(name, safe='')}",
        orjson.dumps(body),
        content_type="text/plain",
    )
    return with_body(response)


def get_url(client: ParseClient, url: str, headers: dict[str, str] | None = None) -> Any:
    """GET an app URL (``http://testserver/...``) through the test client."""
    path = url.removeprefix("http://testserver")
    return with_body(client.client.get(path, headers=headers or {}))
