"""The audit trail: who changed what, when, from where, with the state before and after.

Recorded, in the same transaction as the change:

* object writes made with the master key (API), through the admin, by cloud code as
  master, by jobs and commands (anything but the server's own bookkeeping, whose
  origin is ``"system"``), and every write to ``_Role`` whoever makes it;
* every change to class schemas, class-level permissions, indexes and config
  (model signals on ``ClassSchema`` and ``GlobalConfig``), whoever makes it;
* every model change made through the Django admin (with ``GuardrailsMiddleware``);
* a master-key request that changed state without any of the above (a push, a job
  start, a purge, a file deletion) as one ``request`` entry.

Nothing a user does with their own rights on ordinary classes is recorded.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from ..context import RequestContext
from . import app_settings

log = logging.getLogger("backend_kit.guardrails")
REDACTED = "<redacted>"
# Keys that change on every write and say nothing about it.
NOISE_KEYS = frozenset({"updatedAt", "updated_at"})


@dataclass
class Scope:
    """What is being handled now: an API request or an admin request."""

    origin: str  # "api" or "admin"
    ctx: RequestContext | None = None
    request: Any = None  # the Django request (admin: who is logged in)
    method: str = ""
    path: str = ""
    recorded: int = 0

    def staff_username(self) -> str:
        user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return str(user.get_username())
        return ""


_scope: ContextVar[Scope | None] = ContextVar("backend_kit_audit_scope", default=None)


def current() -> Scope | None:
    return _scope.get()


def enter(scope: Scope) -> Token[Scope | None]:
    return _scope.set(scope)


def leave(token: Token[Scope | None]) -> None:
    try:
        _scope.reset(token)
    except ValueError:  # reset from another context (should not happen): just clear
        _scope.set(None)


def enabled() -> bool:
    return bool(app_settings.get("AUDIT_ENABLED"))


def effective_origin(ctx: RequestContext | None) -> str:
    scope = current()
    if ctx is None:
        return scope.origin if scope is not None else "system"
    if scope is not None and scope.origin == "admin" and ctx.origin in ("system", "api"):
        return "admin"  # an admin page writing through server-side helpers
    return ctx.origin


def audited_write(class_name: str, ctx: RequestContext | None) -> bool:
    """Is an object write by ``ctx`` on ``class_name`` recorded?"""
    if ctx is None or not enabled():
        return False
    if class_name == "_Role":
        return True  # roles decide who may do what, whoever changes them
    if not ctx.is_master:
        return False
    return effective_origin(ctx) != "system"


# --- values ---------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def redact(value: Any) -> Any:
    fields = set(app_settings.get("AUDIT_REDACT_FIELDS") or ())
    return _redact(value, fields) if fields else value


def _redact(value: Any, fields: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in fields else _redact(v, fields)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, fields) for v in value]
    return value


_MISSING = object()


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys that changed, with their old and new values (absent keys stay absent)."""
    old, new = {}, {}
    for key in sorted(set(before) | set(after)):
        if key in NOISE_KEYS:
            continue
        a, b = before.get(key, _MISSING), after.get(key, _MISSING)
        if a == b:
            continue
        if a is not _MISSING:
            old[key] = a
        if b is not _MISSING:
            new[key] = b
    return old, new


# --- recording --------------------------------------------------------------------------


def record(
    *,
    target: str,
    action: str,
    ctx: RequestContext | None = None,
    class_name: str = "",
    object_id: str = "",
    before: Any = None,
    after: Any = None,
    changes: Any = None,
    method: str = "",
    path: str = "",
) -> Any:
    """Write one entry (in the caller's transaction); returns it."""
    from .models import AuditEntry

    scope = current()
    ctx = ctx if ctx is not None else (scope.ctx if scope is not None else None)
    admin = scope is not None and scope.origin == "admin"
    username = scope.staff_username() if admin and scope is not None else ""
    if not username and ctx is not None and ctx.user is not None:
        username = str(getattr(ctx.user, "username", "") or "")
    ip = ctx.ip if ctx is not None else None
    if not ip and scope is not None and scope.request is not None:
        ip = scope.request.META.get("REMOTE_ADDR")
    entry = AuditEntry.objects.create(
        origin=effective_origin(ctx),
        target=target,
        action=action,
        class_name=str(class_name or "")[:200],
        object_id=str(object_id or "")[:255],
        master=bool(ctx is not None and ctx.is_master) or admin,
        user_id=(ctx.user_id or "") if ctx is not None else "",
        username=username[:255],
        ip=_address(ip),
        installation_id=((ctx.installation_id or "") if ctx is not None else "")[:255],
        request_id=((ctx.request_id or "") if ctx is not None else "")[:255],
        method=(method or (scope.method if scope is not None else ""))[:8],
        path=(path or (scope.path if scope is not None else ""))[:500],
        before=redact(jsonable(before)),
        after=redact(jsonable(after)),
        changes=redact(jsonable(changes)),
    )
    if scope is not None:
        scope.recorded += 1
    return entry


def _address(value: Any) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(str(value))) if value else None
    except ValueError:
        return None


def recorded_count() -> int:
    scope = current()
    return scope.recorded if scope is not None else 0
