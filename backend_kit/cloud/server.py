"""Server-side Python API for cloud code: ``Object`` and ``Query``.

Same semantics as the REST API, because it calls the same code: ``auth=request``
acts with the caller's rights (user, roles, ACLs, CLPs), ``master=True`` with the
master key, neither as the public.

    score = Object("GameScore", {"score": 10})
    score.increment("score")
    score.save(master=True)
    top = Query("GameScore").greater_than("score", 5).descending("score").limit(3).find(auth=request)
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ..codec import encode_date, pointer
from ..conf import bk_settings
from ..context import RequestContext
from ..objects import reads, writes

META = ("objectId", "createdAt", "updatedAt")


def resolve_auth(auth: Any = None, master: bool = False) -> RequestContext:
    if master:
        base = _context_of(auth)
        return (
            base.as_master(origin="cloud")
            if base is not None
            else RequestContext.master(app_id=bk_settings.APP_ID, origin="cloud")
        )
    ctx = _context_of(auth)
    return ctx if ctx is not None else RequestContext(app_id=bk_settings.APP_ID)


def _context_of(auth: Any) -> RequestContext | None:
    if auth is None:
        return None
    if isinstance(auth, RequestContext):
        return auth
    ctx = getattr(auth, "ctx", None)
    if isinstance(ctx, RequestContext):
        return ctx
    raise TypeError("auth must be a cloud request or a RequestContext")


def encode(value: Any) -> Any:
    """Python values -> Parse JSON (datetimes, Objects, nested containers)."""
    if isinstance(value, datetime):
        return encode_date(value)
    if isinstance(value, Object):
        return value.to_pointer()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def encode_result(value: Any) -> Any:
    """A function's return value on the wire: Objects are returned whole."""
    if isinstance(value, Object):
        return {"__type": "Object", "className": value.class_name, **value.to_json()}
    if isinstance(value, (list, tuple)):
        return [encode_result(v) for v in value]
    if isinstance(value, dict) and not value.get("__type"):
        return {k: encode_result(v) for k, v in value.items()}
    return encode(value)


class Object:
    """A Parse object held in API form, with pending field operations."""

    def __init__(
        self, class_name: str, data: dict[str, Any] | None = None, *, object_id: str | None = None
    ) -> None:
        self.class_name = class_name
        self._data: dict[str, Any] = {}
        self._ops: dict[str, Any] = {}
        if object_id:
            self._data["objectId"] = object_id
        for key, value in (data or {}).items():
            if key in META:
                self._data[key] = value
            else:
                self.set(key, value)

    @classmethod
    def from_api(cls, class_name: str, obj: dict[str, Any]) -> Object:
        inst = cls(class_name)
        inst._data = copy.deepcopy(obj)
        return inst

    # --- fields ---------------------------------------------------------------------
    @property
    def id(self) -> str | None:
        return self._data.get("objectId")

    object_id = id

    @property
    def created_at(self) -> str | None:
        return self._data.get("createdAt")

    @property
    def updated_at(self) -> str | None:
        return self._data.get("updatedAt")

    def existed(self) -> bool:
        return self.id is not None and "createdAt" in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def set(self, key: str, value: Any) -> Object:
        value = encode(value)
        self._data[key] = value
        self._ops[key] = value
        return self

    def unset(self, key: str) -> Object:
        self._data.pop(key, None)
        self._ops[key] = {"__op": "Delete"}
        return self

    def increment(self, key: str, amount: float = 1) -> Object:
        current = self._data.get(key) or 0
        self._data[key] = current + amount
        op = self._ops.get(key)
        if isinstance(op, dict) and op.get("__op") == "Increment":
            op["amount"] += amount
        else:
            self._ops[key] = {"__op": "Increment", "amount": amount}
        return self

    def _array_op(self, op: str, key: str, items: list[Any]) -> Object:
        items = [encode(i) for i in items]
        current = list(self._data.get(key) or [])
        if op == "Add":
            current.extend(items)
        elif op == "AddUnique":
            current.extend(i for i in items if i not in current)
        else:
            current = [c for c in current if c not in items]
        self._data[key] = current
        self._ops[key] = {"__op": op, "objects": items}
        return self

    def add(self, key: str, *items: Any) -> Object:
        return self._array_op("Add", key, list(items))

    def add_unique(self, key: str, *items: Any) -> Object:
        return self._array_op("AddUnique", key, list(items))

    def remove(self, key: str, *items: Any) -> Object:
        return self._array_op("Remove", key, list(items))

    def set_acl(self, acl: dict[str, Any] | None) -> Object:
        return self.set("ACL", acl)

    def dirty_keys(self) -> list[str]:
        return list(self._ops)

    def revert(self, key: str | None = None) -> None:
        if key is None:
            self._ops.clear()
        else:
            self._ops.pop(key, None)

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    def to_pointer(self) -> dict[str, str]:
        if not self.id:
            raise ValueError("an unsaved object has no pointer")
        return pointer(self.class_name, self.id)

    # --- persistence --------------------------------------------------------------------
    def save(self, *, auth: Any = None, master: bool = False) -> Object:
        ctx = resolve_auth(auth, master)
        body = dict(self._ops)
        # The class's own rules apply (a _User's password goes to its Django user).
        handler = _handler(self.class_name) or writes
        if self.id and self.existed():
            result = handler.update(ctx, self.class_name, self.id, body)
        else:
            result = handler.create(ctx, self.class_name, body)
        if result.object:
            self._data.update(result.object)
        self._data.update(result.payload)
        self._ops.clear()
        return self

    def fetch(self, *, auth: Any = None, master: bool = False) -> Object:
        fresh = reads.get(resolve_auth(auth, master), self.class_name, str(self.id), {})
        self._data = fresh
        self._ops.clear()
        return self

    def destroy(self, *, auth: Any = None, master: bool = False) -> None:
        handler = _handler(self.class_name)
        (handler or writes).delete(resolve_auth(auth, master), self.class_name, str(self.id))

    def __repr__(self) -> str:
        return f"<Object {self.class_name} {self.id or '(new)'}>"


