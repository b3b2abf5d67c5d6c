"""Session tokens: ``r:`` + 32 random hex digits, stored only as a SHA-256 hash.

A session is an ordinary ``_Session`` object (user pointer, installationId,
createdWith, expiresAt, restricted) whose internal field ``_token_hash`` holds the
token's hash under a unique index; the token itself is known only to the client
it was issued to. Resolving a token is one indexed query joined to the user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction

from ..codec import encode_date, format_iso, pointer
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError, permission_denied
from ..objects import reads, writes
from ..objects.encoding import encode_object, load_json
from ..objects.handlers import ClassHandler
from ..objects.sql import class_is, compiler_for, connection, fetchall, fetchone, tables

SESSION_CLASS = "_Session"
USER_CLASS = "_User"
TOKEN_HASH = "_token_hash"
PROTECTED_SESSION_KEYS = frozenset(
    {"user", "expiresAt", "createdWith", "sessionToken", "restricted"}
)


def new_token() -> str:
    return "r:" + secrets.token_hex(16)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class UserRef:
    """The caller's user as the request context carries it."""

    object_id: str
    data: dict[str, Any] = field(default_factory=dict)
    acl: Any = None
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def username(self) -> str | None:
        return self.data.get("username")

    @property
    def pk(self) -> str:
        return self.object_id

    def get_django_user(self) -> Any:
        from .models import UserLink

        link = UserLink.objects.select_related("user").filter(object_id=self.object_id).first()
        return link.user if link else None


@dataclass
class SessionRef:
    object_id: str
    data: dict[str, Any]


def _master(ctx: RequestContext | None = None) -> RequestContext:
    if ctx is None:
        return RequestContext.master(app_id=bk_settings.APP_ID)
    return ctx.as_master()


def create_session(
    user_id: str,
    *,
    action: str,
    provider: str | None = None,
    installation_id: str | None = None,
    restricted: bool = False,
    ctx: RequestContext | None = None,
) -> tuple[str, dict[str, Any]]:
    """Issue a session for ``user_id``; returns ``(token, session object)``."""
    token = new_token()
    body: dict[str, Any] = {
        "user": pointer(USER_CLASS, user_id),
        "createdWith": {"action": action, "authProvider": provider or "password"},
        "restricted": restricted,
        "ACL": {user_id: {"read": True, "write": True}},
    }
    if bk_settings.EXPIRE_INACTIVE_SESSIONS:  # off: sessions never expire (as in Parse)
        expires = writes.now() + timedelta(seconds=int(bk_settings.SESSION_LENGTH))
        body["expiresAt"] = encode_date(expires)
    if installation_id:
        body["installationId"] = installation_id
    with transaction.atomic(using=connection(write=True).alias):
        if installation_id and action == "login":
            _delete_where(
                "s.\"data\" #>> '{user,objectId}' = %s AND s.\"data\" ->> 'installationId' = %s",
                'json_extract(s."data", \'$."user"."objectId"\') = %s AND '
                'json_extract(s."data", \'$."installationId"\') = %s',
                [user_id, installation_id],
            )
        result = writes.create(
            _master(ctx), SESSION_CLASS, body, internal={TOKEN_HASH: hash_token(token)}
        )
    session = dict(result.object or {})
    session["sessionToken"] = token
    return token, session


def _delete_where(pg_where: str, sqlite_where: str, params: list[Any]) -> int:
    conn = connection(write=True)
    table, _ = tables(conn)
    where = pg_where if conn.vendor == "postgresql" else sqlite_where
    rows = fetchall(
        conn,
        f'DELETE FROM {table} WHERE "id" IN (SELECT s."id" FROM {table} AS s '
        f'WHERE s."class_name" = %s AND {where}) RETURNING "object_id"',
        [SESSION_CLASS, *params],
    )
    ids = [r[0] for r in rows]
    if ids:
        from .signals import sessions_revoked

        transaction.on_commit(
            lambda: sessions_revoked.send_robust(sender=SESSION_CLASS, session_ids=ids),
            using=conn.alias,
        )
    return len(ids)


def revoke_token(token: str) -> int:
    return _delete_where(
        "s.\"data\" ->> '_token_hash' = %s",
        'json_extract(s."data", \'$."_token_hash"\') = %s',
        [hash_token(token)],
    )


