"""A subscription, and which event (if any) one change is for its subscriber.

The rule (per subscription, from the object before and after the write):
before-matches and after-matches -> ``update``; only before -> ``leave``; only after
-> ``enter`` (``create`` for a new object); neither -> nothing. "Matches" means the
query matches *and* the subscriber may read the object (ACL with its user and roles).
The object sent is the one the REST API would return to that subscriber.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from ..context import RequestContext
from ..objects.handlers import output_filter
from ..objects.permissions import acl_principals, can
from ..objects.query import ast
from ..objects.query.matcher import Matcher

DEFAULT_FIELDS = ("className", "objectId", "updatedAt", "createdAt", "ACL")


def needs_database(node: ast.Node) -> bool:
    """Sub-queries cannot be answered in memory: such subscriptions are matched in a thread."""
    if isinstance(node, (ast.InQuery, ast.Select, ast.RelatedTo, ast.RelationHas)):
        return True
    for child in getattr(node, "children", []) or []:
        if needs_database(child):
            return True
    child = getattr(node, "child", None)
    return child is not None and needs_database(child)


@dataclass
class Subscription:
    request_id: int
    class_name: str
    where: dict[str, Any]
    node: ast.Node
    ctx: RequestContext
    keys: list[str] | None = None
    watch: list[str] | None = None
    hidden: set[str] = field(default_factory=set)
    needs_db: bool = False

    @cached_property
    def share_key(self) -> tuple[Any, ...]:
        """Subscriptions with equal keys get the same event for every change.

        Everything that decides or shapes an event is in it: the query, ``keys``,
        ``watch``, hidden fields and the caller (master, user). Contexts of one user
        hold the same roles: the hub refreshes them all together.
        """
        return (
            self.class_name,
            orjson.dumps(self.where, option=orjson.OPT_SORT_KEYS),
            tuple(self.keys or ()),
            tuple(self.watch or ()),
            tuple(sorted(self.hidden)),
            self.ctx.is_master,
            self.ctx.user_id,
            self.needs_db,
        )

    def readable(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        read, _ = acl_principals(obj.get("ACL"))
        return can(self.ctx, read)

    def matches(self, obj: dict[str, Any] | None, matcher: Matcher) -> bool:
        if obj is None:
            return False
        return matcher.matches(self.node, obj)

    def watched_changed(self, obj: dict[str, Any] | None, original: dict[str, Any] | None) -> bool:
        if not self.watch:
            return True
        obj, original = obj or {}, original or {}
        return any(obj.get(k) != original.get(k) for k in self.watch)

    def shape(self, obj: dict[str, Any] | None) -> dict[str, Any] | None:
        """The object as this subscriber may see it (hidden fields, filters, ``keys``)."""
        if obj is None:
            return None
        out = copy.deepcopy(obj)
        for key in self.hidden:
            out.pop(key, None)
        filt = output_filter(self.class_name)
        if filt is not None:
            out = filt(self.ctx, out)
        out["className"] = self.class_name
        if self.keys:
            kept = {k: out[k] for k in DEFAULT_FIELDS if k in out}
            kept.update({k: out[k] for k in self.keys if k in out})
            out = kept
        return out


def event_for(
    sub: Subscription,
    obj: dict[str, Any] | None,
    original: dict[str, Any] | None,
    *,
    deleted: bool,
    matcher: Matcher,
) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None] | None:
    """``(op, object, original)`` this change means for ``sub``, or None."""
    if deleted:
        if sub.matches(obj, matcher) and sub.readable(obj):
            return "delete", sub.shape(obj), None
        return None
    query_before = sub.matches(original, matcher)
    query_after = sub.matches(obj, matcher)
    read_before = sub.readable(original)
    read_after = sub.readable(obj)
    before = query_before and read_before
    after = query_after and read_after
    if before and after:
        op = "update"
    elif before:
        op = "leave"
    elif after:
        op = "enter" if original is not None else "create"
    else:
        return None
    if op in ("update", "create") and not sub.watched_changed(obj, original):
        return None
    sent_obj, sent_original = obj, original
    if op == "leave" and not read_after:
        sent_obj = original  # access was lost: never send the state it may not read
    if op == "enter" and not read_before:
        sent_original = None
    return op, sub.shape(sent_obj), sub.shape(sent_original)


def encode_event(obj: dict[str, Any] | None, original: dict[str, Any] | None) -> str:
    """The ``"object"`` and ``"original"`` members of an event frame, as JSON text."""
    parts = []
    if obj is not None:
        parts.append('"object":' + orjson.dumps(obj).decode())
    if original is not None:
        parts.append('"original":' + orjson.dumps(original).decode())
    return ",".join(parts)
