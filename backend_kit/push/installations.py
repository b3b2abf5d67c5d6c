"""``_Installation`` writes with Parse Server's rules (``RestWrite.handleInstallation``).

* An installation is found by ``installationId`` (lower-cased; unique per app), by
  ``deviceToken`` (a 64-character token is lower-cased, as Parse assumes APNs), or by
  its objectId. A create that matches an existing installation becomes an update of
  it (200 ``{updatedAt}``), so devices can save blindly.
* Without ``installationId`` in the body, the caller's installation id is used: the
  ``X-Parse-Installation-Id`` of the request, else the one its session was created
  with. That is how a user's sessions lead to their installation.
* A ``deviceToken`` belongs to one installation: others holding it (same
  ``appIdentifier`` when given) are deleted, as Parse does by default.
* ``installationId`` and ``deviceType`` never change (136); a create needs an id
  (135) and a ``deviceType`` (135).
* With a transport for the installation's type and ``VALIDATE_TOKENS`` on, the
  token must have that provider's shape (142).

Clients may not find or delete installations (119, in the objects app); they may
read and update the ones their ACL allows.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError, object_not_found
from ..objects import reads, writes
from ..objects.handlers import ClassHandler
from ..objects.sql import connection, db_alias
from . import app_settings, devices
from .transports import InvalidToken, transport_for

CLASS_NAME = "_Installation"


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def caller_installation_id(ctx: RequestContext) -> str | None:
    """The installation the caller speaks for: its header, else its session's."""
    if ctx.installation_id:
        return str(ctx.installation_id).lower()
    session = getattr(ctx, "session", None)
    data = getattr(session, "data", None) or {}
    value = data.get("installationId")
    return value.lower() if isinstance(value, str) and value else None


def _find(where: dict[str, Any]) -> list[dict[str, Any]]:
    return reads.find(_master(), CLASS_NAME, {"where": where, "limit": 1000})["results"]


def _delete_where(where: dict[str, Any]) -> None:
    for obj in _find(where):
        writes.delete(_master(), CLASS_NAME, obj["objectId"])


def _lock(*keys: str | None) -> None:
    """Serialise writes about the same installationId / deviceToken (PostgreSQL)."""
    conn = connection(write=True)
    if conn.vendor != "postgresql":
        return  # SQLite has one writer at a time
    with conn.cursor() as cursor:
        for key in sorted({k for k in keys if k}):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"bk_inst:{key}"]
            )


def normalize_token(device_type: Any, token: str) -> str:
    """The token as stored: checked and normalised by the type's transport."""
    if not app_settings.get("VALIDATE_TOKENS") or not isinstance(device_type, str):
        return token
    transport = transport_for(device_type)
    if transport is None:
        return token
    try:
        return transport.normalize_token(token)
    except InvalidToken as exc:
        raise ParseError(Code.VALIDATION_ERROR, f"Invalid deviceToken for {device_type}: {exc}")


def save(ctx: RequestContext, body: Any, object_id: str | None = None) -> writes.WriteResult:
    """Create (``object_id`` None) or update an installation, Parse's way."""
    if not isinstance(body, dict):
        return (
            writes.create(ctx, CLASS_NAME, body)
            if object_id is None
            else writes.update(ctx, CLASS_NAME, object_id, body)
        )
    data = dict(body)
    token = data.get("deviceToken") if isinstance(data.get("deviceToken"), str) else None
    if token is not None and len(token) == 64:
        token = data["deviceToken"] = token.lower()
    if isinstance(data.get("installationId"), str):
        data["installationId"] = data["installationId"].lower()
    body_installation_id = (
        data.get("installationId") if isinstance(data.get("installationId"), str) else None
    )
    installation_id = body_installation_id
    if not installation_id and not ctx.is_master:
        installation_id = caller_installation_id(ctx)
    creating = object_id is None
    if creating and not token and not body_installation_id and not caller_installation_id(ctx):
        raise ParseError(
            135,
            "at least one ID field (deviceToken, installationId) must be specified in this operation",
        )
    if not creating and not token and not installation_id and "deviceType" not in data:
        return writes.update(ctx, CLASS_NAME, object_id, data)
    with transaction.atomic(using=db_alias(write=True)):
        _lock(installation_id, token)
        target = _resolve(ctx, data, object_id, installation_id, token)
        if target is None:
            if installation_id and not body_installation_id:
                data["installationId"] = installation_id  # the caller's: link them
            if token is not None:
                data["deviceToken"] = normalize_token(data.get("deviceType"), token)
            return writes.create(ctx, CLASS_NAME, data)
        data.pop("objectId", None)
        data.pop("createdAt", None)
        if token is not None:
            data["deviceToken"] = normalize_token(
                data.get("deviceType") or target.get("deviceType"), token
            )
        return writes.update(ctx, CLASS_NAME, target["objectId"], data)


