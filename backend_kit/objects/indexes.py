"""Indexes declared through the schema API become real database indexes.

Each index is a partial expression index on the objects table, limited to its
class (``WHERE class_name = '<Class>'``), whose expressions are exactly the ones the
query compiler emits for that field's type, so the planner can use it. On
PostgreSQL, Array fields get a GIN index (``jsonb_path_ops``) serving containment,
and ``"text"`` keys a GIN full-text index.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import connections

from ..errors import Code, ParseError
from .models import ClassSchema
from .query import ast
from .query.compiler import SQLCompiler
from .query.parser import resolve_field
from .sql import db_alias, tables

DEFAULT_INDEX = "_id_"


def index_name(class_name: str, name: str) -> str:
    digest = hashlib.sha1(f"{class_name}\0{name}".encode()).hexdigest()[:24]
    return f"bk_ix_{digest}"


def _compiler(conn: Any, class_name: str) -> SQLCompiler:
    object_table, relation_table = tables(conn)
    # Expressions in an index refer to the table's own columns: alias = the table.
    return SQLCompiler(
        conn.vendor,
        object_table,
        class_name,
        object_table=object_table,
        relation_table=relation_table,
        principals=None,
        connection=conn,
    )


def index_sql(conn: Any, schema: Any, name: str, spec: dict[str, Any]) -> str | None:
    """``CREATE INDEX`` for one declared index, or None when the backend cannot serve it."""
    class_name = schema.class_name
    compiler = _compiler(conn, class_name)
    object_table = compiler.object_table
    pg = conn.vendor == "postgresql"
    exprs: list[str] = []
    using = ""
    for field_name, direction in spec.items():
        ref = resolve_field(schema, field_name)
        if direction == "text":
            if not pg:
                return None
            using = " USING gin"
            from .sql import has_unaccent

            text = f"coalesce({compiler.text(ref.path)}, '')"
            if has_unaccent(conn):
                text = f"bk_unaccent({text})"  # what default (accent-insensitive) $text queries use
            exprs.append(f"to_tsvector('english'::regconfig, {text})")
            continue
        if ref.kind == ast.ARRAY:
            if not pg:
                return None
            using = " USING gin"
            exprs.append(f"{compiler.json(ref.path)} jsonb_path_ops")
            continue
        expr = (
            compiler.comparable(ref, ref.kind)
            if ref.kind in (ast.NUMBER, ast.STRING, ast.BOOLEAN, ast.DATE, ast.POINTER, ast.FILE)
            or ref.is_column
            else compiler.json(ref.path)
        )
        # Queries sort ASC NULLS FIRST / DESC NULLS LAST (Parse's order for missing
        # values); PostgreSQL serves a sort from an index only with the same NULLS order.
        if pg:
            order = " DESC NULLS LAST" if direction == -1 else " NULLS FIRST"
        else:
            order = " DESC" if direction == -1 else ""
        exprs.append(f"({expr}){order}")
    if using and len(exprs) > 1:
        return None
    if not pg:  # SQLite refuses table-qualified columns ("t"."data") in index expressions
        exprs = [e.replace(f"{object_table}.", "") for e in exprs]
    quoted_class = class_name.replace("'", "''")
    return (
        f'CREATE INDEX IF NOT EXISTS "{index_name(class_name, name)}" ON {object_table}{using} '
        f"({', '.join(exprs)}) WHERE \"class_name\" = '{quoted_class}'"
    )


def validate_index_spec(schema: Any, name: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec:
        raise ParseError(Code.INVALID_QUERY, f"Index {name} must be an object of fields")
    for field_name, direction in spec.items():
        root = field_name.split(".")[0]
        if root not in schema.fields:
            raise ParseError(
                Code.INVALID_QUERY, f"Field {field_name} does not exist, cannot add index."
            )
        if direction not in (1, -1, "text"):
            raise ParseError(
                Code.INVALID_QUERY,
                f'Index {name}: direction of {field_name} must be 1, -1 or "text"',
            )
    return spec


def create_index(schema: Any, name: str, spec: dict[str, Any]) -> None:
    conn = connections[db_alias(write=True)]
    sql = index_sql(conn, schema, name, spec)
    if sql is None:
        return
    with conn.cursor() as cursor:
        cursor.execute(sql)


def drop_index(class_name: str, name: str) -> None:
    conn = connections[db_alias(write=True)]
    with conn.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{index_name(class_name, name)}"')


def apply_index_changes(schema: Any, row: ClassSchema, changes: Any) -> None:
    """Add (``{name: {field: 1}}``) and delete (``{name: {"__op": "Delete"}}``) indexes."""
    if not isinstance(changes, dict):
        raise ParseError(Code.INVALID_QUERY, "indexes must be an object")
    current = dict(row.indexes or {})
    for name, spec in changes.items():
        if not isinstance(name, str) or not name:
            raise ParseError(Code.INVALID_QUERY, "invalid index name")
        if isinstance(spec, dict) and spec.get("__op") == "Delete":
            if name not in current:
                raise ParseError(Code.INVALID_QUERY, f"Index {name} does not exist, cannot delete.")
            drop_index(schema.class_name, name)
            del current[name]
            continue
        if name in current or name == DEFAULT_INDEX:
            raise ParseError(Code.INVALID_QUERY, f"Index {name} exists, cannot update.")
        spec = validate_index_spec(schema, name, spec)
        create_index(schema, name, spec)
        current[name] = spec
    row.indexes = current
    from .schema import save_row

    save_row(row, "indexes")


def drop_all(class_name: str, indexes: dict[str, Any]) -> None:
    for name in indexes or {}:
        drop_index(class_name, name)


def drop_indexes_on_field(class_name: str, row: ClassSchema, field_name: str) -> None:
    current = dict(row.indexes or {})
    for name, spec in list(current.items()):
        if any(key.split(".")[0] == field_name for key in spec):
            drop_index(class_name, name)
            del current[name]
    row.indexes = current
