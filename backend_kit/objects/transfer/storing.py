"""Storing rows: upserts by objectId that leave equal objects alone."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ...codec import format_iso
from ..encoding import load_json, to_datetime
from ..permissions import acl_principals
from ..sql import connection, fetchall, json_param, tables
from .base import ID_LOOKUP_SLICE, Counts, ImportOptions


@dataclass
class ImportRow:
    """One object ready to store: the wire-normalised data and the metadata to keep."""

    object_id: str
    data: dict[str, Any]
    acl: dict[str, dict[str, bool]] | None
    created_at: datetime | None
    updated_at: datetime | None
    # schema types the row needs, relation fields included (they store no value)
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what an importer took out of the record for its own use (a password hash...):
    # never stored in the object
    extra: dict[str, Any] = field(default_factory=dict)


# Rows per INSERT statement on PostgreSQL (all of them in one JSON parameter).
ROWS_PER_INSERT = 5000


def insert_rows(
    cursor: Any, table: str, columns: list[tuple[str, str]], rows: list[list[Any]], tail: str = ""
) -> int:
    """Insert ``rows`` (values in the order of ``columns``: ``(name, PostgreSQL type)``,
    the type one of ``text``, ``jsonb`` (a JSON value, None for NULL), ``timestamptz``
    (an aware datetime)); the number of rows inserted. ``tail`` ends the statement
    (``ON CONFLICT DO NOTHING``).

    On PostgreSQL one ``INSERT ... SELECT FROM jsonb_to_recordset(%s)`` per
    :data:`ROWS_PER_INSERT` rows: the rows travel as one JSON document written by
    orjson, so neither psycopg nor Python handles them one by one, and
    statement-level triggers (the guardrails' usage level) fire once a batch, not once
    a row. On SQLite ``executemany``, whose loop runs in C.
    """
    if not rows:
        return 0
    names = ", ".join(f'"{name}"' for name, _ in columns)
    if cursor.db.vendor != "postgresql":
        adapt = cursor.db.ops.adapt_datetimefield_value
        convert = [
            (lambda v: None if v is None else _dump(v))
            if kind == "jsonb"
            else adapt
            if kind == "timestamptz"
            else None
            for _, kind in columns
        ]
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks}){tail}",
            [[f(v) if f else v for f, v in zip(convert, row, strict=True)] for row in rows],
        )
        return max(cursor.rowcount, 0)
    record = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS t({record}){tail}"
    )
    keys = [name for name, _ in columns]
    inserted = 0
    for start in range(0, len(rows), ROWS_PER_INSERT):
        document = orjson.dumps(
            [dict(zip(keys, row, strict=True)) for row in rows[start : start + ROWS_PER_INSERT]]
        )
        cursor.execute(sql, [document.decode()])
        inserted += max(cursor.rowcount, 0)
    return inserted


OBJECT_COLUMNS = [
    ("class_name", "text"),
    ("object_id", "text"),
    ("data", "jsonb"),
    ("acl", "jsonb"),
    ("read_principals", "jsonb"),
    ("write_principals", "jsonb"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
]


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def _now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def _same_moment(a: Any, b: Any) -> bool:
    return format_iso(to_datetime(a)) == format_iso(to_datetime(b))


def upsert_rows(
    class_name: str,
    rows: list[ImportRow],
    options: ImportOptions,
    *,
    drop_internal: Collection[str] = (),
) -> Counts:
    """Insert new objects, update changed ones, leave equal ones alone; counts what it did.

    Internal fields (``_``-prefixed) already stored survive an update unless the row sets
    them, or they are named in ``drop_internal`` (fields an importer moved elsewhere).
    """
    conn = connection(write=True)
    object_table, _ = tables(conn)
    existing: dict[str, tuple[Any, ...]] = {}
    ids = [row.object_id for row in rows]
    select = (
        f'SELECT "object_id", "data", "acl", "created_at", "updated_at" FROM {object_table} '
        f'WHERE "class_name" = %s AND "object_id" IN '
    )
    if conn.vendor == "postgresql":
        # the whole batch's ids as one JSON parameter: one short statement
        parts = [("(SELECT jsonb_array_elements_text(%s::jsonb))", [_dump(ids)])]
    else:
        parts = [
            (f"({', '.join(['%s'] * len(part))})", part)
            for part in (ids[i : i + ID_LOOKUP_SLICE] for i in range(0, len(ids), ID_LOOKUP_SLICE))
        ]
    for marks, params in parts:
        for object_id, data, acl, created, updated in fetchall(
            conn, select + marks, [class_name, *params]
        ):
            existing[object_id] = (load_json(data), load_json(acl), created, updated)
    counts = Counts()
    inserts: list[list[Any]] = []
    updates: list[list[Any]] = []
    adapt = conn.ops.adapt_datetimefield_value
    for row in rows:
        old = existing.get(row.object_id)
        if old is None:
            created = row.created_at or _now()
            updated = row.updated_at or created
            read, write = acl_principals(row.acl)
            inserts.append(
                [class_name, row.object_id, row.data, row.acl, read, write, created, updated]
            )
            counts.created += 1
            continue
        if options.skip_existing:
            counts.skipped += 1
            continue
        old_data, old_acl, old_created, old_updated = old
        # Internal fields (token hashes...) set here but absent from the file survive.
        data = {
            k: v
            for k, v in old_data.items()
            if k[:1] == "_" and k not in row.data and k not in drop_internal
        }
        data.update(row.data)
        same_content = data == old_data and row.acl == old_acl
        created = row.created_at or to_datetime(old_created)
        updated = row.updated_at or (to_datetime(old_updated) if same_content else _now())
        if (
            same_content
            and _same_moment(created, old_created)
            and _same_moment(updated, old_updated)
        ):
            counts.unchanged += 1
            continue
        read, write = acl_principals(row.acl)
        updates.append(
            [
                _dump(data),
                _dump(row.acl) if row.acl is not None else None,
                _dump(read),
                _dump(write),
                adapt(created),
                adapt(updated),
                class_name,
                row.object_id,
            ]
        )
        counts.updated += 1
    j = json_param(conn)
    with conn.cursor() as cursor:
        insert_rows(cursor, object_table, OBJECT_COLUMNS, inserts)
        if updates:
            cursor.executemany(
                f'UPDATE {object_table} SET "data" = {j}, "acl" = {j}, "read_principals" = {j}, '
                f'"write_principals" = {j}, "created_at" = %s, "updated_at" = %s '
                f'WHERE "class_name" = %s AND "object_id" = %s',
                updates,
            )
    return counts
