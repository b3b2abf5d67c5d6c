"""The parts of an aggregation the database does: filtering, streaming, sorting,
grouping and counting, for PostgreSQL and SQLite.

SQL is only used where its answer is the Python path's answer: grouping and sorting by
values of a known type, numbers summed exactly (``numeric`` on PostgreSQL), strings
compared byte-wise (``COLLATE "C"``), JSON ``null`` and a missing key treated alike.
Anything else returns None from the planners here and runs in Python.

Every literal ``%`` is written ``%%``: both backends format the query with its
parameters, and every query here has parameters (the class name at least).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import DatabaseError

from ..encoding import encode_object, load_json
from ..schema import Schema
from ..sql import OBJECT_COLUMNS, tables
from .group import Accumulator, Group, KeyPart, sort_groups
from .values import FieldPath, bad, date_object, normalize_number

CHUNK_SIZE = 500
SQLITE_TYPE_TAG = (
    "CASE {t} WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n' WHEN 'true' THEN 'b' "
    "WHEN 'false' THEN 'b' WHEN 'text' THEN 's' WHEN 'object' THEN 'o' WHEN 'array' THEN 'a' END"
)
PG_DATE_PARTS = {
    "$year": "EXTRACT(YEAR FROM {t})::int",
    "$month": "EXTRACT(MONTH FROM {t})::int",
    "$dayOfMonth": "EXTRACT(DAY FROM {t})::int",
    "$hour": "EXTRACT(HOUR FROM {t})::int",
    "$minute": "EXTRACT(MINUTE FROM {t})::int",
    "$second": "FLOOR(EXTRACT(SECOND FROM {t}))::int",
    "$millisecond": "MOD(FLOOR(EXTRACT(MILLISECONDS FROM {t}))::int, 1000)",
    "$dayOfYear": "EXTRACT(DOY FROM {t})::int",
    "$dayOfWeek": "(EXTRACT(DOW FROM {t})::int + 1)",
    "$isoDayOfWeek": "EXTRACT(ISODOW FROM {t})::int",
    "$week": "((EXTRACT(DOY FROM {t})::int + 6 - EXTRACT(DOW FROM {t})::int) / 7)",
    "$isoWeek": "EXTRACT(WEEK FROM {t})::int",
    "$isoWeekYear": "EXTRACT(ISOYEAR FROM {t})::int",
}
# The Thursday of a date's ISO week decides its ISO week and year.
_SQLITE_THURSDAY = "printf('%%+d days', 3 - (CAST(strftime('%%w', {t}) AS INTEGER) + 6) %% 7)"
SQLITE_DATE_PARTS = {
    "$year": "CAST(strftime('%%Y', {t}) AS INTEGER)",
    "$month": "CAST(strftime('%%m', {t}) AS INTEGER)",
    "$dayOfMonth": "CAST(strftime('%%d', {t}) AS INTEGER)",
    "$hour": "CAST(strftime('%%H', {t}) AS INTEGER)",
    "$minute": "CAST(strftime('%%M', {t}) AS INTEGER)",
    "$second": "CAST(strftime('%%S', {t}) AS INTEGER)",
    "$millisecond": "CAST(substr(strftime('%%f', {t}), 4) AS INTEGER)",
    "$dayOfYear": "CAST(strftime('%%j', {t}) AS INTEGER)",
    "$dayOfWeek": "(CAST(strftime('%%w', {t}) AS INTEGER) + 1)",
    "$isoDayOfWeek": "((CAST(strftime('%%w', {t}) AS INTEGER) + 6) %% 7 + 1)",
    "$week": "((CAST(strftime('%%j', {t}) AS INTEGER) + 6 - CAST(strftime('%%w', {t}) AS INTEGER)) / 7)",
    "$isoWeek": f"((CAST(strftime('%%j', {{t}}, {_SQLITE_THURSDAY}) AS INTEGER) - 1) / 7 + 1)",
    "$isoWeekYear": f"CAST(strftime('%%Y', {{t}}, {_SQLITE_THURSDAY}) AS INTEGER)",
}


def run_sql(cursor: Any, sql: str, params: list[Any]) -> None:
    try:
        cursor.execute(sql, params)
    except DatabaseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise bad(f"The aggregation could not run in the database: {first_line}")


class Expressions:
    """SQL expressions over the object table aliased ``o`` for one class and vendor."""

    def __init__(self, conn: Any, compiler: Any, schema: Schema) -> None:
        self.conn = conn
        self.pg = conn.vendor == "postgresql"
        self.c = compiler
        self.schema = schema

    def schema_type(self, path: FieldPath) -> str | None:
        if path.column or len(path.parts) != 1:
            return None
        spec = self.schema.fields.get(path.parts[0]) or {}
        return spec.get("type")

    def column(self, path: FieldPath) -> str:
        return f'o."{path.column}"'

    def data_path(self, parts: tuple[str, ...]) -> str:
        """SQLite JSON path literal."""
        return f"'{self.c.sqlite_path(parts)}'"

    def numeric(self, path: FieldPath) -> str:
        """The value when it is a number, else NULL."""
        if self.pg:
            x = self.c.json(path.parts)
            return f"CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x})::numeric END"
        return (
            f"CASE WHEN {self.c.json_type(path.parts)} IN ('integer', 'real') "
            f"THEN {self.c.json(path.parts)} END"
        )

    def typed_text(self, path: FieldPath, sql_type: str, sub: tuple[str, ...] = ()) -> str:
        """The text at ``path + sub`` when the value at ``path`` is of ``sql_type``."""
        if sql_type == "Date":
            cond = f"{self.c.text(path.parts + ('__type',))} = 'Date'"
        elif self.pg:
            cond = f"jsonb_typeof({self.c.json(path.parts)}) = 'string'"
        else:
            cond = f"{self.c.json_type(path.parts)} = 'text'"
        expr = f"CASE WHEN {cond} THEN {self.c.text(path.parts + sub)} END"
        return f'({expr}) COLLATE "C"' if self.pg else expr

    # --- ordering ---------------------------------------------------------------------

    def tie_breaker(self) -> str:
        return 'o."object_id" COLLATE "C"' if self.pg else 'o."object_id"'

    def order_expr(self, path: FieldPath) -> str | None:
        """An ORDER BY expression that sorts as the Python path does, or None."""
        if path.column == "object_id":
            return self.tie_breaker()
        if path.column:
            return self.column(path)
        kind = self.schema_type(path)
        if kind in ("Number", "Boolean"):
            if self.pg:
                return f"NULLIF({self.c.json(path.parts)}, 'null'::jsonb)"
            return self.c.json(path.parts)
        if kind == "String":
            return self.typed_text(path, "String")
        if kind == "Date":
            return self.typed_text(path, "Date", ("iso",))
        return None

    # --- group keys -------------------------------------------------------------------

    def key(self, part: KeyPart) -> tuple[list[str], list[str], Callable[[list[Any]], Any]]:
        """(select expressions, GROUP BY expressions, decoder of the selected values)."""
        if part.date_op is not None:
            expr = self.date_part(part.date_op, part.ref)
            return [expr], [expr], lambda values: values[0]
        path = part.ref
        if path.column == "object_id":
            expr = self.column(path)
            return [expr], [expr], lambda values: values[0]
        if path.column:
            expr = self.column(path)
            return [expr], [expr], lambda values: _date_or_none(values[0])
        if self.pg:
            return self._pg_key(path)
        return self._sqlite_key(path)

    def _pg_key(self, path: FieldPath) -> tuple[list[str], list[str], Callable[[list], Any]]:
        x = self.c.json(path.parts)
        kind = self.schema_type(path)
        if kind == "Pointer":
            value = f"{x} -> 'objectId'"
        elif kind in ("Number", "String", "Boolean", "Date", "File", "GeoPoint"):
            value = x
        else:
            value = f"CASE WHEN {x} ->> '__type' IN ('Pointer', 'Object') THEN {x} -> 'objectId' ELSE {x} END"
        expr = f"NULLIF({value}, 'null'::jsonb)"
        return [f"({expr})::text"], [expr], lambda values: _json_or_none(values[0])

    def _sqlite_key(self, path: FieldPath) -> tuple[list[str], list[str], Callable[[list], Any]]:
        kind = self.schema_type(path)
        if kind == "Pointer":
            where = self.data_path(path.parts + ("objectId",))
        elif kind in ("Number", "String", "Boolean", "Date", "File", "GeoPoint"):
            where = self.data_path(path.parts)
        else:
            where = (
                f'CASE WHEN json_extract(o."data", {self.data_path(path.parts + ("__type",))}) '
                f"IN ('Pointer', 'Object') THEN {self.data_path(path.parts + ('objectId',))} "
                f"ELSE {self.data_path(path.parts)} END"
            )
        tag = SQLITE_TYPE_TAG.format(t=f'json_type(o."data", {where})')
        value = f'json_extract(o."data", {where})'
        return [tag, value], [tag, value], lambda values: decode_tagged(values[0], values[1])

    def date_part(self, op: str, path: FieldPath) -> str:
        if self.pg:
            if path.column:
                moment = f"({self.column(path)} AT TIME ZONE 'UTC')"
            else:
                iso = self.c.text(path.parts + ("iso",))
                moment = (
                    f"(CASE WHEN {self.c.text(path.parts + ('__type',))} = 'Date' "
                    f"THEN (({iso})::timestamptz AT TIME ZONE 'UTC') END)"
                )
            return PG_DATE_PARTS[op].format(t=moment)
        if path.column:
            moment = self.column(path)
        else:
            moment = (
                f"(CASE WHEN {self.c.text(path.parts + ('__type',))} = 'Date' "
                f"THEN {self.c.text(path.parts + ('iso',))} END)"
            )
        return SQLITE_DATE_PARTS[op].format(t=moment)

    # --- accumulators -------------------------------------------------------------------

    def accumulator(self, acc: Accumulator) -> tuple[str | None, Callable[[Any, int], Any]] | None:
        """(aggregate expression or None, decoder of (its value, group size)), or None."""
        if acc.ref is None:  # $count, or $sum of a constant: from the group's size
            if acc.op == "$sum":
                return None, lambda value, n: normalize_number(n * acc.constant)
            return None, lambda value, n: n
        path = acc.ref
        if acc.op in ("$sum", "$avg"):
            if path.column:  # dates and ids are not numbers
                return None, lambda value, n: 0 if acc.op == "$sum" else None
            fn = "SUM" if acc.op == "$sum" else "AVG"
            default = 0 if acc.op == "$sum" else None
            return (
                f"{fn}({self.numeric(path)})",
                lambda value, n: default if value is None else normalize_number(value),
            )
        if acc.op in ("$min", "$max"):
            fn = acc.op[1:].upper()
            if path.column == "object_id":
                return f"{fn}({self.tie_breaker()})", lambda value, n: value
            if path.column:
                return f"{fn}({self.column(path)})", lambda value, n: _date_or_none(value)
            kind = self.schema_type(path)
            if kind == "Number":
                return (
                    f"{fn}({self.numeric(path)})",
                    lambda value, n: None if value is None else normalize_number(value),
                )
            if kind == "String":
                return f"{fn}({self.typed_text(path, 'String')})", lambda value, n: value
            if kind == "Date":
                return (
                    f"{fn}({self.typed_text(path, 'Date', ('iso',))})",
                    lambda value, n: None if value is None else {"__type": "Date", "iso": value},
                )
        return None


def _date_or_none(value: Any) -> Any:
    return None if value is None else date_object(value)


def _json_or_none(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def decode_tagged(tag: str | None, value: Any) -> Any:
    """A value SQLite returned with its JSON type tag (see ``SQLITE_TYPE_TAG``)."""
    if tag is None:
        return None
    if tag == "b":
        return bool(value)
    if tag in ("o", "a"):
        return orjson.loads(value)
    return value


# --- grouping in SQL -----------------------------------------------------------------------


@dataclass
class GroupPlan:
    group: Group
    selects: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    key_decoders: list[tuple[int, int, Callable[[list[Any]], Any]]] = field(default_factory=list)
    acc_decoders: list[tuple[int | None, Callable[[Any, int], Any]]] = field(default_factory=list)

    def run(self, conn: Any, where_sql: str, params: list[Any]) -> list[dict[str, Any]]:
        table, _ = tables(conn)
        sql = (
            f"SELECT COUNT(*), {', '.join(self.selects) or '1'} FROM {table} AS o WHERE {where_sql}"
        )
        if self.group_by:
            sql += f" GROUP BY {', '.join(self.group_by)}"
        with conn.cursor() as cursor:
            run_sql(cursor, sql, params)
            fetched = cursor.fetchall()
        results = []
        for row in fetched:
            size = int(row[0])
            if not size:  # an aggregate without GROUP BY answers one row even for no input
                continue
            values = list(row[1:])
            key = self.group.key.build(
                [decode(values[start:end]) for start, end, decode in self.key_decoders]
            )
            out: dict[str, Any] = {"objectId": key}
            for acc, (index, decode_acc) in zip(
                self.group.accumulators, self.acc_decoders, strict=True
            ):
                out[acc.name] = decode_acc(values[index] if index is not None else None, size)
            results.append(out)
        return sort_groups(results)


def plan_group(group: Group, exprs: Expressions) -> GroupPlan | None:
    """A GROUP BY query computing ``group``, or None when it needs Python."""
    plan = GroupPlan(group)
    for part in group.key.parts():
        selects, group_by, decode = exprs.key(part)
        start = len(plan.selects)
        plan.selects.extend(selects)
        plan.group_by.extend(group_by)
        plan.key_decoders.append((start, start + len(selects), decode))
    for acc in group.accumulators:
        compiled = exprs.accumulator(acc)
        if compiled is None:
            return None
        expr, decode_acc = compiled
        index = None
        if expr is not None:
            index = len(plan.selects)
            plan.selects.append(expr)
        plan.acc_decoders.append((index, decode_acc))
    return plan


# --- documents ---------------------------------------------------------------------------


@dataclass
class Window:
    """A leading ``$sort``/``$skip``/``$limit`` done by the database."""

    order: list[tuple[str, int]] = field(default_factory=list)  # (expression, direction)
    offset: int = 0
    limit: int | None = None


def to_document(row: tuple[Any, ...]) -> dict[str, Any]:
    object_id, data, _acl, created, updated = row
    doc = encode_object(object_id, load_json(data) or {}, None, created, updated, file_fields=False)
    doc["createdAt"] = {"__type": "Date", "iso": doc["createdAt"]}
    doc["updatedAt"] = {"__type": "Date", "iso": doc["updatedAt"]}
    return doc


def stream_documents(
    conn: Any, exprs: Expressions, where_sql: str, params: list[Any], window: Window
) -> Iterator[dict[str, Any]]:
    """Documents in chunks through a server-side cursor (PostgreSQL) or SQLite's lazy
    fetch, so the class is never held in memory at once."""
    table, _ = tables(conn)
    order = [
        f"{expr} {'ASC NULLS FIRST' if direction > 0 else 'DESC NULLS LAST'}"
        for expr, direction in window.order
    ]
    order.append(f"{exprs.tie_breaker()} ASC")
    sql = f"SELECT {OBJECT_COLUMNS} FROM {table} AS o WHERE {where_sql} ORDER BY {', '.join(order)}"
    all_params = list(params)
    if window.limit is not None:
        sql += " LIMIT %s"
        all_params.append(window.limit)
    elif window.offset and not exprs.pg:
        sql += " LIMIT -1"
    if window.offset:
        sql += " OFFSET %s"
        all_params.append(window.offset)
    with conn.chunked_cursor() as cursor:
        run_sql(cursor, sql, all_params)
        while True:
            batch = cursor.fetchmany(CHUNK_SIZE)
            if not batch:
                break
            for row in batch:
                yield to_document(row)


def count_documents(conn: Any, where_sql: str, params: list[Any]) -> int:
    table, _ = tables(conn)
    with conn.cursor() as cursor:
        run_sql(cursor, f"SELECT COUNT(*) FROM {table} AS o WHERE {where_sql}", params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0