def revoke_user_sessions(user_id: str, *, keep_token: str | None = None) -> int:
    if keep_token:
        return _delete_where(
            "s.\"data\" #>> '{user,objectId}' = %s AND s.\"data\" ->> '_token_hash' <> %s",
            'json_extract(s."data", \'$."user"."objectId"\') = %s AND '
            'json_extract(s."data", \'$."_token_hash"\') <> %s',
            [user_id, hash_token(keep_token)],
        )
    return _delete_where(
        "s.\"data\" #>> '{user,objectId}' = %s",
        'json_extract(s."data", \'$."user"."objectId"\') = %s',
        [user_id],
    )


def lookup(token: str) -> tuple[UserRef, SessionRef]:
    """The user and session of a token, or 209."""
    if not isinstance(token, str) or not token:
        raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
    conn = connection()
    table, _ = tables(conn)
    s = compiler_for(conn, SESSION_CLASS, None, alias="s")
    token_expr = s.text((TOKEN_HASH,))
    user_expr = s.text(("user", "objectId"))
    # both classes written into the statement: the token's index is partial (class_is)
    user_class, _ = class_is('u."class_name"', USER_CLASS)
    session_class, _ = class_is('s."class_name"', SESSION_CLASS)
    row = fetchone(
        conn,
        f'SELECT s."object_id", s."data", u."object_id", u."data", u."acl" FROM {table} AS s '
        f'JOIN {table} AS u ON {user_class} AND u."object_id" = {user_expr} '
        f"WHERE {session_class} AND {token_expr} = %s",
        [hash_token(token)],
    )
    if row is None:
        raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
    session_id, session_data, user_id, user_data, user_acl = row
    session_data = load_json(session_data)
    expires = (session_data.get("expiresAt") or {}).get("iso")
    if expires and expires <= format_iso(writes.now()):
        raise ParseError(Code.INVALID_SESSION_TOKEN, "Session token is expired.")
    return UserRef(user_id, load_json(user_data), load_json(user_acl)), SessionRef(
        session_id, session_data
    )


def sessions_of(user_id: str) -> list[dict[str, Any]]:
    conn = connection()
    table, _ = tables(conn)
    s = compiler_for(conn, SESSION_CLASS, None, alias="o")
    rows = fetchall(
        conn,
        f'SELECT o."object_id", o."data", o."acl", o."created_at", o."updated_at" FROM {table} AS o '
        f'WHERE o."class_name" = %s AND {s.text(("user", "objectId"))} = %s',
        [SESSION_CLASS, user_id],
    )
    return [encode_object(r[0], load_json(r[1]), load_json(r[2]), r[3], r[4]) for r in rows]


def session_output(ctx: RequestContext, obj: dict[str, Any]) -> dict[str, Any]:
    """``sessionToken`` is shown only on the caller's own current session."""
    obj.pop("sessionToken", None)
    if (
        ctx.session is not None
        and ctx.session_token
        and obj.get("objectId") == ctx.session.object_id
    ):
        obj["sessionToken"] = ctx.session_token
    return obj


class SessionHandler(ClassHandler):
    """``/classes/_Session`` and ``/sessions``: ACLs keep each user to their own sessions."""

    def create(self, ctx: RequestContext, class_name: str, body: Any) -> Any:
        if not ctx.is_master:
            if ctx.user_id is None:
                raise ParseError(Code.SESSION_MISSING, "Session token required.")
            raise permission_denied("Only the master key can create sessions directly.")
        if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
            raise ParseError(Code.INVALID_JSON, "a session needs a user pointer")
        user_id = body["user"].get("objectId")
        token, session = create_session(
            str(user_id), action="create", ctx=ctx, installation_id=body.get("installationId")
        )
        return writes.WriteResult(
            201,
            {
                "objectId": session["objectId"],
                "createdAt": session["createdAt"],
                "sessionToken": token,
            },
            session,
            location=session["objectId"],
        )

    def update(self, ctx: RequestContext, class_name: str, object_id: str, body: Any) -> Any:
        if not ctx.is_master and isinstance(body, dict) and PROTECTED_SESSION_KEYS & set(body):
            raise permission_denied("These session fields can only be changed with the master key.")
        return writes.update(ctx, class_name, object_id, body)

    def find(self, ctx: RequestContext, class_name: str, params: dict[str, Any]) -> dict[str, Any]:
        if not ctx.has_master_rights and ctx.user_id is None:
            raise permission_denied("Invalid session token", Code.INVALID_SESSION_TOKEN)
        return reads.find(ctx, class_name, params)


def current_session(ctx: RequestContext) -> dict[str, Any]:
    if ctx.session is None:
        raise ParseError(Code.INVALID_SESSION_TOKEN, "Session token required.")
    obj = reads.get(ctx.as_master(), SESSION_CLASS, ctx.session.object_id, {})
    return session_output(ctx, obj)
