"""Reading objects: find, get, count, with keys, includes and protected fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import DataError, transaction

from ..context import RequestContext
from ..errors import Code, ParseError, object_not_found, permission_denied
from . import hooks
from .encoding import encode_object, encoded_bytes, load_json, project
from .handlers import output_filter
from .permissions import (
    check_class_access,
    check_class_exists_for,
    check_clp,
    pointer_protected_fields,
    protected_fields,
)
from .query import ast
from .query.parser import KEY_RE, QueryParser, resolve_field
from .schema import Schema, get_schema
from .sql import (
    OBJECT_COLUMNS,
    PG_READ_COLUMNS,
    connection,
    fetchall,
    fetchone,
    principals_for,
    read_columns,
    tables,
    where_clause,
)

FIND_PARAMS = frozenset(
    {
        "where",
        "order",
        "limit",
        "skip",
        "count",
        "keys",
        "excludeKeys",
        "include",
        "includeAll",
        "hint",
        "explain",
        "readPreference",
        "includeReadPreference",
        "subqueryReadPreference",
        "redirectClassNameForKey",
        "comment",
    }
)
GET_PARAMS = frozenset(
    {
        "keys",
        "include",
        "excludeKeys",
        "readPreference",
        "includeReadPreference",
        "subqueryReadPreference",
    }
)


@dataclass
class FindOptions:
    where: Any = None
    order: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None
    skip: int = 0
    count: bool = False
    keys: list[str] | None = None
    exclude_keys: list[str] | None = None
    include: list[str] = field(default_factory=list)
    include_all: bool = False
    explain: bool = False
    redirect_key: str | None = None


def _csv(value: Any, name: str) -> list[str]:
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = list(value.split(","))
    else:
        raise ParseError(Code.INVALID_QUERY, f"bad {name} value")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ParseError(Code.INVALID_QUERY, f"bad {name} value")
        item = item.strip()
        if item:
            out.append(item)
    return out


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ParseError(Code.INVALID_QUERY, f"bad {name} value")
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ParseError(Code.INVALID_QUERY, f"bad {name} value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ParseError(Code.INVALID_QUERY, f"bad {name} value")
    return value


STORAGE_SORT_NAMES = {"_created_at": "createdAt", "_updated_at": "updatedAt"}


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def parse_find_options(params: dict[str, Any], *, is_get: bool = False) -> FindOptions:
    from ..conf import bk_settings

    allowed = GET_PARAMS if is_get else FIND_PARAMS
    for key in params:
        if key not in allowed:
            raise ParseError(
                Code.INVALID_QUERY,
                f"Invalid parameter for query: {key}"
                if not is_get
                else "Improper encode of parameter",
            )
    opts = FindOptions()
    where = params.get("where")
    if isinstance(where, str):
        try:
            where = orjson.loads(where) if where else None
        except orjson.JSONDecodeError:
            raise ParseError(Code.INVALID_JSON, "Invalid where: not JSON")
    opts.where = where
    if params.get("order") not in (None, ""):
        for key in _csv(params["order"], "order"):
            desc = key.startswith("-")
            name = key[1:] if desc else key
            # Parse accepts the storage names of the timestamps as sort keys
            name = STORAGE_SORT_NAMES.get(name, name)
            if name != "$score" and not KEY_RE.match(name):
                raise ParseError(Code.INVALID_KEY_NAME, f"Invalid field name: {name}.")
            opts.order.append((name, desc))
    if "limit" in params and params["limit"] is not None:
        opts.limit = _int(params["limit"], "limit")
        if opts.limit < 0:
            opts.limit = None
    elif not is_get:
        opts.limit = int(bk_settings.DEFAULT_LIMIT)
    if bk_settings.MAX_LIMIT is not None and (
        opts.limit is None or opts.limit > bk_settings.MAX_LIMIT
    ):
        opts.limit = int(bk_settings.MAX_LIMIT)
    if params.get("skip") is not None:
        opts.skip = _int(params["skip"], "skip")
        if opts.skip < 0:
            raise ParseError(Code.INVALID_QUERY, "bad skip value")
    opts.count = _truthy(params.get("count"))
    if params.get("keys") is not None:
        opts.keys = _csv(params["keys"], "keys")
    if params.get("excludeKeys") is not None:
        opts.exclude_keys = _csv(params["excludeKeys"], "excludeKeys")
    if params.get("include") is not None:
        paths = _csv(params["include"], "include")
        if "*" in paths:
            opts.include_all = True
            paths = [p for p in paths if p != "*"]
        opts.include = paths
    if _truthy(params.get("includeAll")):
        opts.include_all = True
    opts.explain = _truthy(params.get("explain"))
    redirect = params.get("redirectClassNameForKey")
    if redirect is not None:
        if not isinstance(redirect, str) or not KEY_RE.match(redirect):
            raise ParseError(Code.INVALID_QUERY, "bad redirectClassNameForKey value")
        opts.redirect_key = redirect
    return opts


# --- the query -----------------------------------------------------------------------


@dataclass
class Rows:
    objects: list[Any]  # dictionaries; orjson Fragments where run_query was asked for bytes
    count: int | None = None


def _order_parts(
    compiler: Any,
    schema: Schema,
    opts: FindOptions,
    query: ast.ParsedQuery,
    *,
    scored: bool = False,
) -> tuple[list[tuple[str, str]], list[Any]]:
    """The sort of a find: ``(expression, direction)`` pairs and their parameters."""
    parts: list[tuple[str, str]] = []
    params: list[Any] = []
    for name, desc in opts.order:
        if name == "$score":
            if scored:
                # the text score sorts the most relevant first, whichever direction is
                # asked (MongoDB's textScore sort; Parse on PostgreSQL does the same)
                parts.append((SCORE_ALIAS, "DESC"))
            continue
        ref = resolve_field(schema, name)
        if ref.kind == "relation":
            continue
        expr = (
            compiler.comparable(ref, ref.kind)
            if ref.kind
            else (
                compiler.json(ref.path)
                if not ref.is_column
                else compiler.comparable(ref, ast.STRING)
            )
        )
        parts.append((expr, "DESC NULLS LAST" if desc else "ASC NULLS FIRST"))
    if not opts.order and query.near is not None:
        dist_sql, dist_params = compiler.distance(query.near)
        parts.append((dist_sql, "ASC"))
        params.extend(dist_params)
    return parts, params


def _page_sql(conn: Any, opts: FindOptions) -> tuple[str, list[Any]]:
    """``LIMIT``/``OFFSET`` of a find."""
    sql, params = "", []
    if opts.limit is not None:
        sql += " LIMIT %s"
        params.append(opts.limit)
    elif opts.skip:
        sql += " LIMIT -1" if conn.vendor == "sqlite" else ""
    if opts.skip:
        sql += " OFFSET %s"
        params.append(opts.skip)
    return sql, params


def _select_sql(
    conn: Any,
    object_table: str,
    where: tuple[str, list[Any]],
    score: tuple[str, list[Any]],
    order: tuple[list[tuple[str, str]], list[Any]],
    opts: FindOptions,
) -> tuple[str, list[Any]]:
    """The ``SELECT`` of a find, and its parameters.

    On PostgreSQL a sorted page is chosen in a subquery that selects the stored columns
    and the sort keys, and only the rows of the page are turned into the wire form
    outside it. Why: PostgreSQL computes a select list before it sorts, so with the
    timestamps' ``to_char`` in the same query every matching row was formatted, not
    only the ``limit`` returned (the benchmark's query: 85 rows formatted for 20 sent).
    The outer ``ORDER BY`` repeats the sort on the subquery's columns: it keeps the order
    a guarantee rather than a habit of the planner, which sees the rows already sorted
    and adds no work for it.
    """
    where_sql, where_params = where
    score_sql, score_params = score
    parts, order_params = order
    page_sql, page_params = _page_sql(conn, opts)
    if not (parts and opts.limit is not None and conn.vendor == "postgresql"):
        order_sql = ", ".join(f"{expr} {direction}" for expr, direction in parts)
        sql = (
            f"SELECT {read_columns(conn)}, {score_sql} AS {SCORE_ALIAS} "
            f"FROM {object_table} AS o WHERE {where_sql}"
            + (f" ORDER BY {order_sql}" if order_sql else "")
            + page_sql
        )
        return sql, [*score_params, *where_params, *order_params, *page_params]
    keys, inner_order, outer_order = [], [], []
    for i, (expr, direction) in enumerate(parts):
        name = expr if expr == SCORE_ALIAS else f"bk_k{i}"
        if name != SCORE_ALIAS:
            keys.append(f", {expr} AS {name}")
        inner_order.append(f"{name} {direction}")
        outer_order.append(f"o.{name} {direction}")
    inner = (
        f"SELECT {OBJECT_COLUMNS}, {score_sql} AS {SCORE_ALIAS}{''.join(keys)} "
        f"FROM {object_table} AS o WHERE {where_sql} ORDER BY {', '.join(inner_order)}{page_sql}"
    )
    sql = (
        f"SELECT {PG_READ_COLUMNS}, o.{SCORE_ALIAS} FROM ({inner}) AS o "
        f"ORDER BY {', '.join(outer_order)}"
    )
    return sql, [*score_params, *order_params, *where_params, *page_params]


def _check_protected_query(
    ctx: RequestContext, schema: Schema, node: ast.Node, hidden: set[str]
) -> None:
    if not hidden:
        return
    for ref in _field_refs(node):
        if ref.path and ref.path[0] in hidden:
            raise permission_denied(
                f"This user is not allowed to query {ref.name} on class {schema.class_name}"
            )


def _check_protected_order(schema: Schema, opts: FindOptions, hidden: set[str]) -> None:
    for name, _desc in opts.order:
        if name.split(".")[0] in hidden:
            raise permission_denied(
                f"This user is not allowed to sort by {name} on class {schema.class_name}"
            )


def _field_refs(node: ast.Node) -> list[ast.FieldRef]:
    refs = []
    ref = getattr(node, "field", None)
    if isinstance(ref, ast.FieldRef):
        refs.append(ref)
    for child in getattr(node, "children", []) or []:
        refs.extend(_field_refs(child))
    child = getattr(node, "child", None)
    if child is not None:
        refs.extend(_field_refs(child))
    return refs


def run_query(
    ctx: RequestContext,
    class_name: str,
    opts: FindOptions,
    *,
    operation: str = "find",
    extra: ast.Node | None = None,
    as_bytes: bool = False,
) -> Rows:
    """Objects of ``class_name`` the caller may read, encoded, before includes/projection.

    ``as_bytes``: the objects may come as ``orjson.Fragment`` (``encoding.encoded_bytes``)
    where nothing but the JSON renderer will read them.
    """
    check_class_access(ctx, class_name, "get" if operation == "get" else "find")
    schema = get_schema(class_name)
    if schema is None:
        QueryParser(get_schema).parse_query(class_name, opts.where)  # a bad where is still 102
        check_class_exists_for(ctx, class_name)
        return Rows([], 0 if opts.count else None)
    if opts.explain and not ctx.has_master_rights:
        raise ParseError(
            Code.INVALID_QUERY, "Using the explain query parameter requires the master key"
        )
    only_count = opts.count and opts.limit == 0
    access = check_clp(ctx, schema, "count" if only_count else operation)
    count_access = access
    if opts.count and not only_count:
        # the count obeys the count CLP's own pointer permissions, as in Parse
        count_access = check_clp(ctx, schema, "count")
    parser = QueryParser(get_schema)
    query = parser.parse_query(class_name, opts.where)
    hidden = protected_fields(ctx, schema)
    _check_protected_query(ctx, schema, query.where, hidden)
    _check_protected_order(schema, opts, hidden)
    node: ast.Node = query.where
    restriction = access.restriction(ctx, schema)
    for part in (restriction, extra):
        if part is not None:
            node = ast.And([node, part])
    conn = connection()
    principals = principals_for(ctx)
    where_sql, params = where_clause(conn, class_name, node, principals)
    object_table, _ = tables(conn)
    objects: list[dict[str, Any]] = []
    if not only_count:
        from .sql import compiler_for

        compiler = compiler_for(conn, class_name, principals)
        text = _text_search(query.where) if _wants_score(opts) else None
        score_sql, score_params = compiler.text_score(text) if text is not None else ("NULL", [])
        sql, all_params = _select_sql(
            conn,
            object_table,
            (where_sql, params),
            (score_sql, score_params),
            _order_parts(compiler, schema, opts, query, scored=text is not None),
            opts,
        )
        if opts.explain:
            plan = _guarded(
                fetchall,
                conn,
                ("EXPLAIN " if conn.vendor == "postgresql" else "EXPLAIN QUERY PLAN ") + sql,
                all_params,
            )
            return Rows([{"plan": [list(map(str, row)) for row in plan]}])
        rows = _guarded(fetchall, conn, sql, all_params)
        relations = {
            name: spec["targetClass"]
            for name, spec in schema.fields.items()
            if spec.get("type") == "Relation"
        }
        pointer_rules = pointer_protected_fields(schema) if hidden and ctx.user_id else {}
        out_filter = output_filter(class_name)
        with_score = text is not None and "$score" in (opts.keys or [])
        spliced = (
            as_bytes and not with_score and not hidden and out_filter is None and not relations
        )
        for object_id, data, acl, created, updated, score in rows:
            if spliced:
                fragment = encoded_bytes(object_id, data, acl, created, updated)
                if fragment is not None:
                    objects.append(fragment)
                    continue
            obj = encode_object(
                object_id,
                load_json(data),
                load_json(acl),
                created,
                updated,
                relation_fields=relations,
            )
            if with_score:
                obj["score"] = float(score or 0)
            strip = _hidden_for(ctx, schema, obj, hidden, pointer_rules)
            for key in strip:
                obj.pop(key, None)
            if out_filter is not None:
                obj = out_filter(ctx, obj)
            objects.append(obj)
    count = None
    if opts.count:
        if count_access.pointer_fields != access.pointer_fields:
            count_node: ast.Node = query.where
            for part in (count_access.restriction(ctx, schema), extra):
                if part is not None:
                    count_node = ast.And([count_node, part])
            where_sql, params = where_clause(conn, class_name, count_node, principals)
        row = _guarded(
            fetchone, conn, f"SELECT COUNT(*) FROM {object_table} AS o WHERE {where_sql}", params
        )
        count = int(row[0]) if row else 0
    return Rows(objects, count)


SCORE_ALIAS = "bk_score"


def _wants_score(opts: FindOptions) -> bool:
    """``$score`` in ``keys`` or ``order``: the full-text relevance is computed."""
    return "$score" in (opts.keys or []) or any(name == "$score" for name, _ in opts.order)


def _text_search(node: ast.Node) -> ast.Text | None:
    """The query's full-text search (top level or inside an $and), if it has one."""
    if isinstance(node, ast.Text):
        return node
    if isinstance(node, ast.And):
        for child in node.children:
            found = _text_search(child)
            if found is not None:
                return found
    return None


def _guarded(fetch: Any, conn: Any, sql: str, params: list[Any]) -> Any:
    """Run a query; what the database refuses in a valid-looking query (a regular
    expression PostgreSQL cannot compile, a value out of range) is a 102, not a 500."""
    try:
        if conn.in_atomic_block:
            # a savepoint keeps the caller's transaction usable after the error
            with transaction.atomic(using=conn.alias):
                return fetch(conn, sql, params)
        return fetch(conn, sql, params)
    except (DataError, OverflowError) as exc:
        reason = (str(exc).splitlines() or [""])[0]
        raise ParseError(Code.INVALID_QUERY, f"The database refused the query: {reason}")


def _hidden_for(
    ctx: RequestContext,
    schema: Schema,
    obj: dict[str, Any],
    hidden: set[str],
    pointer_rules: dict[str, set[str]],
) -> set[str]:
    if not hidden:
        return hidden
    if schema.class_name == "_User" and ctx.user_id and obj.get("objectId") == ctx.user_id:
        return set()
    result = hidden
    for field_name, visible_hidden in pointer_rules.items():
        value = obj.get(field_name)
        pointers = value if isinstance(value, list) else [value]
        if any(isinstance(p, dict) and p.get("objectId") == ctx.user_id for p in pointers):
            result = result & visible_hidden
    return result


# --- includes ---------------------------------------------------------------------------


def _include_tree(paths: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            if not KEY_RE.match(part):
                raise ParseError(Code.INVALID_KEY_NAME, f"Invalid include path: {path}")
            node = node.setdefault(part, {})
    return tree


def _keys_tree(keys: list[str] | None) -> dict[str, Any] | None:
    if keys is None:
        return None
    tree: dict[str, Any] = {}
    for key in keys:
        node = tree
        for part in key.split("."):
            node = node.setdefault(part, {})
    return tree


def _pointers_at(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    if (
        isinstance(value, dict)
        and value.get("__type") in ("Pointer", "Object")
        and "objectId" in value
    ):
        return [value]
    if isinstance(value, list):
        return [
            v
            for v in value
            if isinstance(v, dict) and v.get("__type") in ("Pointer", "Object") and "objectId" in v
        ]
    return []


def _plain_objects_at(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Object-field values at ``key`` (not Parse types): includes walk through them."""
    value = obj.get(key)
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, dict) and "__type" not in v]


def resolve_includes(
    ctx: RequestContext,
    objects: list[dict[str, Any]],
    tree: dict[str, Any],
    include_all: bool,
    keys_tree: dict[str, Any] | None,
    depth: int = 0,
    exclude_tree: dict[str, Any] | None = None,
) -> None:
    """Replace the pointers on the include paths of ``tree`` by the objects they point to.

    ``keys_tree`` / ``exclude_tree`` hold the dotted ``keys`` / ``excludeKeys``: at each
    level, Parse keeps (drops) only the next path component of the included objects.
    """
    from ..conf import bk_settings

    if depth > int(bk_settings.MAX_INCLUDE_DEPTH):
        raise ParseError(Code.INVALID_QUERY, "include is nested too deeply")
    level = dict(tree)
    if include_all:
        for obj in objects:
            for key in obj:
                if _pointers_at(obj, key):
                    level.setdefault(key, {})
    for key, subtree in level.items():
        sub_keys = keys_tree.get(key) if keys_tree is not None else None
        sub_exclude = exclude_tree.get(key) if exclude_tree is not None else None
        if subtree:
            # include=meta.editor where meta is an Object field: walk into it
            plain = [v for obj in objects for v in _plain_objects_at(obj, key)]
            if plain:
                resolve_includes(ctx, plain, subtree, False, None, depth, None)
        wanted: dict[str, set[str]] = {}
        for obj in objects:
            for ptr in _pointers_at(obj, key):
                wanted.setdefault(ptr["className"], set()).add(ptr["objectId"])
        fetched: dict[tuple[str, str], dict[str, Any]] = {}
        keep = set(sub_keys) if sub_keys else None
        drop = {k for k, sub in (sub_exclude or {}).items() if not sub}
        for cls, ids in wanted.items():
            opts = FindOptions(where={"objectId": {"$in": sorted(ids)}}, limit=len(ids))
            try:
                rows = run_query(ctx, cls, opts, operation="find")
            except ParseError as exc:
                if exc.code in (Code.OPERATION_FORBIDDEN, Code.OBJECT_NOT_FOUND):
                    continue
                raise
            if subtree:
                resolve_includes(
                    ctx, rows.objects, subtree, False, sub_keys, depth + 1, sub_exclude
                )
            for o in rows.objects:
                if keep is not None or drop:
                    o = project(o, keep, drop)
                fetched[(cls, o["objectId"])] = o
        for obj in objects:
            value = obj.get(key)
            if isinstance(value, dict):
                full = fetched.get((value.get("className"), value.get("objectId")))
                if full is not None and value.get("__type") in ("Pointer", "Object"):
                    obj[key] = {"__type": "Object", "className": value["className"], **full}
            elif isinstance(value, list):
                obj[key] = [
                    {
                        "__type": "Object",
                        "className": v["className"],
                        **fetched[(v["className"], v["objectId"])],
                    }
                    if isinstance(v, dict)
                    and v.get("__type") in ("Pointer", "Object")
                    and (v.get("className"), v.get("objectId")) in fetched
                    else v
                    for v in value
                ]


def _with_implied_includes(opts: FindOptions) -> list[str]:
    """Parse includes one level less than each dotted key: ``keys=post.title`` -> ``post``."""
    include = list(opts.include)
    for key in [*(opts.keys or []), *(opts.exclude_keys or [])]:
        if "." not in key:
            continue
        path = key.rsplit(".", 1)[0]
        if path not in include and all(KEY_RE.match(p) for p in path.split(".")):
            include.append(path)
    return include


# --- public entry points --------------------------------------------------------------


def find(
    ctx: RequestContext, class_name: str, params: dict[str, Any], *, for_renderer: bool = False
) -> dict[str, Any]:
    """The answer of a find. ``for_renderer``: only the JSON renderer reads the answer,
    so the results may be JSON bytes (``run_query``'s ``as_bytes``) where nothing
    after the query (includes, keys, afterFind) needs them as dictionaries."""
    opts = parse_find_options(params)
    response: dict[str, Any] = {}
    if opts.redirect_key:
        class_name = _redirect_class(class_name, opts.redirect_key)
        response["className"] = class_name
    trig = hooks.triggers()
    if trig.has("beforeFind", class_name):
        opts = _apply_before_find(ctx, class_name, opts, is_get=False)
    as_bytes = (
        for_renderer
        and not opts.redirect_key
        and opts.keys is None
        and not opts.exclude_keys
        and not opts.include_all
        and not _with_implied_includes(opts)
        and not trig.has("afterFind", class_name)
    )
    rows = run_query(ctx, class_name, opts, operation="find", as_bytes=as_bytes)
    objects = finish(ctx, class_name, rows.objects, opts)
    if opts.redirect_key:
        # each result names its class: the SDK's first()/get() read it from the object
        for obj in objects:
            obj["className"] = class_name
    response["results"] = objects
    if rows.count is not None:
        response["count"] = rows.count
    return response


def finish(
    ctx: RequestContext, class_name: str, objects: list[dict[str, Any]], opts: FindOptions
) -> list[dict[str, Any]]:
    keys_tree = _keys_tree(opts.keys)
    include = _with_implied_includes(opts)
    if objects and (include or opts.include_all):
        resolve_includes(
            ctx,
            objects,
            _include_tree(include),
            opts.include_all,
            keys_tree,
            exclude_tree=_keys_tree(opts.exclude_keys),
        )
    if opts.keys is not None or opts.exclude_keys:
        top = {k.split(".")[0] for k in opts.keys} if opts.keys is not None else None
        if top is not None:
            top |= {p.split(".")[0] for p in include}
            if "$score" in top:
                top.add("score")  # the relevance selected with keys=$score
        exclude = {k for k in opts.exclude_keys or [] if "." not in k}
        objects = [project(o, top, exclude) for o in objects]
    trig = hooks.triggers()
    if trig.has("afterFind", class_name):
        objects = trig.after_find(ctx, class_name, objects)
    return objects


def get(
    ctx: RequestContext, class_name: str, object_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    opts = parse_find_options(params, is_get=True)
    opts.where = {"objectId": object_id}
    opts.limit = 1
    trig = hooks.triggers()
    if trig.has("beforeFind", class_name):
        opts = _apply_before_find(ctx, class_name, opts, is_get=True)
    rows = run_query(ctx, class_name, opts, operation="get")
    if not rows.objects:
        raise object_not_found()
    return finish(ctx, class_name, rows.objects, opts)[0] if rows.objects else {}


def _redirect_class(class_name: str, key: str) -> str:
    schema = get_schema(class_name)
    spec = schema.fields.get(key) if schema else None
    if spec and spec.get("type") == "Relation":
        return spec["targetClass"]
    return class_name


def _apply_before_find(
    ctx: RequestContext, class_name: str, opts: FindOptions, *, is_get: bool
) -> FindOptions:
    query = {
        "where": opts.where,
        "limit": opts.limit,
        "skip": opts.skip,
        "keys": opts.keys,
        "include": opts.include,
        "excludeKeys": opts.exclude_keys,
        "order": [("-" if d else "") + k for k, d in opts.order],
    }
    changed = hooks.triggers().before_find(ctx, class_name, query, count=opts.count, is_get=is_get)
    opts.where = changed.get("where", opts.where)
    opts.limit = changed.get("limit", opts.limit)
    opts.skip = changed.get("skip", opts.skip) or 0
    opts.keys = changed.get("keys", opts.keys)
    opts.include = changed.get("include", opts.include) or []
    opts.exclude_keys = changed.get("excludeKeys", opts.exclude_keys)
    if changed.get("order") is not None:
        order = changed["order"]
        names = order.split(",") if isinstance(order, str) else list(order)
        opts.order = [(n[1:], True) if n.startswith("-") else (n, False) for n in names if n]
    return opts


def fetch_one_as_master(class_name: str, object_id: str) -> dict[str, Any] | None:
    """An object as the master key reads it (for signals, triggers, server code)."""
    schema = get_schema(class_name)
    if schema is None:
        return None
    conn = connection()
    object_table, _ = tables(conn)
    row = fetchone(
        conn,
        f'SELECT {OBJECT_COLUMNS} FROM {object_table} AS o WHERE o."class_name" = %s '
        'AND o."object_id" = %s',
        [class_name, object_id],
    )
    if row is None:
        return None
    relations = {
        n: s["targetClass"] for n, s in schema.fields.items() if s.get("type") == "Relation"
    }
    object_id, data, acl, created, updated = row
    return encode_object(
        object_id, load_json(data), load_json(acl), created, updated, relation_fields=relations
    )
