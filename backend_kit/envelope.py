"""The Parse request envelope, exactly as the Parse SDKs send it.

Two shapes reach the server:

* REST: ``X-Parse-*`` headers, a JSON body, JSON-decoded query-string values on GET;
* the JS SDK: every call a ``POST`` with ``Content-Type: text/plain`` and a JSON body
  carrying ``_method``, ``_ApplicationId``, ``_JavaScriptKey``, ``_SessionToken``...

:func:`read_envelope` turns either into an :class:`Envelope` (method, body, params,
keys) before URL dispatch picks the handler; :func:`build_context` checks the keys and
resolves the session into a :class:`~backend_kit.context.RequestContext`.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.http import HttpRequest

from . import identity
from .conf import bk_settings
from .context import RequestContext
from .errors import Code, ParseError, Unauthorized

# Body keys that carry the envelope, not data.
ENVELOPE_KEYS = (
    "_method",
    "_ApplicationId",
    "_JavaScriptKey",
    "_ClientKey",
    "_MasterKey",
    "_SessionToken",
    "_InstallationId",
    "_ClientVersion",
    "_context",
    "_ContentType",
    "_RevocableSession",
    "_noBody",
    "_RestAPIKey",
)
JSON_CONTENT_TYPES = ("application/json", "text/plain", "")


@dataclass
class Envelope:
    method: str
    body: Any = None  # decoded JSON body (dict) without envelope keys, or raw bytes
    raw: bytes = b""
    params: dict[str, Any] = field(default_factory=dict)
    app_id: str | None = None
    master_key: str | None = None
    javascript_key: str | None = None
    rest_api_key: str | None = None
    client_key: str | None = None
    dotnet_key: str | None = None
    session_token: str | None = None
    installation_id: str | None = None
    client_version: str | None = None
    revocable_session: bool = False
    content_type: str = ""
    cloud_context: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    tunnelled: bool = False
    # True when the body was left unread for the view to stream (raw file uploads).
    streamed: bool = False


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise ParseError(Code.INVALID_JSON, "Invalid JSON")


def _read_body(request: HttpRequest, limit: int | None = None) -> bytes:
    """Read the body once, refusing it before reading if it is over the limit."""
    if hasattr(request, "_body"):
        return request._body  # type: ignore[attr-defined]
    limit = int(bk_settings.MAX_BODY_SIZE) if limit is None else limit
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError(Code.INVALID_CONTENT_LENGTH, "Invalid Content-Length")
    if length > limit:
        raise ParseError(
            Code.OBJECT_TOO_LARGE, f"request body is larger than {limit} bytes", status=413
        )
    data = request.read(limit + 1) if length or request.META.get("HTTP_TRANSFER_ENCODING") else b""
    if len(data) > limit:
        raise ParseError(
            Code.OBJECT_TOO_LARGE, f"request body is larger than {limit} bytes", status=413
        )
    # Django and DRF read request.body later; hand them the bytes already read.
    request._body = data  # type: ignore[attr-defined]
    return data


def json_from_query(query: Any) -> dict[str, Any]:
    """GET params: each value JSON-decoded where it parses, else kept as a string."""
    params: dict[str, Any] = {}
    for key in query:
        value = query.get(key)
        try:
            params[key] = orjson.loads(value)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            params[key] = value
    return params


def _header(request: HttpRequest, name: str) -> str | None:
    return request.META.get(_meta_key(name))


@functools.cache
def _meta_key(name: str) -> str:
    """``X-Parse-Application-Id`` -> ``HTTP_X_PARSE_APPLICATION_ID`` (a dozen per request)."""
    return "HTTP_" + name.upper().replace("-", "_")


def read_envelope(
    request: HttpRequest, *, raw_body: bool = False, body_limit: int | None = None
) -> Envelope:
    """Decode keys, method override and body of a Django request.

    ``raw_body``: the endpoint takes file bytes. A POST with the application id in
    the headers is then left unread (``env.streamed``) for the view to stream;
    ``body_limit`` replaces ``MAX_BODY_SIZE`` for bodies read here.
    """
    method = request.method or "GET"
    content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    env = Envelope(
        method=method,
        app_id=_header(request, "X-Parse-Application-Id"),
        master_key=_header(request, "X-Parse-Master-Key"),
        javascript_key=_header(request, "X-Parse-Javascript-Key"),
        rest_api_key=_header(request, "X-Parse-REST-API-Key"),
        client_key=_header(request, "X-Parse-Client-Key"),
        dotnet_key=_header(request, "X-Parse-Windows-Key"),
        session_token=_header(request, "X-Parse-Session-Token"),
        installation_id=_header(request, "X-Parse-Installation-Id"),
        client_version=_header(request, "X-Parse-Client-Version"),
        revocable_session=_header(request, "X-Parse-Revocable-Session") == "1",
        request_id=_header(request, "X-Parse-Request-Id"),
        content_type=content_type,
    )
    context_header = _header(request, "X-Parse-Cloud-Context")
    if context_header is not None:
        env.cloud_context = _decode_context(context_header)

    if method in ("POST", "PUT", "DELETE", "PATCH"):
        if raw_body and method == "POST" and env.app_id is not None:
            # Parse Server reads JSON from an upload only when the keys are in the
            # body; with them in the headers the body is the file, whatever its type.
            env.streamed = True
            return env
        raw = _read_body(request, body_limit)
        env.raw = raw
        looks_json = content_type in JSON_CONTENT_TYPES or raw[:1] == b"{"
        if (
            raw_body
            and not (env.app_id is None and looks_json)
            and content_type not in ("text/plain",)
        ):
            env.body = raw
        elif raw.strip():
            try:
                body = orjson.loads(raw)
            except (orjson.JSONDecodeError, ValueError):
                if env.app_id is None:
                    raise Unauthorized()
                if raw_body:
                    env.body = raw
                    return env
                raise ParseError(Code.INVALID_JSON, "Invalid JSON")
            if isinstance(body, dict):
                _take_envelope_keys(env, body)
            env.body = body
        else:
            env.body = {}
    if env.method == "GET":
        if isinstance(env.body, dict) and env.tunnelled:
            env.params = env.body
        else:
            env.params = json_from_query(request.GET)
    return env


def _decode_context(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        decoded = orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        decoded = None
    if not isinstance(decoded, dict):
        raise ParseError(Code.INVALID_JSON, "Invalid object for context.")
    return decoded


def _take_envelope_keys(env: Envelope, body: dict[str, Any]) -> None:
    override = body.pop("_method", None)
    if (
        env.method == "POST"
        and isinstance(override, str)
        and override.upper()
        in (
            "GET",
            "PUT",
            "DELETE",
            "POST",
        )
    ):
        env.method = override.upper()
        env.tunnelled = True
    if "_ApplicationId" in body:
        env.tunnelled = True
        app_id = body.pop("_ApplicationId")
        if env.app_id is None:
            env.app_id = app_id
            env.javascript_key = body.pop("_JavaScriptKey", None) or env.javascript_key
    for body_key, attr in (
        ("_JavaScriptKey", "javascript_key"),
        ("_ClientKey", "client_key"),
        ("_RestAPIKey", "rest_api_key"),
        ("_MasterKey", "master_key"),
        ("_SessionToken", "session_token"),
        ("_InstallationId", "installation_id"),
    ):
        if body_key in body:
            value = body.pop(body_key)
            if value is not None and not isinstance(value, str):
                raise Unauthorized()
            if value:
                setattr(env, attr, value)
    version = body.pop("_ClientVersion", None)
    if isinstance(version, str):
        env.client_version = version
    if "_context" in body:
        env.cloud_context = _decode_context(body.pop("_context"))
    content_type = body.pop("_ContentType", None)
    if isinstance(content_type, str):
        env.content_type = content_type
    if body.pop("_RevocableSession", None) in ("1", 1, True):
        env.revocable_session = True
    body.pop("_noBody", None)


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _ip_allowed(ip: str | None, allowed: list[str] | None) -> bool:
    if allowed is None:
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def build_context(env: Envelope, request: HttpRequest | None = None) -> RequestContext:
    """Check the keys and resolve the caller. Raises Unauthorized or ParseError."""
    app_id = bk_settings.APP_ID
    if not env.app_id or (app_id is not None and not _same(env.app_id, app_id)):
        raise Unauthorized()
    ip = client_ip(request) if request is not None else None
    ctx = RequestContext(
        app_id=env.app_id,
        installation_id=env.installation_id,
        client_version=env.client_version,
        cloud_context=env.cloud_context,
        ip=ip,
        request_id=env.request_id,
        revocable_session=env.revocable_session,
    )
    if request is not None:
        ctx.headers = {
            k[5:].replace("_", "-").lower(): v
            for k, v in request.META.items()
            if k.startswith("HTTP_")
        }
    if env.master_key:
        if _same(env.master_key, bk_settings.MASTER_KEY):
            if not _ip_allowed(ip, bk_settings.MASTER_KEY_IPS):
                raise Unauthorized()
            ctx.is_master = True
            return ctx
        if _same(env.master_key, bk_settings.READ_ONLY_MASTER_KEY):
            ctx.is_read_only_master = True
            return ctx
        # Parse Server: a master key that matches no key is no master key; the
        # client-key check below decides.
    configured = {
        "javascript_key": bk_settings.JAVASCRIPT_KEY,
        "rest_api_key": bk_settings.REST_API_KEY,
        "client_key": bk_settings.CLIENT_KEY,
        "dotnet_key": bk_settings.DOTNET_KEY,
    }
    if any(v is not None for v in configured.values()) and not any(
        _same(getattr(env, name), expected)
        for name, expected in configured.items()
        if expected is not None
    ):
        raise Unauthorized()
    if env.session_token:
        ctx.session_token = env.session_token
        ctx.user, ctx.session = identity.authenticate_session(env.session_token, ctx)
    return ctx