def _resolve(
    ctx: RequestContext,
    data: dict[str, Any],
    object_id: str | None,
    installation_id: str | None,
    token: str | None,
) -> dict[str, Any] | None:
    """The installation this write lands on (None: a new one), after clearing the
    installations that hold its token. Parse's decision table, step by step."""
    ors: list[dict[str, Any]] = []
    if object_id:
        ors.append({"objectId": object_id})
    if installation_id:
        ors.append({"installationId": installation_id})
    if token:
        ors.append({"deviceToken": token})
    if not ors:
        return None
    found = _find({"$or": ors})
    by_object = next((r for r in found if object_id and r["objectId"] == object_id), None)
    by_installation = next(
        (r for r in found if installation_id and r.get("installationId") == installation_id), None
    )
    by_token = [r for r in found if token and r.get("deviceToken") == token]
    if object_id:
        if by_object is None:
            raise object_not_found("Object not found for update.")
        _check_unchanged(data, by_object)
    match = by_object if object_id else by_installation
    if object_id is None and not data.get("deviceType") and match is None:
        raise ParseError(135, "deviceType must be specified in this operation")
    app = data.get("appIdentifier") if isinstance(data.get("appIdentifier"), str) else None
    if match is None:
        if not by_token:
            return None
        if len(by_token) == 1 and (not by_token[0].get("installationId") or not installation_id):
            return by_token[0]  # the same device, saved before without an id
        if not data.get("installationId"):
            raise ParseError(
                132,
                "Must specify installationId when deviceToken matches multiple Installation objects",
            )
        _clear_token(token, keep_installation=installation_id, app=app)
        return None
    if (
        len(by_token) == 1
        and not by_token[0].get("installationId")
        and by_token[0]["objectId"] != match["objectId"]
    ):
        # Two rows for one device: the one holding the token survives (Parse's default).
        writes.delete(_master(), CLASS_NAME, match["objectId"])
        return by_token[0]
    if token and match.get("deviceToken") != token:
        _clear_token(token, keep_object=match["objectId"], app=app)
    return match


def _check_unchanged(data: dict[str, Any], current: dict[str, Any]) -> None:
    new_id = data.get("installationId")
    if (
        isinstance(new_id, str)
        and current.get("installationId")
        and new_id != current["installationId"]
    ):
        raise ParseError(136, "installationId may not be changed in this operation")
    token = data.get("deviceToken")
    if (
        isinstance(token, str)
        and current.get("deviceToken")
        and token != current["deviceToken"]
        and not new_id
        and not current.get("installationId")
    ):
        raise ParseError(136, "deviceToken may not be changed in this operation")
    device_type = data.get("deviceType")
    if device_type and device_type != current.get("deviceType"):
        raise ParseError(136, "deviceType may not be changed in this operation")


def _clear_token(
    token: str | None,
    *,
    keep_installation: str | None = None,
    keep_object: str | None = None,
    app: str | None = None,
) -> None:
    where: dict[str, Any] = {"deviceToken": token}
    if keep_installation:
        where["installationId"] = {"$ne": keep_installation}
    if keep_object:
        where["objectId"] = {"$ne": keep_object}
    if app:
        where["appIdentifier"] = app
    _delete_where(where)


class InstallationHandler(ClassHandler):
    """``/installations`` and ``/classes/_Installation``."""

    def create(self, ctx: RequestContext, class_name: str, body: Any) -> Any:
        return save(ctx, body)

    def update(self, ctx: RequestContext, class_name: str, object_id: str, body: Any) -> Any:
        return save(ctx, body, object_id)

    def purge(self, class_name: str) -> None:
        devices.remove_all()


def installations_of_user(user_id: str) -> list[str]:
    """installationIds of the sessions of ``user_id`` (where a user's pushes go)."""
    sessions = reads.find(
        _master(),
        "_Session",
        {
            "where": {
                "user": {"__type": "Pointer", "className": "_User", "objectId": user_id},
                "installationId": {"$exists": True},
            },
            "keys": "installationId",
            "limit": 1000,
        },
    )["results"]
    return sorted(
        {s["installationId"].lower() for s in sessions if isinstance(s.get("installationId"), str)}
    )
