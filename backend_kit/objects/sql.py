"""Database access shared by reads and writes: tables, vendor, compiled WHERE clauses."""

from __future__ import annotations

from typing import Any

from django.db import connections, router

from ..context import RequestContext
from .models import ParseObject, RelationEntry
from .query import ast
from .query.compiler import SQLCompiler, class_is

OBJECT_COLUMNS = 'o."object_id", o."data", o."acl", o."created_at", o."updated_at"'
# What reads select on PostgreSQL: the timestamps already in the wire form
# (2026-01-02T03:04:05.678Z). Loading a timestamptz into an aware datetime and
# formatting it again cost more than the rest of a row's decoding.
WIRE_TIME = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
PG_READ_COLUMNS = ", ".join(
    ['o."object_id"', 'o."data"', 'o."acl"']
    + [WIRE_TIME.format(column) for column in ('o."created_at"', 'o."updated_at"')]
)


def read_columns(conn: Any) -> str:
    """The columns of an object row as reads select them (see ``PG_READ_COLUMNS``)."""
    return PG_READ_COLUMNS if conn.vendor == "postgresql" else OBJECT_COLUMNS


SUPPORTED_VENDORS = ("postgresql", "sqlite")


def db_alias(write: bool = False) -> str:
    if write:
        return router.db_for_write(ParseObject) or "default"
    return router.db_for_read(ParseObject) or "default"


def connection(write: bool = False) -> Any:
    return connections[db_alias(write)]


def tables(conn: Any) -> tuple[str, str]:
    q = conn.ops.quote_name
    return q(ParseObject._meta.db_table), q(RelationEntry._meta.db_table)


def has_unaccent(conn: Any) -> bool:
    """Whether accent folding is available: PostgreSQL's unaccent extension and the
    ``bk_unaccent`` wrapper of migration 0003 (checked once per connection)."""
    if conn.vendor != "postgresql":
        return False
    flag = getattr(conn, "bk_unaccent", None)
    if flag is None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'bk_unaccent'")
            flag = cursor.fetchone() is not None
        conn.bk_unaccent = flag
    return flag


def compiler_for(
    conn: Any, class_name: str, principals: list[str] | None, alias: str = "o"
) -> SQLCompiler:
    object_table, relation_table = tables(conn)
    compiler = SQLCompiler(
        conn.vendor,
        alias,
        class_name,
        object_table=object_table,
        relation_table=relation_table,
        principals=principals,
        connection=conn,
    )
    return compiler


def principals_for(ctx: RequestContext) -> list[str] | None:
    """ACL keys of the caller, or None when ACLs do not apply (master)."""
    if ctx.is_master or ctx.is_read_only_master:
        return None
    return ctx.principals()


def where_clause(
    conn: Any,
    class_name: str,
    node: ast.Node,
    principals: list[str] | None,
    *,
    write: bool = False,
) -> tuple[str, list[Any]]:
    """``o.class_name = '<class>' AND <acl> AND <where>`` for the main table aliased ``o``."""
    compiler = compiler_for(conn, class_name, principals)
    if _uses_text(node):
        compiler.unaccent = has_unaccent(conn)
    where_sql, where_params = compiler.compile(node)
    acl_sql, acl_params = compiler.read_acl("write_principals" if write else "read_principals")
    class_sql, class_params = class_is('o."class_name"', class_name)
    sql = f"{class_sql} AND ({acl_sql}) AND ({where_sql})"
    return sql, [*class_params, *acl_params, *where_params]


def _uses_text(node: ast.Node) -> bool:
    if isinstance(node, ast.Text):
        return True
    for child in getattr(node, "children", []) or []:
        if _uses_text(child):
            return True
    child = getattr(node, "child", None)
    if child is not None and _uses_text(child):
        return True
    query = getattr(node, "query", None)
    return bool(isinstance(query, ast.SubQuery) and _uses_text(query.where))


def statement_cursor(conn: Any) -> Any:
    """A cursor for backend_kit's own statements (prepared on PostgreSQL, see ``prepared``)."""
    if conn.vendor == "postgresql":
        from .prepared import prepared_cursor

        return prepared_cursor(conn)
    return conn.cursor()


def fetchall(conn: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with statement_cursor(conn) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetchone(conn: Any, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with statement_cursor(conn) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(conn: Any, sql: str, params: list[Any]) -> int:
    with statement_cursor(conn) as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def json_param(conn: Any) -> str:
    return "%s::jsonb" if conn.vendor == "postgresql" else "%s"
