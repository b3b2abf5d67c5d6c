"""Compile a parsed query (:mod:`.ast`) into SQL for PostgreSQL or SQLite.

The compiler writes SQL text rather than ORM lookups because the same expression
must be produced for a query and for the index that serves it (an expression index
is used only when the query repeats its expression exactly), and because several
operators need vendor-specific SQL. Every value is a bound parameter; keys are
validated names and inlined as literals.

NULL handling: SQL's three-valued logic would make ``NOT (x = 1)`` false for a
missing ``x``, where Parse (MongoDB semantics) says true. Positive conditions are
left as they are (so they stay sargable) and every ``Not`` is compiled as
``NOT COALESCE(<child>, FALSE)``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from ...codec import is_valid_class_name, parse_iso
from . import ast
from .ast import FieldRef, Value

SQL = tuple[str, list[Any]]


def _lit(key: str) -> str:
    # keys are validated by the parser ([A-Za-z0-9_]); escape anyway
    return key.replace("'", "''")


def pg_regex(pattern: str, flags: str) -> str:
    """Translate a Python/PCRE-style pattern and options into a PostgreSQL ARE."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if not in_class and nxt == "b":
                out.append("\\y")
            elif not in_class and nxt == "B":
                out.append("\\Y")
            elif nxt == "z":
                out.append("\\Z")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "(" and not in_class and pattern.startswith("(?P<", i):
            # a named group: PostgreSQL has plain groups only
            end = pattern.find(">", i)
            if end > 0:
                out.append("(")
                i = end + 1
                continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    options = ""
    if "i" in flags:
        options += "i"
    if "x" in flags:
        options += "x"
    multiline, dotall = "m" in flags, "s" in flags
    if multiline and dotall:
        options += "w"
    elif multiline:
        options += "n"
    elif not dotall:
        options += "p"
    body = "".join(out)
    return f"(?{options}){body}" if options else body


def geo_literal(vertices: list[tuple[float, float]]) -> str:
    return "(" + ",".join(f"({lng!r},{lat!r})" for lat, lng in vertices) + ")"


def class_is(column: str, class_name: str) -> tuple[str, list[Any]]:
    """``<column> = '<class>'``: the class written into the statement, not bound.

    Why: the per-class indexes (the ones declared through the schema API, and those on
    usernames, e-mails, role names and session tokens) are partial, ``WHERE class_name =
    '<Class>'``, and PostgreSQL uses a partial index only where the statement's own text
    implies its predicate. With ``class_name = $1`` the generic plan of a prepared
    statement cannot use one, so PostgreSQL planned such a statement anew on every run
    (``pg_prepared_statements.generic_plans`` stayed 0); with the literal the plan is
    made once per class on a connection (pgbench, the benchmark's query: +15-30%
    transactions/s). A valid class name is letters, digits and underscores
    (``codec.is_valid_class_name``), nothing to quote; anything else stays a parameter.
    """
    if is_valid_class_name(class_name):
        return f"{column} = '{class_name}'", []
    return f"{column} = %s", [class_name]


def text_array(items: Any) -> str:
    """A PostgreSQL ``text[]`` literal (``{"*","role:Admins"}``), to pass with a ``::text[]`` cast.

    psycopg can take a Python list, but works out the array's element type anew for
    every statement (it walks the list twice): the principals of every read and write
    pay that, where a string costs nothing to send. Each element is quoted, with ``\\``
    and ``"`` escaped, so any role name or id is read back as itself.
    """
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


