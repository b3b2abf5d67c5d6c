"""``$group``: its parsed form and its evaluation in Python.

The group key is ``_id`` (or ``objectId``): null (one group), a ``"$field"``
reference, a date operator on a field (``{"$year": "$createdAt"}``), or an object of
those (a composite key). Results carry the key as ``objectId``, as Parse answers.
Groups come out ordered by key so that the SQL and Python paths agree row for row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .values import (
    DATE_PARTS,
    MISSING,
    SEGMENT_RE,
    FieldPath,
    bad,
    bson_key,
    date_part,
    identity,
    is_number,
    key_value,
    normalize_number,
    parse_ref,
    resolve,
    to_decimal,
)

ACCUMULATORS = ("$sum", "$avg", "$min", "$max", "$count", "$first", "$last", "$push", "$addToSet")


@dataclass(frozen=True)
class KeyPart:
    """One value of a group key: a field, or a date operator applied to a field."""

    ref: FieldPath
    date_op: str | None = None

    def evaluate(self, row: dict[str, Any]) -> Any:
        value = resolve(row, self.ref)
        if self.date_op is not None:
            return date_part(self.date_op, value)
        return key_value(value)


@dataclass(frozen=True)
class GroupKey:
    constant: Any = None
    single: KeyPart | None = None
    composite: tuple[tuple[str, KeyPart], ...] | None = None

    def parts(self) -> list[KeyPart]:
        if self.single is not None:
            return [self.single]
        return [part for _, part in self.composite or ()]

    def build(self, values: list[Any]) -> Any:
        """The key from the values of :meth:`parts`, in order."""
        if self.single is not None:
            return values[0]
        if self.composite is not None:
            # As Parse on MongoDB: empty members are left out, an empty key is null.
            key = {
                alias: value
                for (alias, _), value in zip(self.composite, values, strict=True)
                if value is not None
            }
            return key or None
        return self.constant

    def evaluate(self, row: dict[str, Any]) -> Any:
        return self.build([part.evaluate(row) for part in self.parts()])


@dataclass(frozen=True)
class Accumulator:
    name: str
    op: str
    ref: FieldPath | None = None
    constant: Any = None  # $sum of a number: that number per document


@dataclass
class Group:
    key: GroupKey
    accumulators: list[Accumulator] = field(default_factory=list)

    def run(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        buckets: dict[Any, tuple[Any, list[Any]]] = {}
        for row in rows:
            key = self.key.evaluate(row)
            ident = identity(key)
            bucket = buckets.get(ident)
            if bucket is None:
                bucket = buckets[ident] = (key, [_start(acc) for acc in self.accumulators])
            states = bucket[1]
            for i, acc in enumerate(self.accumulators):
                states[i] = _add(acc, states[i], row)
        results = []
        for key, states in buckets.values():
            out: dict[str, Any] = {"objectId": key}
            for acc, state in zip(self.accumulators, states, strict=True):
                out[acc.name] = _result(acc, state)
            results.append(out)
        yield from sort_groups(results)


def sort_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: bson_key(r.get("objectId")))


# --- accumulators in Python ---------------------------------------------------------------


def _start(acc: Accumulator) -> Any:
    if acc.ref is None:
        return 0  # $count, $sum of a constant: documents in the group
    if acc.op in ("$sum", "$avg"):
        return [Decimal(0), 0]  # total of the numbers, how many numbers
    if acc.op in ("$min", "$max", "$first", "$last"):
        return [MISSING, False]  # value, seen
    if acc.op == "$push":
        return []
    if acc.op == "$addToSet":
        return {}
    raise AssertionError(acc.op)


def _add(acc: Accumulator, state: Any, row: dict[str, Any]) -> Any:
    if acc.ref is None:
        return state + 1
    value = resolve(row, acc.ref)
    op = acc.op
    if op in ("$sum", "$avg"):
        # Only numbers count, as in MongoDB: strings, booleans and nulls are skipped.
        if is_number(value):
            state[0] += to_decimal(value)
            state[1] += 1
    elif op in ("$min", "$max"):
        if value is not MISSING and value is not None and _better(op, value, state[0]):
            state[0] = value
    elif op == "$first":
        if not state[1]:
            state[0], state[1] = value, True
    elif op == "$last":
        state[0], state[1] = value, True
    elif value is MISSING:
        pass  # $push and $addToSet skip missing values (MongoDB)
    elif op == "$push":
        state.append(value)
    elif op == "$addToSet":
        state.setdefault(identity(value), value)
    return state


def _better(op: str, value: Any, best: Any) -> bool:
    if best is MISSING:
        return True
    if op == "$min":
        return bson_key(value) < bson_key(best)
    return bson_key(value) > bson_key(best)


def _result(acc: Accumulator, state: Any) -> Any:
    op = acc.op
    if acc.ref is None:
        return normalize_number(state * acc.constant) if op == "$sum" else state
    if op == "$sum":
        return normalize_number(state[0]) if state[1] else 0
    if op == "$avg":
        return normalize_number(state[0] / Decimal(state[1])) if state[1] else None
    if op in ("$min", "$max", "$first", "$last"):
        value = state[0]
        return None if value is MISSING else normalize_number(value)
    if op == "$addToSet":
        return list(state.values())
    return state


# --- parsing -----------------------------------------------------------------------------


def parse_group(spec: Any) -> Group:
    if not isinstance(spec, dict):
        raise bad("$group must be an object")
    key_names = [k for k in ("_id", "objectId") if k in spec]
    if not key_names:
        raise bad("Invalid parameter for query: group. Missing key _id")
    if len(key_names) > 1:
        raise bad("$group takes either _id or objectId as its key, not both")
    group = Group(parse_key(spec[key_names[0]]))
    for name, expr in spec.items():
        if name in key_names:
            continue
        group.accumulators.append(parse_accumulator(name, expr))
    return group


def parse_key(value: Any) -> GroupKey:
    if value is None or value == "" or value == {} or value == []:
        return GroupKey()
    if isinstance(value, (bool, int, float)):
        return GroupKey(constant=value)
    if isinstance(value, str):
        return GroupKey(single=KeyPart(parse_ref(value, "$group _id")))
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("$"):
            return GroupKey(single=_key_operator(value, "$group _id"))
        parts = []
        for alias, member in value.items():
            if not isinstance(alias, str) or not SEGMENT_RE.match(alias):
                raise bad(f"$group _id: invalid key name {alias!r}")
            where = f"$group _id.{alias}"
            if isinstance(member, dict):
                parts.append((alias, _key_operator(member, where)))
            else:
                parts.append((alias, KeyPart(parse_ref(member, where))))
        return GroupKey(composite=tuple(parts))
    raise bad(f"$group _id: unsupported key {value!r}")


def _key_operator(value: dict[str, Any], where: str) -> KeyPart:
    if len(value) != 1:
        raise bad(f'{where}: expected one date operator such as {{"$year": "$createdAt"}}')
    op, arg = next(iter(value.items()))
    if op not in DATE_PARTS:
        raise bad(f"{where}: unsupported operator {op!r}; use one of {', '.join(DATE_PARTS)}")
    return KeyPart(parse_ref(arg, f"{where}.{op}"), date_op=op)


def parse_accumulator(name: Any, expr: Any) -> Accumulator:
    if not isinstance(name, str) or not SEGMENT_RE.match(name):
        raise bad(f"$group: invalid output field name {name!r}")
    where = f"$group {name}"
    if not isinstance(expr, dict) or len(expr) != 1:
        raise bad(f'{where}: expected one accumulator such as {{"$sum": 1}}')
    op, arg = next(iter(expr.items()))
    if op not in ACCUMULATORS:
        raise bad(f"{where}: unsupported accumulator {op!r}; use one of {', '.join(ACCUMULATORS)}")
    if op == "$count":
        if arg != {}:
            raise bad(f"{where}: $count takes no argument ({{}})")
        return Accumulator(name, op)
    if op == "$sum" and is_number(arg):
        return Accumulator(name, op, constant=arg)
    return Accumulator(name, op, ref=parse_ref(arg, f"{where}.{op}"))
