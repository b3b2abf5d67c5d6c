"""Running a pipeline: what the database does, then what Python does.

1. Leading ``$match`` stages become the SQL ``WHERE`` (the query compiler of ``find``).
2. With ``optimize`` on, the next stage may run in SQL too: a ``$group`` whose keys and
   accumulators SQL computes exactly (GROUP BY), a ``$count`` (COUNT), or a window of
   ``$sort``/``$skip``/``$limit`` on typed fields (ORDER BY/OFFSET/LIMIT).
3. The remaining stages run in Python over the rows, documents streaming in chunks.

``optimize=False`` runs step 3 over every document; the tests use it to show that both
ways answer the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...context import RequestContext
from ..query import ast
from ..query.matcher import Matcher
from ..query.parser import QueryParser
from ..query.resolver import DatabaseResolver
from ..schema import Schema, get_schema
from ..sql import compiler_for, connection, where_clause
from .group import Group
from .sql import (
    Expressions,
    Window,
    count_documents,
    plan_group,
    stream_documents,
)
from .stages import Count, Limit, Match, Project, Skip, Sort, Stage, Unwind
from .values import ALIASES, output_row

# The name a group key is matched under in a later $match: the query parser reads
# "objectId" as the id column, which a group key (a number, a date...) is not.
GROUP_KEY_ALIAS = "bkAggregateGroupKey"


def run_pipeline(
    ctx: RequestContext, class_name: str, stages: list[Stage], *, optimize: bool = True
) -> list[Any]:
    schema = get_schema(class_name)
    if schema is None:
        return []
    leading: list[Match] = []
    while len(leading) < len(stages) and isinstance(stages[len(leading)], Match):
        leading.append(stages[len(leading)])  # type: ignore[arg-type]
    rest = stages[len(leading) :]
    parser = QueryParser(get_schema)
    parts = [parser.parse(class_name, to_parse_where(m.where, schema)) for m in leading]
    node: ast.Node = ast.And(parts) if parts else ast.Const(True)
    _prepare(rest, class_name, schema)
    conn = connection()
    exprs = Expressions(conn, compiler_for(conn, class_name, None), schema)
    where_sql, params = where_clause(conn, class_name, node, None)

    source: Iterator[dict[str, Any]]
    if optimize:
        source, rest = _database_stages(conn, exprs, where_sql, params, rest)
    else:
        source = stream_documents(conn, exprs, where_sql, params, Window())
    try:
        rows: Any = source
        for stage in rest:
            rows = stage.run(rows)
        results = [output_row(row) for row in rows]
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # releases the cursor when a $limit stopped reading early
    if all(isinstance(stage, (Match, Sort, Skip, Limit)) for stage in stages):
        _add_relations(results, schema)
    return results


def _database_stages(
    conn: Any, exprs: Expressions, where_sql: str, params: list[Any], rest: list[Stage]
) -> tuple[Iterator[dict[str, Any]], list[Stage]]:
    first = rest[0] if rest else None
    if isinstance(first, Group):
        plan = plan_group(first, exprs)
        if plan is not None:
            return iter(plan.run(conn, where_sql, params)), rest[1:]
    if isinstance(first, Count):
        total = count_documents(conn, where_sql, params)
        return iter([{first.name: total}] if total else []), rest[1:]
    window, used = _window(rest, exprs)
    return stream_documents(conn, exprs, where_sql, params, window), rest[used:]


def _window(rest: list[Stage], exprs: Expressions) -> tuple[Window, int]:
    window, used = Window(), 0
    for stage in rest:
        if isinstance(stage, Sort) and not window.order and not window.offset:
            if window.limit is not None:
                break
            order = [(exprs.order_expr(path), direction) for path, direction in stage.keys]
            if any(expr is None for expr, _ in order):
                break
            window.order = order  # type: ignore[assignment]
        elif isinstance(stage, Skip):
            window.offset += stage.count
            if window.limit is not None:
                window.limit = max(0, window.limit - stage.count)
        elif isinstance(stage, Limit):
            window.limit = stage.count if window.limit is None else min(window.limit, stage.count)
        else:
            break
        used += 1
    return window, used


def _prepare(stages: list[Stage], class_name: str, schema: Schema) -> None:
    """Parse every later $match now (bad input fails before anything runs) and fold
    each $sort + $limit pair into a top-k sort."""
    documents = True  # rows are still the class's documents, typed by its schema
    for i, stage in enumerate(stages):
        if isinstance(stage, Match):
            _prepare_match(stage, class_name, schema if documents else None)
        elif isinstance(stage, Sort):
            following = stages[i + 1] if i + 1 < len(stages) else None
            if isinstance(following, Limit):
                stage.limit = following.count
        elif isinstance(stage, Project):
            documents = documents and not stage.computed
        elif isinstance(stage, (Unwind, Group, Count)):
            documents = False


def _prepare_match(stage: Match, class_name: str, schema: Schema | None) -> None:
    where = to_parse_where(stage.where, schema)
    if schema is None:
        # Fields of reshaped rows have no schema types; sub-queries still have theirs.
        parser = QueryParser(lambda name: None if name == class_name else get_schema(name))
        where = _alias_object_id(where)
        stage.key_alias = GROUP_KEY_ALIAS
    else:
        parser = QueryParser(get_schema)
    stage.node = parser.parse(class_name, where)
    stage.matcher = Matcher(DatabaseResolver(None), class_name)


def to_parse_where(match: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """MongoDB spellings Parse accepts in ``$match``, turned into Parse ``where``:
    ``_id``/``_created_at``/``_updated_at`` keys, and bare object ids for pointers."""
    out: dict[str, Any] = {}
    for key, value in match.items():
        if key in ("$or", "$and", "$nor") and isinstance(value, list):
            out[key] = [to_parse_where(v, schema) if isinstance(v, dict) else v for v in value]
            continue
        name = ALIASES.get(key, key)
        spec = (schema.fields.get(name) if schema is not None else None) or {}
        if spec.get("type") == "Pointer":
            value = _pointer_values(value, spec.get("targetClass"))
        out[name] = value
    return out


def _pointer_values(value: Any, target: Any) -> Any:
    def pointer(v: Any) -> Any:
        if isinstance(v, str) and isinstance(target, str):
            return {"__type": "Pointer", "className": target, "objectId": v}
        return v

    if isinstance(value, dict) and "__type" not in value:
        converted = dict(value)
        for op in ("$eq", "$ne"):
            if op in converted:
                converted[op] = pointer(converted[op])
        for op in ("$in", "$nin"):
            if isinstance(converted.get(op), list):
                converted[op] = [pointer(v) for v in converted[op]]
        return converted
    return pointer(value)


def _alias_object_id(where: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in where.items():
        if key in ("$or", "$and", "$nor") and isinstance(value, list):
            value = [_alias_object_id(v) if isinstance(v, dict) else v for v in value]
        out[GROUP_KEY_ALIAS if key == "objectId" else key] = value
    return out


def _add_relations(results: list[Any], schema: Schema) -> None:
    relations = {
        name: spec.get("targetClass")
        for name, spec in schema.fields.items()
        if spec.get("type") == "Relation"
    }
    if not relations:
        return
    for row in results:
        for name, target in relations.items():
            row[name] = {"__type": "Relation", "className": target}
