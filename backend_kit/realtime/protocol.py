"""LiveQuery messages: validation, error frames, and the database work behind ops.

Error codes (Parse's): 1 bad message, 2 not connected / unknown subscription,
3 unknown op, 4 bad key, 209 invalid session; Parse errors keep their own codes.
"""

from __future__ import annotations

import hmac
from typing import Any

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from ..objects import hooks, reads
from ..objects.handlers import output_filter  # noqa: F401  (kept for subscribers' shaping)
from ..objects.permissions import check_clp, protected_fields
from ..objects.query.parser import QueryParser
from ..objects.schema import get_schema
from .subscriptions import Subscription, needs_database

OPS = ("connect", "subscribe", "update", "unsubscribe", "query")
CONNECT_KEYS = {
    "op",
    "applicationId",
    "javascriptKey",
    "masterKey",
    "clientKey",
    "windowsKey",
    "restAPIKey",
    "sessionToken",
    "installationId",
}
SUBSCRIBE_KEYS = {"op", "requestId", "query", "sessionToken"}
QUERY_KEYS = {"className", "where", "keys", "watch"}


def error_frame(
    code: int, message: str, *, reconnect: bool, request_id: int | None = None
) -> dict[str, Any]:
    return {
        "op": "error",
        "error": message,
        "code": code,
        "reconnect": reconnect,
        "requestId": request_id,
    }


def _strings(value: Any) -> bool:
    return (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == len(value)
    )


def validate(message: Any) -> tuple[int, str] | None:
    """None, or ``(code, message)`` for a frame that does not follow the protocol."""
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        return 1, "Message must be an object with an op."
    op = message["op"]
    if op not in OPS:
        return 3, "Get unknown operation"
    if op == "connect":
        extra = set(message) - CONNECT_KEYS
        if extra:
            return 1, f"unknown property in connect: {sorted(extra)[0]}"
        if not isinstance(message.get("applicationId"), str):
            return 1, "applicationId is required"
        for key in CONNECT_KEYS - {"op"}:
            if key in message and message[key] is not None and not isinstance(message[key], str):
                return 1, f"{key} must be a string"
        return None
    request_id = message.get("requestId")
    if isinstance(request_id, bool) or not isinstance(request_id, (int, float)):
        return 1, "requestId must be a number"
    if op in ("unsubscribe", "query"):
        extra = set(message) - {"op", "requestId"}
        return (1, f"unknown property in {op}: {sorted(extra)[0]}") if extra else None
    extra = set(message) - SUBSCRIBE_KEYS
    if extra:
        return 1, f"unknown property in {op}: {sorted(extra)[0]}"
    query = message.get("query")
    if not isinstance(query, dict):
        return 1, "query is required"
    extra = set(query) - QUERY_KEYS
    if extra:
        return 1, f"unknown property in query: {sorted(extra)[0]}"
    if not isinstance(query.get("className"), str) or not isinstance(query.get("where"), dict):
        return 1, "query needs className and where"
    for key in ("keys", "watch"):
        if key in query and not _strings(query[key]):
            return 1, f"query.{key} must be a non-empty array of distinct strings"
    if "sessionToken" in message and not isinstance(message["sessionToken"], str):
        return 1, "sessionToken must be a string"
    return None


def context_for(message: dict[str, Any], *, ip: str | None = None) -> RequestContext:
    """The caller of a connect (or of a subscription with its own session token)."""
    from .. import identity

    ctx = RequestContext(
        app_id=bk_settings.APP_ID, installation_id=message.get("installationId"), ip=ip
    )
    master = message.get("masterKey")
    if (
        master
        and bk_settings.MASTER_KEY
        and hmac.compare_digest(master.encode(), bk_settings.MASTER_KEY.encode())
    ):
        from ..envelope import _ip_allowed

        # the same address rule as HTTP: from elsewhere the key is not a master key
        ctx.is_master = _ip_allowed(ip, bk_settings.MASTER_KEY_IPS)
    trig = hooks.triggers()
    hook = (
        getattr(trig, "before_connect", None)
        if message.get("op") == "connect" and trig.has("beforeConnect", "@global")
        else None
    )
    token = message.get("sessionToken")
    if token:
        ctx.session_token = token
        try:
            ctx.user, ctx.session = identity.authenticate_session(token, ctx)
        except ParseError as exc:
            # As in Parse, a connect with an unknown or expired token is a connect without
            # a user (the SDKs reconnect with the token they started with, long after a
            # logout); a subscription's own token is still checked.
            if message.get("op") != "connect" or exc.code != Code.INVALID_SESSION_TOKEN:
                raise
            ctx.session_token = None
        else:
            _ = ctx.roles  # resolve now, off the event loop
    if hook is not None:
        hook(ctx, message)
    return ctx


def build_subscription(conn_ctx: RequestContext, message: dict[str, Any]) -> Subscription:
    query = message["query"]
    class_name = query["className"]
    where = query.get("where") or {}
    ctx = conn_ctx
    if message.get("sessionToken"):
        ctx = context_for(
            {"sessionToken": message["sessionToken"], "installationId": conn_ctx.installation_id},
            ip=conn_ctx.ip,
        )
        ctx.is_master = conn_ctx.is_master
    trig = hooks.triggers()
    if trig.has("beforeSubscribe", class_name):
        runner = getattr(trig, "before_subscribe", None)
        if runner is not None:
            changed = runner(
                ctx,
                class_name,
                {"className": class_name, "where": where, "keys": query.get("keys")},
            )
            if isinstance(changed, dict):
                where = changed.get("where", where) or {}
    if class_name == "_Session":
        if ctx.user_id:
            where = {
                "$and": [
                    where,
                    {"user": {"__type": "Pointer", "className": "_User", "objectId": ctx.user_id}},
                ]
            }
        elif not ctx.is_master:
            raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
    schema = get_schema(class_name)
    hidden: set[str] = set()
    node = QueryParser(get_schema).parse(class_name, where)
    if schema is not None:
        operation = (
            "get"
            if set(where) == {"objectId"} and not isinstance(where["objectId"], dict)
            else "find"
        )
        access = check_clp(ctx, schema, operation)
        restriction = access.restriction(ctx, schema)
        if restriction is not None:
            from ..objects.query import ast

            node = ast.And([node, restriction])
        hidden = protected_fields(ctx, schema)
        for key in list(_where_keys(where)) + list(query.get("watch") or []):
            if key.split(".")[0] in hidden:
                raise ParseError(Code.OPERATION_FORBIDDEN, "Permission denied")
    return Subscription(
        request_id=int(message["requestId"]),
        class_name=class_name,
        where=where,
        node=node,
        ctx=ctx,
        keys=query.get("keys"),
        watch=query.get("watch"),
        hidden=hidden,
        needs_db=needs_database(node),
    )


def _where_keys(where: dict[str, Any]) -> list[str]:
    keys = []
    for key, value in where.items():
        if key in ("$or", "$and", "$nor") and isinstance(value, list):
            for sub in value:
                if isinstance(sub, dict):
                    keys.extend(_where_keys(sub))
        elif not key.startswith("$"):
            keys.append(key)
    return keys


def current_results(sub: Subscription) -> list[dict[str, Any]]:
    """SDK 8's ``query`` op: the subscription's current matches, as the subscriber sees them."""
    params: dict[str, Any] = {"where": sub.where, "limit": 1000}
    if sub.keys:
        params["keys"] = ",".join(sub.keys)
    results = reads.find(sub.ctx, sub.class_name, params)["results"]
    return [sub.shape(o) for o in results]  # type: ignore[misc]
