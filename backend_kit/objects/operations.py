"""Field operations of a write body (``Increment``, ``Add``, ``Delete``...).

A body is parsed once into :class:`Change` items. They are applied

* in SQL on PostgreSQL (``jsonb_set`` expressions inside one ``UPDATE``), and
* by :func:`apply_changes` in Python, which SQLite runs *inside* its ``UPDATE`` as a
  registered function (``bk_apply_ops``) and which also computes an object's next
  state for triggers and LiveQuery,

so concurrent Increments never lose an update: the database applies each one to
the row as it is when the row lock is taken.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..codec import (
    close_polygon,
    decode_value,
    field_type_of,
    is_valid_class_name,
    is_valid_field_name,
)
from ..errors import Code, ParseError
from .permissions import validate_acl

RESERVED_READ_ONLY = frozenset({"objectId", "createdAt", "updatedAt"})
MISSING: Any = object()

SET, DELETE, INCREMENT, ADD, ADD_UNIQUE, REMOVE, ADD_RELATION, REMOVE_RELATION = (
    "set",
    "delete",
    "increment",
    "add",
    "add_unique",
    "remove",
    "add_relation",
    "remove_relation",
)
DATA_KINDS = frozenset({SET, DELETE, INCREMENT, ADD, ADD_UNIQUE, REMOVE})


@dataclass
class Change:
    key: str  # as written: "score" or "stats.wins"
    kind: str
    value: Any = None  # stored form; the amount for INCREMENT; a list for array ops
    target_class: str | None = None  # relation ops

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    @property
    def root(self) -> str:
        return self.key.split(".", 1)[0]

    def as_json(self) -> list[Any]:
        return [self.key, self.kind, self.value]


@dataclass
class WriteBody:
    changes: list[Change] = field(default_factory=list)
    acl: Any = MISSING  # MISSING: unchanged; None: public; dict: validated ACL
    object_id: str | None = None

    @property
    def data_changes(self) -> list[Change]:
        return [c for c in self.changes if c.kind in DATA_KINDS]

    @property
    def relation_changes(self) -> list[Change]:
        return [c for c in self.changes if c.kind in (ADD_RELATION, REMOVE_RELATION)]

    def field_types(self) -> dict[str, dict[str, Any]]:
        """Schema types the body implies for its top-level fields."""
        types: dict[str, dict[str, Any]] = {}
        for change in self.changes:
            if change.key.startswith("_"):
                continue  # internal fields are not part of the class schema
            if "." in change.key:
                types.setdefault(change.root, {"type": "Object"})
                continue
            implied = implied_type(change)
            if implied is not None:
                types[change.key] = implied
        return types

    def keys(self) -> set[str]:
        return {c.root for c in self.changes}


def implied_type(change: Change) -> dict[str, Any] | None:
    if change.kind == SET:
        return field_type_of(change.value)
    if change.kind == INCREMENT:
        return {"type": "Number"}
    if change.kind in (ADD, ADD_UNIQUE, REMOVE):
        return {"type": "Array"}
    if change.kind in (ADD_RELATION, REMOVE_RELATION):
        return {"type": "Relation", "targetClass": change.target_class}
    return None


def parse_body(body: Any, *, allow_object_id: bool = False) -> WriteBody:
    if not isinstance(body, dict):
        raise ParseError(Code.INVALID_JSON, "request body must be a JSON object")
    out = WriteBody()
    for key, value in body.items():
        if key == "ACL":
            if isinstance(value, dict) and value.get("__op") == "Delete":
                out.acl = None
            else:
                out.acl = validate_acl(value)
            continue
        if key == "objectId":
            if allow_object_id:
                if value is None or value == "":
                    raise ParseError(
                        Code.MISSING_OBJECT_ID, "objectId must not be empty, null or undefined"
                    )
                if not isinstance(value, str) or len(value) > 64:
                    raise ParseError(Code.INVALID_KEY_NAME, "objectId must be a non-empty string")
                out.object_id = value
                continue
            if value is None:
                continue
            raise ParseError(Code.INVALID_KEY_NAME, "objectId is an invalid field name.")
        if key in RESERVED_READ_ONLY:
            continue
        check_key(key)
        out.changes.extend(parse_change(key, value))
    return out


def check_key(key: str) -> None:
    parts = key.split(".")
    if not is_valid_field_name(parts[0]) or parts[0] in ("length", "className"):
        raise ParseError(Code.INVALID_KEY_NAME, f"Invalid field name: {key}.")
    for part in parts[1:]:
        if not part or "$" in part or not all(c.isalnum() or c == "_" for c in part):
            raise ParseError(
                Code.INVALID_NESTED_KEY, "Nested keys should not contain the '$' or '.' characters"
            )


def parse_change(key: str, value: Any) -> list[Change]:
    if not (isinstance(value, dict) and "__op" in value):
        decoded = decode_value(value, path=key)
        if "." not in key and isinstance(decoded, dict) and decoded.get("__type") == "Polygon":
            decoded = close_polygon(decoded)  # a Polygon field is stored as a closed ring
        return [Change(key, SET, decoded)]
    op = value["__op"]
    if op == "Delete":
        return [Change(key, DELETE)]
    if op == "Increment":
        amount = value.get("amount", 1)
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise ParseError(Code.INVALID_JSON, "incrementing must provide a number")
        return [Change(key, INCREMENT, decode_value(amount))]
    if op in ("Add", "AddUnique", "Remove"):
        objects = value.get("objects")
        if not isinstance(objects, list):
            raise ParseError(Code.INVALID_JSON, "objects to add must be an array")
        kind = {"Add": ADD, "AddUnique": ADD_UNIQUE, "Remove": REMOVE}[op]
        return [Change(key, kind, [decode_value(o, path=key) for o in objects])]
    if op in ("AddRelation", "RemoveRelation"):
        if "." in key:
            raise ParseError(Code.INVALID_KEY_NAME, f"Invalid field name: {key}.")
        objects = value.get("objects")
        if not isinstance(objects, list):
            raise ParseError(Code.INVALID_JSON, "objects to add must be an array")
        target, ids = None, []
        for obj in objects:
            if (
                not isinstance(obj, dict)
                or obj.get("__type") not in ("Pointer", "Object")
                or not isinstance(obj.get("objectId"), str)
            ):
                raise ParseError(Code.INVALID_JSON, "relation objects must be pointers")
            cls = obj.get("className")
            if not is_valid_class_name(cls):
                raise ParseError(Code.INVALID_POINTER, "relation pointer has an invalid className")
            if target is not None and cls != target:
                raise ParseError(
                    Code.INCORRECT_TYPE, "All objects in a relation must have the same class."
                )
            target = cls
            ids.append(obj["objectId"])
        kind = ADD_RELATION if op == "AddRelation" else REMOVE_RELATION
        return [Change(key, kind, ids, target_class=target)] if target else []
    if op == "Batch":
        ops = value.get("ops")
        if not isinstance(ops, list):
            raise ParseError(Code.INVALID_JSON, "Batch ops must be an array")
        out: list[Change] = []
        for sub in ops:
            if not isinstance(sub, dict) or sub.get("__op") not in (
                "AddRelation",
                "RemoveRelation",
            ):
                raise ParseError(Code.INVALID_JSON, "Batch only combines relation operations")
            out.extend(parse_change(key, sub))
        targets = {c.target_class for c in out}
        if len(targets) > 1:
            raise ParseError(
                Code.INCORRECT_TYPE, "All objects in a relation must have the same class."
            )
        return out
    raise ParseError(Code.INVALID_JSON, f"bad op {op}")


# --- Python application (SQLite UPDATE function, triggers, LiveQuery) ---------------------


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality that keeps ``true`` and ``1`` apart (as jsonb does)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _normalize_number(value: float | int) -> float | int:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _parent(data: dict[str, Any], path: tuple[str, ...], create: bool) -> dict[str, Any] | None:
    current = data
    for part in path[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            if not create:
                return None
            nxt = {}
            current[part] = nxt
        current = nxt
    return current


def apply_changes(data: dict[str, Any], changes: list[Any]) -> dict[str, Any]:
    """Apply changes (``Change`` or their ``as_json`` lists) to a copy of ``data``."""
    out = orjson.loads(orjson.dumps(data))
    for change in changes:
        key, kind, value = change.as_json() if isinstance(change, Change) else change
        path = tuple(key.split("."))
        leaf = path[-1]
        if kind == DELETE:
            parent = _parent(out, path, create=False)
            if parent is not None:
                parent.pop(leaf, None)
            continue
        parent = _parent(out, path, create=True)
        assert parent is not None
        current = parent.get(leaf)
        if kind == SET:
            parent[leaf] = value
        elif kind == INCREMENT:
            base = (
                current
                if isinstance(current, (int, float)) and not isinstance(current, bool)
                else 0
            )
            total = base + value
            if isinstance(total, float) and not math.isfinite(total):
                raise ParseError(Code.INVALID_JSON, increment_overflow(key))
            parent[leaf] = _normalize_number(total)
        elif kind in (ADD, ADD_UNIQUE, REMOVE):
            items = list(current) if isinstance(current, list) else []
            if kind == ADD:
                items.extend(value)
            elif kind == ADD_UNIQUE:
                for item in value:
                    if not any(json_equal(item, existing) for existing in items):
                        items.append(item)
            else:
                items = [e for e in items if not any(json_equal(e, r) for r in value)]
            parent[leaf] = items
    return out


def increment_overflow(key: str) -> str:
    return f"Increment of {key} gives a number out of range"


# SQLite reports an exception inside a function as a bare OperationalError; the
# ParseError is kept here for the writer to re-raise (see take_sqlite_error).
_sqlite_error = threading.local()


def sqlite_apply_ops(data_text: str | None, changes_text: str) -> str:
    data = orjson.loads(data_text) if data_text else {}
    try:
        return orjson.dumps(apply_changes(data, orjson.loads(changes_text))).decode()
    except ParseError as exc:
        _sqlite_error.value = exc
        raise


def take_sqlite_error() -> ParseError | None:
    """The ParseError raised inside ``bk_apply_ops`` by this thread's last UPDATE, if any."""
    error = getattr(_sqlite_error, "value", None)
    _sqlite_error.value = None
    return error


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function("bk_apply_ops", 2, sqlite_apply_ops, deterministic=True)


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_path(path: tuple[str, ...]) -> str:
    return "'{" + ",".join(p.replace("'", "''") for p in path) + "}'"


