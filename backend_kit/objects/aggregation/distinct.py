"""``distinct=<field>``: the distinct values of a field, computed by the database.

Values come back in the wire encoding Parse uses: pointers as Pointer objects, dates
(``createdAt`` and ``updatedAt`` included) as Date objects, files with their URL. An
array field contributes its elements (MongoDB's ``distinct``); null and missing values
are left out. Results are ordered (MongoDB's order of types) so answers are stable.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ...context import RequestContext
from ..query.parser import QueryParser
from ..schema import get_schema
from ..sql import compiler_for, connection, tables, where_clause
from .sql import SQLITE_TYPE_TAG, Expressions, decode_tagged, run_sql
from .values import FieldPath, bad, bson_key, date_object, with_file_urls

# Parse's rule for a distinct field: dotted segments of letters, digits and _.
DISTINCT_SEGMENT_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")


def run_distinct(ctx: RequestContext, class_name: str, field_name: str, where: Any) -> list[Any]:
    parts = field_name.split(".")
    if not all(DISTINCT_SEGMENT_RE.match(part) for part in parts):
        raise bad(f"Invalid field name: {field_name}")
    path = FieldPath(tuple(parts))
    schema = get_schema(class_name)
    if schema is None:
        return []
    node = QueryParser(get_schema).parse(class_name, where)
    conn = connection()
    where_sql, params = where_clause(conn, class_name, node, None)
    exprs = Expressions(conn, compiler_for(conn, class_name, None), schema)
    table, _ = tables(conn)
    if path.column:
        sql = f"SELECT DISTINCT {exprs.column(path)} FROM {table} AS o WHERE {where_sql}"
        decode = (lambda row: row[0]) if path.column == "object_id" else _date_row
    elif exprs.pg:
        sql, decode = _pg_query(exprs, path, table, where_sql)
    else:
        sql, decode = _sqlite_query(exprs, path, table, where_sql)
        params = [*params, *params]
    with conn.cursor() as cursor:
        run_sql(cursor, sql, params)
        values = [decode(row) for row in cursor.fetchall()]
    values.sort(key=bson_key)
    return [with_file_urls(v) for v in values]


def _date_row(row: tuple[Any, ...]) -> Any:
    return date_object(row[0])


def _pg_query(exprs: Expressions, path: FieldPath, table: str, where_sql: str) -> tuple[str, Any]:
    x = exprs.c.json(path.parts)
    elements = (
        f"jsonb_array_elements(CASE WHEN jsonb_typeof({x}) = 'array' THEN {x} "
        f"ELSE jsonb_build_array({x}) END)"
    )
    sql = (
        f"SELECT d.v::text FROM (SELECT DISTINCT j.v AS v FROM {table} AS o "
        f"CROSS JOIN LATERAL {elements} AS j(v) WHERE {where_sql} AND {x} IS NOT NULL) AS d "
        "WHERE d.v <> 'null'::jsonb"
    )
    return sql, lambda row: orjson.loads(row[0])


def _sqlite_query(
    exprs: Expressions, path: FieldPath, table: str, where_sql: str
) -> tuple[str, Any]:
    p = exprs.data_path(path.parts)
    kind = f'json_type(o."data", {p})'
    sql = (
        "SELECT DISTINCT t, v FROM ("
        f'SELECT {SQLITE_TYPE_TAG.format(t=kind)} AS t, json_extract(o."data", {p}) AS v '
        f"FROM {table} AS o WHERE {where_sql} AND {kind} NOT IN ('array', 'null') "
        "UNION ALL "
        f"SELECT {SQLITE_TYPE_TAG.format(t='j.type')} AS t, j.value AS v "
        f'FROM {table} AS o, json_each(o."data", {p}) AS j '
        f"WHERE {where_sql} AND {kind} = 'array' AND j.type <> 'null')"
    )
    return sql, lambda row: decode_tagged(row[0], row[1])