class SQLCompiler:
    """Compiles nodes for one class, against a table alias, on one vendor."""

    def __init__(
        self,
        vendor: str,
        alias: str,
        class_name: str,
        *,
        object_table: str,
        relation_table: str,
        principals: list[str] | None,
        connection: Any = None,
        depth: int = 0,
    ) -> None:
        self.vendor = vendor
        self.pg = vendor == "postgresql"
        self.alias = alias
        self.class_name = class_name
        self.object_table = object_table
        self.relation_table = relation_table
        self.principals = principals
        self.connection = connection
        self.depth = depth
        self.unaccent = False

    # --- expressions -----------------------------------------------------------------

    @property
    def data(self) -> str:
        return f'{self.alias}."data"'

    def json(self, path: tuple[str, ...], column: str | None = None) -> str:
        col = column or self.data
        if self.pg:
            if len(path) == 1:
                return f"({col} -> '{_lit(path[0])}')"
            return f"({col} #> '{{{','.join(_lit(p) for p in path)}}}')"
        return f"json_extract({col}, '{self.sqlite_path(path)}')"

    def text(self, path: tuple[str, ...], column: str | None = None) -> str:
        col = column or self.data
        if self.pg:
            if len(path) == 1:
                return f"({col} ->> '{_lit(path[0])}')"
            return f"({col} #>> '{{{','.join(_lit(p) for p in path)}}}')"
        return f"json_extract({col}, '{self.sqlite_path(path)}')"

    @staticmethod
    def sqlite_path(path: tuple[str, ...]) -> str:
        return "$" + "".join(f'."{_lit(p)}"' for p in path)

    def json_type(self, path: tuple[str, ...]) -> str:
        """Type of the value: PG jsonb_typeof names, SQLite json_type names."""
        if self.pg:
            return f"jsonb_typeof({self.json(path)})"
        return f"json_type({self.data}, '{self.sqlite_path(path)}')"

    def is_type(self, path: tuple[str, ...], kind: str) -> str:
        if self.pg:
            pg_names = {
                ast.NUMBER: "'number'",
                ast.STRING: "'string'",
                ast.OBJECT: "'object'",
                ast.ARRAY: "'array'",
                ast.BOOLEAN: "'boolean'",
            }
            if kind in pg_names:
                return f"{self.json_type(path)} = {pg_names[kind]}"
        else:
            sqlite_names = {
                ast.NUMBER: "('integer','real')",
                ast.STRING: "('text')",
                ast.OBJECT: "('object')",
                ast.ARRAY: "('array')",
                ast.BOOLEAN: "('true','false')",
            }
            if kind in sqlite_names:
                return f"{self.json_type(path)} IN {sqlite_names[kind]}"
        type_name = {
            ast.DATE: "Date",
            ast.POINTER: "Pointer",
            ast.FILE: "File",
            ast.GEOPOINT: "GeoPoint",
            ast.BYTES: "Bytes",
            ast.POLYGON: "Polygon",
        }[kind]
        return f"{self.text(path + ('__type',))} = '{type_name}'"

    def comparable(self, field: FieldRef, kind: str) -> str:
        """The SQL expression a value of ``kind`` in ``field`` is compared and sorted by."""
        if field.column:
            return f'{self.alias}."{field.column}"'
        path = field.path
        if kind in (ast.NUMBER, ast.BOOLEAN):
            return self.json(path)
        if kind == ast.STRING:
            return f'({self.text(path)} COLLATE "C")' if self.pg else self.text(path)
        if kind == ast.DATE:
            expr = self.text(path + ("iso",))
            return f'({expr} COLLATE "C")' if self.pg else expr
        if kind == ast.POINTER:
            return self.text(path + ("objectId",))
        if kind == ast.FILE:
            return self.text(path + ("name",))
        if kind == ast.BYTES:
            return self.text(path + ("base64",))
        return self.json(path)

    def param(self, field: FieldRef, value: Value) -> tuple[str, Any]:
        """Placeholder and bound value for comparing with ``comparable()``."""
        if field.column:
            if field.column == "object_id":
                return "%s", str(value.value)
            return "%s", self.adapt_datetime(parse_iso(value.value))
        kind, v = value.kind, value.value
        if kind in (ast.NUMBER, ast.BOOLEAN):
            if self.pg:
                return "%s::jsonb", orjson.dumps(v).decode()
            return "%s", (1 if v else 0) if kind == ast.BOOLEAN else v
        if kind == ast.POINTER:
            return "%s", v[1]
        return "%s", v

    def adapt_datetime(self, dt: datetime) -> Any:
        if self.connection is not None:
            return self.connection.ops.adapt_datetimefield_value(dt)
        return dt

    # --- nodes -------------------------------------------------------------------------

    def compile(self, node: ast.Node) -> SQL:
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Const(self, node: ast.Const) -> SQL:
        return ("1=1" if node.value else "1=0"), []

    def _And(self, node: ast.And) -> SQL:
        return self._join(node.children, " AND ")

    def _Or(self, node: ast.Or) -> SQL:
        return self._join(node.children, " OR ")

    def _join(self, children: list[ast.Node], sep: str) -> SQL:
        parts, params = [], []
        for child in children:
            sql, p = self.compile(child)
            parts.append(f"({sql})")
            params.extend(p)
        return sep.join(parts), params

    def _Not(self, node: ast.Not) -> SQL:
        sql, params = self.compile(node.child)
        false = "FALSE" if self.pg else "0"
        return f"NOT COALESCE(({sql}), {false})", params

    def _guard(self, field: FieldRef, kind: str) -> str | None:
        """A type test for fields whose schema type is unknown (Object sub-keys)."""
        if field.column or field.kind is not None:
            return None
        return self.is_type(field.path, kind)

    def _Cmp(self, node: ast.Cmp) -> SQL:
        field, value = node.field, node.value
        op = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[node.op]
        guard = self._guard(field, value.kind)
        if value.kind == ast.BOOLEAN and not self.pg and not field.column:
            sql, params = f"{self.json_type(field.path)} = %s", ["true" if value.value else "false"]
            return sql, params
        if value.kind in (ast.OBJECT, ast.ARRAY, ast.POLYGON) and not field.column:
            return self._json_equal(field, value)
        if value.kind == ast.GEOPOINT and not field.column:
            lat, lng = value.value
            sql = (
                f"CAST({self.text(field.path + ('latitude',))} AS REAL) = %s AND "
                f"CAST({self.text(field.path + ('longitude',))} AS REAL) = %s"
            )
            if self.pg:
                sql = sql.replace("AS REAL", "AS double precision")
            return self._with_guard(guard, sql, [lat, lng])
        placeholder, param = self.param(field, value)
        sql = f"{self.comparable(field, value.kind)} {op} {placeholder}"
        params = [param]
        if (
            self.pg
            and guard is None
            and value.kind == ast.NUMBER
            and node.op in ("lt", "lte")
            and not field.column
        ):
            # jsonb orders null below every number: keep explicit nulls out of $lt/$lte
            sql += f" AND {self.json_type(field.path)} = 'number'"
        if value.kind == ast.POINTER and not field.column and (field.target_class is None):
            sql += f" AND {self.text(field.path + ('className',))} = %s"
            params.append(value.value[0])
        return self._with_guard(guard, sql, params)

    def _with_guard(self, guard: str | None, sql: str, params: list[Any]) -> SQL:
        if guard:
            return f"{guard} AND {sql}", params
        return sql, params

    def _json_equal(self, field: FieldRef, value: Value) -> SQL:
        encoded = orjson.dumps(value.value).decode()
        kind = value.kind
        if self.pg:
            return f"{self.json(field.path)} = %s::jsonb", [encoded]
        return (
            f"{self.is_type(field.path, kind)} AND bk_json_equal({self.json(field.path)}, %s) = 1",
            [encoded],
        )

    def _In(self, node: ast.In) -> SQL:
        by_kind: dict[str, list[Value]] = {}
        for value in node.values:
            by_kind.setdefault(value.kind, []).append(value)
        parts: list[ast.Node] = []
        sqls, params = [], []
        for kind, values in by_kind.items():
            if kind in (ast.OBJECT, ast.ARRAY, ast.POLYGON, ast.GEOPOINT, ast.BOOLEAN) or (
                kind == ast.POINTER and node.field.target_class is None and not node.field.column
            ):
                parts.extend(ast.Cmp(node.field, "eq", v) for v in values)
                continue
            placeholders, ps = [], []
            for v in values:
                ph, p = self.param(node.field, v)
                placeholders.append(ph)
                ps.append(p)
            sql = f"{self.comparable(node.field, kind)} IN ({', '.join(placeholders)})"
            guard = self._guard(node.field, kind)
            sql, ps = self._with_guard(guard, sql, ps)
            sqls.append(f"({sql})")
            params.extend(ps)
        for part in parts:
            sql, ps = self.compile(part)
            sqls.append(f"({sql})")
            params.extend(ps)
        if not sqls:
            return "1=0", []
        return " OR ".join(sqls), params

    # --- arrays ----------------------------------------------------------------------------

    def element_json(self, value: Value) -> Any:
        kind, v = value.kind, value.value
        if kind == ast.DATE:
            return {"__type": "Date", "iso": v}
        if kind == ast.POINTER:
            return {"__type": "Pointer", "className": v[0], "objectId": v[1]}
        if kind == ast.FILE:
            return {"__type": "File", "name": v}
        if kind == ast.GEOPOINT:
            return {"__type": "GeoPoint", "latitude": v[0], "longitude": v[1]}
        if kind == ast.BYTES:
            return {"__type": "Bytes", "base64": v}
        return v

    def sqlite_element_cond(self, value: Value, elem: str = "e") -> SQL:
        kind, v = value.kind, value.value
        if kind == ast.NUMBER:
            return f"{elem}.type IN ('integer','real') AND {elem}.value = %s", [v]
        if kind == ast.STRING:
            return f"{elem}.type = 'text' AND {elem}.value = %s", [v]
        if kind == ast.BOOLEAN:
            return f"{elem}.type = %s", ["true" if v else "false"]
        if kind == ast.NULL:
            return f"{elem}.type = 'null'", []
        if kind == ast.DATE:
            return (
                f"{elem}.type = 'object' AND json_extract({elem}.value, '$.__type') = 'Date' "
                f"AND json_extract({elem}.value, '$.iso') = %s",
                [v],
            )
        if kind == ast.POINTER:
            return (
                f"{elem}.type = 'object' AND json_extract({elem}.value, '$.objectId') = %s "
                f"AND json_extract({elem}.value, '$.className') = %s",
                [v[1], v[0]],
            )
        return (
            f"{elem}.type IN ('object','array') AND bk_json_equal({elem}.value, %s) = 1",
            [orjson.dumps(self.element_json(value)).decode()],
        )

    def _array_has(self, field: FieldRef, value: Value) -> SQL:
        path = field.path
        if self.pg:
            if value.kind in (ast.OBJECT, ast.ARRAY):
                arr = self.json(path)
                return (
                    f"CASE WHEN jsonb_typeof({arr}) = 'array' THEN EXISTS (SELECT 1 FROM "
                    f"jsonb_array_elements({arr}) AS e(v) WHERE e.v = %s::jsonb) ELSE FALSE END",
                    [orjson.dumps(value.value).decode()],
                )
            return f"{self.json(path)} @> %s::jsonb", [
                orjson.dumps([self.element_json(value)]).decode()
            ]
        cond, params = self.sqlite_element_cond(value)
        return (
            f"{self.is_type(path, ast.ARRAY)} AND EXISTS (SELECT 1 FROM json_each({self.data}, "
            f"'{self.sqlite_path(path)}') AS e WHERE {cond})",
            params,
        )

    def _array_regex(self, field: FieldRef, regex: ast.Regex) -> SQL:
        path = field.path
        if self.pg:
            arr = self.json(path)
            return (
                f"CASE WHEN jsonb_typeof({arr}) = 'array' THEN EXISTS (SELECT 1 FROM "
                f"jsonb_array_elements({arr}) AS e(v) WHERE jsonb_typeof(e.v) = 'string' "
                f"AND (e.v #>> '{{}}') ~ %s) ELSE FALSE END",
                [pg_regex(regex.pattern, regex.flags)],
            )
        return (
            f"{self.is_type(path, ast.ARRAY)} AND EXISTS (SELECT 1 FROM json_each({self.data}, "
            f"'{self.sqlite_path(path)}') AS e WHERE e.type = 'text' AND bk_regex(e.value, %s, %s) = 1)",
            [regex.pattern, regex.flags],
        )

    def _All(self, node: ast.All) -> SQL:
        if node.field.column:
            return "1=0", []
        parts, params = [], []
        for value in node.values:
            sql, p = self._array_has(node.field, value)
            parts.append(f"({sql})")
            params.extend(p)
        for regex in node.regexes:
            sql, p = self._array_regex(node.field, regex)
            parts.append(f"({sql})")
            params.extend(p)
        return " AND ".join(parts) or "1=0", params

    def _ContainedBy(self, node: ast.ContainedBy) -> SQL:
        path = node.field.path
        if node.field.column:
            return "1=0", []
        if self.pg:
            arr = self.json(path)
            elements = orjson.dumps([self.element_json(v) for v in node.values]).decode()
            return f"jsonb_typeof({arr}) = 'array' AND {arr} <@ %s::jsonb", [elements]
        conds, params = [], []
        for value in node.values:
            c, p = self.sqlite_element_cond(value)
            conds.append(f"({c})")
            params.extend(p)
        inside = " OR ".join(conds) or "0"
        return (
            f"{self.is_type(path, ast.ARRAY)} AND NOT EXISTS (SELECT 1 FROM json_each({self.data}, "
            f"'{self.sqlite_path(path)}') AS e WHERE NOT ({inside}))",
            params,
        )

    def _Exists(self, node: ast.Exists) -> SQL:
        if node.field.column:
            return "1=1", []
        return f"COALESCE({self.json_type(node.field.path)}, 'null') <> 'null'", []

    # --- strings ----------------------------------------------------------------------------

    def _Regex(self, node: ast.Regex) -> SQL:
        field = node.field
        assert field is not None
        if field.column:
            if field.column != "object_id":
                return "1=0", []
            expr, guard = f'{self.alias}."object_id"', None
        elif field.kind == ast.ARRAY:
            return self._array_regex(field, node)
        else:
            expr = self.text(field.path)
            guard = None if field.kind == ast.STRING else self.is_type(field.path, ast.STRING)
        if self.pg:
            return self._with_guard(guard, f"{expr} ~ %s", [pg_regex(node.pattern, node.flags)])
        return self._with_guard(guard, f"bk_regex({expr}, %s, %s) = 1", [node.pattern, node.flags])

    def _Text(self, node: ast.Text) -> SQL:
        field = node.field
        if field.column:
            return "1=0", []
        expr = self.text(field.path)
        if not self.pg:
            return (
                f"bk_text_match({expr}, %s, %s, %s, %s) = 1",
                [node.term, node.language, int(node.case_sensitive), int(node.diacritic_sensitive)],
            )
        from .functions import parse_search

        fold = self.unaccent and not node.diacritic_sensitive
        # bk_unaccent: an IMMUTABLE wrapper of unaccent (migration 0003), so a "text"
        # index can hold the same expression and serve the query
        doc = f"bk_unaccent(coalesce({expr}, ''))" if fold else f"coalesce({expr}, '')"
        term = "bk_unaccent(%s)" if fold else "%s"
        sql = f"to_tsvector(%s::regconfig, {doc}) @@ websearch_to_tsquery(%s::regconfig, {term})"
        params: list[Any] = [node.language, node.language, node.term]
        if node.case_sensitive:
            words, phrases, _ = parse_search(node.term)
            for word in words + phrases:
                sql += f" AND {expr} ~ %s"
                params.append("\\y" + _pg_escape(word) + "\\y")
        return sql, params

    def text_score(self, node: ast.Text) -> SQL:
        """MongoDB's textScore of the row for a full-text search (see functions.text_score)."""
        field = node.field
        if field.column:
            return "0", []
        expr = self.text(field.path)
        if not self.pg:
            return (
                f"bk_text_score({expr}, %s, %s, %s)",
                [node.term, node.language, int(node.diacritic_sensitive)],
            )
        from .functions import parse_search

        fold = self.unaccent and not node.diacritic_sensitive
        doc = f"bk_unaccent(coalesce({expr}, ''))" if fold else f"coalesce({expr}, '')"
        term = "bk_unaccent(%s)" if fold else "%s"
        words, phrases, _ = parse_search(node.term)
        vector = f"to_tsvector(%s::regconfig, {doc})"
        # the lexemes of a tsvector carry their positions: their count is the number of
        # occurrences, and all of them together the number of words kept
        sql = (
            "(SELECT COALESCE(SUM((2 - power(2, 1 - cardinality(t.positions))) * "
            "(0.5 * cardinality(t.positions) / n.total + 0.5)), 0) "
            f"FROM unnest({vector}) AS t, "
            "(SELECT sum(cardinality(u.positions))::float AS total "
            f"FROM unnest({vector}) AS u) AS n "
            "WHERE t.lexeme = ANY(tsvector_to_array(to_tsvector(%s::regconfig, "
            f"{term}))))"
        )
        params = [node.language, node.language, node.language, " ".join(words + phrases)]
        return sql, params

    # --- sub-queries -------------------------------------------------------------------------

    def subcompiler(self, class_name: str) -> SQLCompiler:
        sub = SQLCompiler(
            self.vendor,
            f"s{self.depth + 1}",
            class_name,
            object_table=self.object_table,
            relation_table=self.relation_table,
            principals=self.principals,
            connection=self.connection,
            depth=self.depth + 1,
        )
        sub.unaccent = self.unaccent
        return sub

    def subquery(self, query: ast.SubQuery, select: str) -> SQL:
        sub = self.subcompiler(query.class_name)
        where, params = sub.compile(query.where)
        acl, acl_params = sub.read_acl()
        class_sql, class_params = class_is(f'{sub.alias}."class_name"', query.class_name)
        sql = (
            f"SELECT {select.format(a=sub.alias)} FROM {self.object_table} AS {sub.alias} "
            f"WHERE {class_sql} AND ({acl}) AND ({where})"
        )
        return sql, [*class_params, *acl_params, *params]

    def read_acl(self, column: str = "read_principals") -> SQL:
        if self.principals is None:
            return "1=1", []
        col = f'{self.alias}."{column}"'
        if self.pg:
            return f"{col} ?| %s::text[]", [text_array(self.principals)]
        parts = " OR ".join(f"json_type({col}, %s) IS NOT NULL" for _ in self.principals)
        return parts or "1=0", [_sqlite_key(p) for p in self.principals]

    def _InQuery(self, node: ast.InQuery) -> SQL:
        field = node.field
        if field.column:
            return "1=0", []
        sub_sql, sub_params = self.subquery(node.query, '{a}."object_id"')
        if field.kind == ast.ARRAY:
            if self.pg:
                return (
                    f"CASE WHEN jsonb_typeof({self.json(field.path)}) = 'array' THEN EXISTS (SELECT 1 FROM "
                    f"jsonb_array_elements({self.json(field.path)}) AS e(v) WHERE e.v ->> 'className' = %s "
                    f"AND (e.v ->> 'objectId') IN ({sub_sql})) ELSE FALSE END",
                    [node.query.class_name, *sub_params],
                )
            return (
                f"{self.is_type(field.path, ast.ARRAY)} AND EXISTS (SELECT 1 FROM json_each({self.data}, "
                f"'{self.sqlite_path(field.path)}') AS e WHERE e.type = 'object' AND "
                f"json_extract(e.value, '$.className') = %s AND json_extract(e.value, '$.objectId') IN ({sub_sql}))",
                [node.query.class_name, *sub_params],
            )
        sql = (
            f"{self.text(field.path + ('className',))} = %s AND "
            f"{self.text(field.path + ('objectId',))} IN ({sub_sql})"
        )
        return sql, [node.query.class_name, *sub_params]

    def _Select(self, node: ast.Select) -> SQL:
        field, key_field = node.field, node.query.key_field
        assert key_field is not None
        if field.column or key_field.column:
            if field.column == "object_id" and key_field.column == "object_id":
                sub_sql, sub_params = self.subquery(node.query, '{a}."object_id"')
                return f'{self.alias}."object_id" IN ({sub_sql})', sub_params
            if key_field.column == "object_id" and not field.column:
                sub_sql, sub_params = self.subquery(node.query, '{a}."object_id"')
                return (
                    f"{self.is_type(field.path, ast.STRING)} AND {self.text(field.path)} IN ({sub_sql})",
                    sub_params,
                )
            return "1=0", []
        sub = self.subcompiler(node.query.class_name)
        where, params = sub.compile(node.query.where)
        acl, acl_params = sub.read_acl()
        if self.pg:
            match = f"{sub.json(key_field.path)} = {self.json(field.path)}"
        else:
            match = (
                f"{sub.json(key_field.path)} = {self.json(field.path)} AND "
                f"{sub.json_type(key_field.path)} = {self.json_type(field.path)}"
            )
        class_sql, class_params = class_is(f'{sub.alias}."class_name"', node.query.class_name)
        sql = (
            f"EXISTS (SELECT 1 FROM {self.object_table} AS {sub.alias} WHERE {class_sql} "
            f"AND ({acl}) AND ({where}) AND {match})"
        )
        return sql, [*class_params, *acl_params, *params]

    def _RelatedTo(self, node: ast.RelatedTo) -> SQL:
        return (
            f'{self.alias}."object_id" IN (SELECT r."related_id" FROM {self.relation_table} AS r '
            f'WHERE r."owner_class" = %s AND r."owner_id" = %s AND r."key" = %s)',
            [node.owner_class, node.owner_id, node.key],
        )

    def _RelationHas(self, node: ast.RelationHas) -> SQL:
        if not node.related_ids:
            return "1=0", []
        placeholders = ", ".join(["%s"] * len(node.related_ids))
        return (
            f'{self.alias}."object_id" IN (SELECT r."owner_id" FROM {self.relation_table} AS r '
            f'WHERE r."owner_class" = %s AND r."key" = %s AND r."related_id" IN ({placeholders}))',
            [self.class_name, node.field.name, *node.related_ids],
        )

    # --- geo -------------------------------------------------------------------------------

    def lat_lng(self, field: FieldRef) -> tuple[str, str]:
        cast = "double precision" if self.pg else "REAL"
        lat = f"CAST({self.text(field.path + ('latitude',))} AS {cast})"
        lng = f"CAST({self.text(field.path + ('longitude',))} AS {cast})"
        return lat, lng

    def distance(self, node: ast.GeoDistance) -> SQL:
        if self.pg:
            lat, lng = self.lat_lng(node.field)
            sql = (
                f"(2 * asin(least(1.0, sqrt(power(sin((radians(%s) - radians({lat})) / 2), 2) + "
                f"cos(radians({lat})) * cos(radians(%s)) * power(sin(radians(%s - {lng}) / 2), 2)))))"
            )
            return sql, [node.latitude, node.latitude, node.longitude]
        return (
            f"bk_distance(json_extract({self.data}, '{self.sqlite_path(node.field.path + ('latitude',))}'), "
            f"json_extract({self.data}, '{self.sqlite_path(node.field.path + ('longitude',))}'), %s, %s)",
            [node.latitude, node.longitude],
        )

    def _GeoDistance(self, node: ast.GeoDistance) -> SQL:
        if node.field.column:
            return "1=0", []
        guard = self.is_type(node.field.path, ast.GEOPOINT)
        if node.max_radians is None:
            return guard, []
        dist, params = self.distance(node)
        if self.pg:
            return f"CASE WHEN {guard} THEN {dist} <= %s ELSE FALSE END", [
                *params,
                node.max_radians,
            ]
        return f"{guard} AND {dist} <= %s", [*params, node.max_radians]

    def _GeoBox(self, node: ast.GeoBox) -> SQL:
        if node.field.column:
            return "1=0", []
        guard = self.is_type(node.field.path, ast.GEOPOINT)
        lat, lng = self.lat_lng(node.field)
        cond = f"{lat} BETWEEN %s AND %s AND {lng} BETWEEN %s AND %s"
        params = [node.south, node.north, node.west, node.east]
        if self.pg:
            return f"CASE WHEN {guard} THEN ({cond}) ELSE FALSE END", params
        return f"{guard} AND {cond}", params

    def _GeoPolygon(self, node: ast.GeoPolygon) -> SQL:
        if node.field.column:
            return "1=0", []
        guard = self.is_type(node.field.path, ast.GEOPOINT)
        if self.pg:
            lat, lng = self.lat_lng(node.field)
            return (
                f"CASE WHEN {guard} THEN point({lng}, {lat}) <@ %s::polygon ELSE FALSE END",
                [geo_literal(node.vertices)],
            )
        return (
            f"{guard} AND bk_point_in_polygon(json_extract({self.data}, "
            f"'{self.sqlite_path(node.field.path + ('latitude',))}'), json_extract({self.data}, "
            f"'{self.sqlite_path(node.field.path + ('longitude',))}'), %s) = 1",
            [orjson.dumps([list(v) for v in node.vertices]).decode()],
        )

    def _PolygonContains(self, node: ast.PolygonContains) -> SQL:
        if node.field.column:
            return "1=0", []
        guard = self.is_type(node.field.path, ast.POLYGON)
        coords = self.json(node.field.path + ("coordinates",))
        if self.pg:
            polygon = (
                "(SELECT ('(' || string_agg('(' || (c.v ->> 1) || ',' || (c.v ->> 0) || ')', ',' "
                f"ORDER BY c.n) || ')')::polygon FROM jsonb_array_elements({coords}) WITH ORDINALITY AS c(v, n))"
            )
            return (
                f"CASE WHEN {guard} THEN {polygon} @> point(%s, %s) ELSE FALSE END",
                [node.longitude, node.latitude],
            )
        return (
            f"{guard} AND bk_polygon_contains({coords}, %s, %s) = 1",
            [node.latitude, node.longitude],
        )


def _sqlite_key(principal: str) -> str:
    return '$."' + principal.replace("\\", "\\\\").replace('"', '\\"') + '"'


_PG_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def _pg_escape(word: str) -> str:
    return _PG_SPECIAL.sub(r"\\\1", word)