def pg_update_expression(changes: list[Change], column: str = '"data"') -> tuple[str, list[Any]]:
    """One SQL expression computing the new ``data`` from the row's current one."""
    expr, params = column, []
    # Intermediate objects of dotted keys first, from the row as it is; these carry
    # no parameters, so the nested expression never repeats a placeholder.
    prefixes = sorted(
        {c.path[:d] for c in changes if c.kind != DELETE for d in range(1, len(c.path))}, key=len
    )
    for prefix in prefixes:
        current = f"({column} #> {_pg_path(prefix)})"
        expr = (
            f"jsonb_set({expr}, {_pg_path(prefix)}, CASE WHEN jsonb_typeof({current}) = 'object' "
            f"THEN {current} ELSE '{{}}'::jsonb END, true)"
        )
    for change in changes:
        path = change.path
        if change.kind == DELETE:
            expr = f"({expr} #- {_pg_path(path)})"
            continue
        current = f"({column} #> {_pg_path(path)})"
        array = f"(CASE WHEN jsonb_typeof({current}) = 'array' THEN {current} ELSE '[]'::jsonb END)"
        if change.kind == SET:
            value_sql = "%s::jsonb"
            params.append(orjson.dumps(change.value).decode())
        elif change.kind == INCREMENT:
            value_sql = (
                f"to_jsonb((CASE WHEN jsonb_typeof({current}) = 'number' THEN ({current} #>> '{{}}')::float8 "
                f"ELSE 0 END) + %s::float8)"
            )
            params.append(change.value)
        elif change.kind == ADD:
            value_sql = f"({array} || %s::jsonb)"
            params.append(orjson.dumps(change.value).decode())
        elif change.kind == ADD_UNIQUE:
            value_sql = (
                f"({array} || COALESCE((SELECT jsonb_agg(x.v ORDER BY x.n) FROM jsonb_array_elements(%s::jsonb) "
                f"WITH ORDINALITY AS x(v, n) WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements({array}) AS y(v) "
                f"WHERE y.v = x.v) AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY "
                f"AS z(v, n) WHERE z.v = x.v AND z.n < x.n)), '[]'::jsonb))"
            )
            encoded = orjson.dumps(change.value).decode()
            params.extend([encoded, encoded])
        elif change.kind == REMOVE:
            value_sql = (
                f"COALESCE((SELECT jsonb_agg(y.v ORDER BY y.n) FROM jsonb_array_elements({array}) WITH ORDINALITY "
                f"AS y(v, n) WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(%s::jsonb) AS r(v) "
                f"WHERE r.v = y.v)), '[]'::jsonb)"
            )
            params.append(orjson.dumps(change.value).decode())
        else:
            continue
        expr = f"jsonb_set({expr}, {_pg_path(path)}, {value_sql}, true)"
    return expr, params