def _handler(class_name: str) -> Any:
    from ..objects.handlers import handler_for

    return handler_for(class_name)


class Query:
    """A query with the Parse SDK's vocabulary, run through the REST code path."""

    def __init__(self, class_name: str, where: dict[str, Any] | None = None) -> None:
        self.class_name = class_name
        self.where: dict[str, Any] = copy.deepcopy(where or {})
        self.limit_value: int | None = None
        self.skip_value = 0
        self.order: list[str] = []
        self.keys: list[str] | None = None
        self.includes: list[str] = []

    @classmethod
    def from_dict(cls, class_name: str, query: dict[str, Any]) -> Query:
        q = cls(class_name, query.get("where") or {})
        q.limit_value = query.get("limit")
        q.skip_value = query.get("skip") or 0
        q.order = list(query.get("order") or [])
        q.keys = query.get("keys")
        q.includes = list(query.get("include") or [])
        return q

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "limit": self.limit_value,
            "skip": self.skip_value,
            "order": self.order,
            "keys": self.keys,
            "include": self.includes,
        }

    def _constraint(self, key: str, op: str, value: Any) -> Query:
        current = self.where.get(key)
        if not isinstance(current, dict) or "__type" in current:
            current = (
                {}
                if current is None or isinstance(current, dict) and "__type" in current
                else {"$eq": current}
            )
        current[op] = encode(value)
        self.where[key] = current
        return self

    def equal_to(self, key: str, value: Any) -> Query:
        self.where[key] = encode(value)
        return self

    def not_equal_to(self, key: str, value: Any) -> Query:
        return self._constraint(key, "$ne", value)

    def less_than(self, key: str, value: Any) -> Query:
        return self._constraint(key, "$lt", value)

    def less_than_or_equal_to(self, key: str, value: Any) -> Query:
        return self._constraint(key, "$lte", value)

    def greater_than(self, key: str, value: Any) -> Query:
        return self._constraint(key, "$gt", value)

    def greater_than_or_equal_to(self, key: str, value: Any) -> Query:
        return self._constraint(key, "$gte", value)

    def contained_in(self, key: str, values: list[Any]) -> Query:
        return self._constraint(key, "$in", list(values))

    def not_contained_in(self, key: str, values: list[Any]) -> Query:
        return self._constraint(key, "$nin", list(values))

    def contains_all(self, key: str, values: list[Any]) -> Query:
        return self._constraint(key, "$all", list(values))

    def exists(self, key: str) -> Query:
        return self._constraint(key, "$exists", True)

    def does_not_exist(self, key: str) -> Query:
        return self._constraint(key, "$exists", False)

    def matches(self, key: str, pattern: str, options: str = "") -> Query:
        self._constraint(key, "$regex", pattern)
        if options:
            self._constraint(key, "$options", options)
        return self

    def starts_with(self, key: str, prefix: str) -> Query:
        return self._constraint(
            key, "$regex", "^\\Q" + prefix.replace("\\E", "\\E\\\\E\\Q") + "\\E"
        )

    def matches_query(self, key: str, query: Query) -> Query:
        return self._constraint(
            key, "$inQuery", {"className": query.class_name, "where": query.where}
        )

    def include(self, *keys: str) -> Query:
        self.includes.extend(keys)
        return self

    def select(self, *keys: str) -> Query:
        self.keys = list(keys)
        return self

    def limit(self, n: int) -> Query:
        self.limit_value = n
        return self

    def skip(self, n: int) -> Query:
        self.skip_value = n
        return self

    def ascending(self, *keys: str) -> Query:
        self.order.extend(keys)
        return self

    def descending(self, *keys: str) -> Query:
        self.order.extend("-" + k for k in keys)
        return self

    def _params(self, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"where": self.where}
        if self.limit_value is not None:
            params["limit"] = self.limit_value
        if self.skip_value:
            params["skip"] = self.skip_value
        if self.order:
            params["order"] = ",".join(self.order)
        if self.keys is not None:
            params["keys"] = ",".join(self.keys)
        if self.includes:
            params["include"] = ",".join(self.includes)
        params.update(extra)
        return params

    def find(self, *, auth: Any = None, master: bool = False) -> list[Object]:
        response = reads.find(resolve_auth(auth, master), self.class_name, self._params())
        return [Object.from_api(self.class_name, o) for o in response["results"]]

    def first(self, *, auth: Any = None, master: bool = False) -> Object | None:
        saved, self.limit_value = self.limit_value, 1
        try:
            found = self.find(auth=auth, master=master)
        finally:
            self.limit_value = saved
        return found[0] if found else None

    def get(self, object_id: str, *, auth: Any = None, master: bool = False) -> Object:
        obj = reads.get(
            resolve_auth(auth, master),
            self.class_name,
            object_id,
            {k: v for k, v in self._params().items() if k in ("keys", "include")},
        )
        return Object.from_api(self.class_name, obj)

    def count(self, *, auth: Any = None, master: bool = False) -> int:
        response = reads.find(
            resolve_auth(auth, master), self.class_name, self._params(count=1, limit=0)
        )
        return int(response.get("count", 0))
