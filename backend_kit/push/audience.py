"""The audience of a push: installations matching its ``where``, in SQL.

Only installations with a ``deviceToken`` are targeted (Parse adds ``deviceToken:
{$exists: true}`` unless the query names the field). The audience is never loaded
whole: it is counted, cut into objectId ranges of at most ``BATCH_SIZE`` rows
(:func:`next_boundary`, one indexed query per batch) and read one range at a time
(:func:`devices_in`). Badge changes are one ``UPDATE`` over the audience, computed
by the database, so concurrent pushes never lose an increment.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..codec import encode_date
from ..errors import Code, ParseError
from ..objects.encoding import load_json
from ..objects.query.parser import QueryParser
from ..objects.schema import DEFAULT_FIELDS, get_schema
from ..objects.sql import connection, execute, fetchall, fetchone, tables, where_clause
from ..objects.writes import now
from .payload import BadgeOp
from .transports import Device

CLASS_NAME = "_Installation"
LOGICAL = ("$or", "$and", "$nor")


def _unknown_fields(where: Any, known: set[str]) -> list[str]:
    unknown: list[str] = []
    if not isinstance(where, dict):
        return unknown
    for key, value in where.items():
        if key in LOGICAL and isinstance(value, list):
            for part in value:
                unknown.extend(_unknown_fields(part, known))
        elif isinstance(key, str) and not key.startswith("$") and key.split(".", 1)[0] not in known:
            unknown.append(key)
    return unknown


def check_where(where: dict[str, Any]) -> None:
    """102 for a query Parse would refuse, and for fields ``_Installation`` lacks
    (a push to a misspelt field would silently reach nobody)."""
    schema = get_schema(CLASS_NAME)
    known = set(DEFAULT_FIELDS) | set(schema.fields if schema else {})
    unknown = _unknown_fields(where, known)
    if unknown:
        raise ParseError(
            Code.INVALID_QUERY,
            f"Invalid where: {', '.join(sorted(set(unknown)))} "
            f"{'is not a field' if len(unknown) == 1 else 'are not fields'} of _Installation.",
        )
    QueryParser(get_schema).parse_query(CLASS_NAME, with_token(where))


def with_token(where: dict[str, Any]) -> dict[str, Any]:
    if "deviceToken" in where:
        return where
    return {**where, "deviceToken": {"$exists": True}}


def _sql(conn: Any, where: dict[str, Any], *, token: bool = True) -> tuple[str, list[Any]]:
    node = (
        QueryParser(get_schema).parse_query(CLASS_NAME, with_token(where) if token else where).where
    )
    return where_clause(conn, CLASS_NAME, node, None)


def count(where: dict[str, Any]) -> int:
    conn = connection()
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    row = fetchone(conn, f"SELECT COUNT(*) FROM {table} AS o WHERE {sql}", params)
    return int(row[0]) if row else 0


def count_by_type(where: dict[str, Any]) -> dict[str, int]:
    """How many targeted installations of each ``deviceType`` (the audience preview)."""
    conn = connection()
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    device_type = (
        "(o.\"data\" ->> 'deviceType')"
        if conn.vendor == "postgresql"
        else "json_extract(o.\"data\", '$.deviceType')"
    )
    rows = fetchall(
        conn,
        f"SELECT {device_type}, COUNT(*) FROM {table} AS o WHERE {sql} GROUP BY {device_type}",
        params,
    )
    return {str(kind) if kind is not None else "": int(n) for kind, n in rows}


def next_boundary(where: dict[str, Any], after: str, size: int) -> str | None:
    """The objectId ending the batch that starts after ``after``; None when fewer than
    ``size`` installations are left (the last batch is open-ended)."""
    conn = connection()
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    row = fetchone(
        conn,
        f'SELECT o."object_id" FROM {table} AS o WHERE {sql} AND o."object_id" > %s '
        f'ORDER BY o."object_id" LIMIT 1 OFFSET %s',
        [*params, after, size - 1],
    )
    return str(row[0]) if row else None


def any_after(where: dict[str, Any], after: str) -> bool:
    conn = connection()
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    row = fetchone(
        conn,
        f'SELECT 1 FROM {table} AS o WHERE {sql} AND o."object_id" > %s LIMIT 1',
        [*params, after],
    )
    return row is not None


def devices_in(
    where: dict[str, Any], after: str, upto: str | None, only: list[str] | None = None
) -> list[Device]:
    """The targeted installations with ``after < objectId <= upto`` (``only``: these ids)."""
    conn = connection()
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    sql += ' AND o."object_id" > %s'
    params.append(after)
    if upto is not None:
        sql += ' AND o."object_id" <= %s'
        params.append(upto)
    if only is not None:
        if not only:
            return []
        sql += f' AND o."object_id" IN ({", ".join(["%s"] * len(only))})'
        params.extend(only)
    rows = fetchall(
        conn,
        f'SELECT o."object_id", o."data" FROM {table} AS o WHERE {sql} ORDER BY o."object_id"',
        params,
    )
    devices = []
    for object_id, raw in rows:
        data = load_json(raw) or {}
        token = data.get("deviceToken")
        if not isinstance(token, str) or not token:
            continue
        badge = data.get("badge")
        devices.append(
            Device(
                installation_id=object_id,
                device_type=str(data.get("deviceType") or ""),
                token=token,
                badge=int(badge)
                if isinstance(badge, (int, float)) and not isinstance(badge, bool)
                else None,
                locale=data.get("localeIdentifier")
                if isinstance(data.get("localeIdentifier"), str)
                else None,
                time_zone=data.get("timeZone") if isinstance(data.get("timeZone"), str) else None,
                app_identifier=(
                    data.get("appIdentifier")
                    if isinstance(data.get("appIdentifier"), str)
                    else None
                ),
            )
        )
    return devices


def apply_badge(where: dict[str, Any], op: BadgeOp) -> int:
    """Increment (or set) ``badge`` on every targeted installation in one statement."""
    conn = connection(write=True)
    table, _ = tables(conn)
    sql, params = _sql(conn, where)
    stamp = conn.ops.adapt_datetimefield_value(now())
    if conn.vendor == "postgresql":
        current = (
            "(CASE WHEN jsonb_typeof(o.\"data\" -> 'badge') = 'number' "
            "THEN (o.\"data\" ->> 'badge')::numeric ELSE 0 END)"
        )
        value = f"{current} + %s" if op.kind == "increment" else "%s"
        update = f"jsonb_set(o.\"data\", '{{badge}}', to_jsonb({value}))"
    else:
        current = (
            "(CASE WHEN json_type(o.\"data\", '$.badge') IN ('integer', 'real') "
            "THEN json_extract(o.\"data\", '$.badge') ELSE 0 END)"
        )
        value = f"{current} + %s" if op.kind == "increment" else "%s"
        update = f"json_set(o.\"data\", '$.badge', {value})"
    return execute(
        conn,
        f'UPDATE {table} AS o SET "data" = {update}, "updated_at" = %s WHERE {sql}',
        [op.amount, stamp, *params],
    )


def prune_tokens(pairs: list[tuple[str, str]]) -> list[str]:
    """Remove each ``(installation objectId, deviceToken)`` token, keeping it as
    ``_prunedToken``; an installation that has changed its token since is left alone.
    Returns the ids that were pruned."""
    if not pairs:
        return []
    conn = connection(write=True)
    table, _ = tables(conn)
    stamp = conn.ops.adapt_datetimefield_value(now())
    pruned_at = orjson.dumps(encode_date(now())).decode()
    if conn.vendor == "postgresql":
        update = (
            "(o.\"data\" - 'deviceToken') || jsonb_build_object("
            "'_prunedToken', o.\"data\" -> 'deviceToken', '_prunedAt', %s::jsonb)"
        )
        token = "o.\"data\" ->> 'deviceToken'"
    else:
        update = (
            "json_set(json_remove(o.\"data\", '$.deviceToken'), "
            "'$._prunedToken', json_extract(o.\"data\", '$.deviceToken'), '$._prunedAt', json(%s))"
        )
        token = "json_extract(o.\"data\", '$.deviceToken')"
    done = []
    for object_id, device_token in pairs:
        changed = execute(
            conn,
            f'UPDATE {table} AS o SET "data" = {update}, "updated_at" = %s '
            f'WHERE o."class_name" = %s AND o."object_id" = %s AND {token} = %s',
            [pruned_at, stamp, CLASS_NAME, object_id, device_token],
        )
        if changed:
            done.append(object_id)
    return done
