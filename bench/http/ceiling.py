"""The Python ceiling: the thinnest Python server that answers the single-object operations.

A bare ASGI application under the same uvicorn, with the same number of workers and the
same PostgreSQL pool size as backend_kit, that checks the two keys, runs the statement
backend_kit issues for the request (captured in ``bench/results/sql/backend_kit-<op>.sql``)
and answers as Parse Server would. It answers ``create``, ``get``, ``query``, ``update``
and ``count`` in the shapes the benchmark sends (``OPERATIONS``), and nothing else. No
framework, no schema, no class-level permissions, no session lookup, no hooks, no
metrics, no validation beyond what keeps the statement well-formed; stored JSON goes
into the answer as the text PostgreSQL returns: what is left is the cost of Python, the
ASGI server, the database driver and the statement itself.

It is not a server anyone should run. Its rows tell how much of the distance between
backend_kit and Parse Server a Python server can close at all on this machine: where
the ceiling is below 2x Parse Server, backend_kit cannot reach 2x, whatever it skips.
"""

from __future__ import annotations

import os
import re
import secrets
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from .servers import APP_ID, DB_POOL, REST_KEY, ROOT, Process, free_port, uvicorn_argv

#: The operations (bench/http/operations.py) the ceiling answers.
OPERATIONS = ("create", "get", "query", "update", "count")

TABLE = '"backend_kit_objects_parseobject"'
ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\''
COLUMNS = (
    f'o."object_id", o."data", o."acl", to_char(o."created_at" AT TIME ZONE \'UTC\', {ISO}),'
    f" to_char(o.\"updated_at\" AT TIME ZONE 'UTC', {ISO})"
)
# backend_kit's statements (bench/results/sql/backend_kit-*.sql) with the class and the
# field names written in, as backend_kit's compiler writes them, and the values as
# parameters; {readable} is its ACL test.
READABLE = 'o."read_principals" ?| %s::text[]'
GET_SQL = (
    f"SELECT {COLUMNS} FROM {TABLE} AS o WHERE o.\"class_name\" = '{{class_name}}'"
    f' AND ({READABLE}) AND (o."object_id" = %s) LIMIT 1'
)
FIND_SQL = (
    f'SELECT {COLUMNS} FROM (SELECT o."object_id", o."data", o."acl", o."created_at",'
    f' o."updated_at", (o."data" -> \'{{sort}}\') AS bk_k0 FROM {TABLE} AS o'
    f" WHERE o.\"class_name\" = '{{class_name}}' AND ({READABLE}){{where}}"
    " ORDER BY bk_k0 {direction} LIMIT %s) AS o ORDER BY o.bk_k0 {direction}"
)
COUNT_SQL = (
    f"SELECT COUNT(*) FROM {TABLE} AS o WHERE o.\"class_name\" = '{{class_name}}'"
    f" AND ({READABLE}){{where}}"
)
INSERT_SQL = (
    f'INSERT INTO {TABLE} ("class_name", "object_id", "data", "acl", "read_principals",'
    ' "write_principals", "created_at", "updated_at")'
    " VALUES ('{class_name}', %s, %s::jsonb, NULL::jsonb, %s::jsonb, %s::jsonb, %s, %s)"
    ' ON CONFLICT ("class_name", "object_id") DO NOTHING'
)
INCREMENT_SQL = (
    f'UPDATE {TABLE} AS o SET "data" = bk_within_size(jsonb_set("data", {{path}},'
    " to_jsonb((CASE WHEN jsonb_typeof((\"data\" #> {path})) = 'number'"
    " THEN ((\"data\" #> {path}) #>> '{{}}')::float8 ELSE 0 END) + %s::float8),"
    ' true), %s), "updated_at" = %s'
    ' WHERE o."class_name" = \'{class_name}\' AND o."object_id" = %s'
    ' AND (o."write_principals" ?| %s::text[])'
    f' RETURNING ("data" #> {{path}})::text, to_char("updated_at" AT TIME ZONE \'UTC\', {ISO})'
)
EQUALS = ' AND (((o."data" ->> \'{field}\') COLLATE "C") = %s)'
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
PUBLIC = "{*}"  # the principals of a request with no session: anyone's objects only
EVERYONE = '{"*": true}'  # the stored principals of an object with no ACL
MAX_OBJECT_BYTES = 4 * 1024 * 1024  # backend_kit's default object size limit
ID_ALPHABET = string.ascii_letters + string.digits
NOT_FOUND = (404, b'{"code":101,"error":"Object not found."}')
UNSUPPORTED = (400, b'{"code":107,"error":"not a request the ceiling answers"}')

_pool: Any = None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/parse/health":
        await _answer(send, 200, b'{"status":"ok"}')
        return
    headers = dict(scope["headers"])
    if (
        headers.get(b"x-parse-application-id") != APP_ID.encode()
        or headers.get(b"x-parse-rest-api-key") != REST_KEY.encode()
    ):
        await _answer(send, 403, b'{"error":"unauthorized"}')
        return
    try:
        status, body = await _route(scope, receive)
    except (ValueError, TypeError, KeyError):  # a body or a query the ceiling does not take
        status, body = UNSUPPORTED
    await _answer(send, status, body)


async def _route(scope: dict[str, Any], receive: Any) -> tuple[int, bytes]:
    parts = scope["path"].split("/")  # "", "parse", "classes", class[, id]
    if len(parts) not in (4, 5) or parts[1:3] != ["parse", "classes"]:
        return NOT_FOUND
    if not NAME_RE.match(parts[3]):
        return NOT_FOUND
    class_name, method = parts[3], scope["method"]
    if len(parts) == 5 and method == "GET":
        return await _get(class_name, parts[4])
    if len(parts) == 5 and method == "PUT":
        return await _increment(class_name, parts[4], await _body(receive))
    if len(parts) == 4 and method == "GET":
        return await _find(class_name, parse_qs(scope["query_string"].decode()))
    if len(parts) == 4 and method == "POST":
        return await _create(class_name, await _body(receive))
    return UNSUPPORTED


async def _get(class_name: str, object_id: str) -> tuple[int, bytes]:
    row = await _fetchone(GET_SQL.format(class_name=class_name), (PUBLIC, object_id))
    return NOT_FOUND if row is None else (200, _object_json(row))


async def _find(class_name: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
    where, values = _where(orjson.loads(query["where"][0]) if "where" in query else {})
    limit = int(query.get("limit", ["100"])[0])
    if query.get("count") == ["1"] and limit == 0:
        row = await _fetchone(
            COUNT_SQL.format(class_name=class_name, where=where), (PUBLIC, *values)
        )
        return 200, b'{"results":[],"count":%d}' % row[0]
    order = query["order"][0]
    sort = order.removeprefix("-")
    if not NAME_RE.match(sort) or "," in order:
        raise ValueError(order)
    direction = "DESC NULLS LAST" if order.startswith("-") else "ASC NULLS FIRST"
    sql = FIND_SQL.format(class_name=class_name, sort=sort, where=where, direction=direction)
    async with _pool.connection() as conn:
        cursor = await conn.execute(sql, (PUBLIC, *values, limit))
        rows = await cursor.fetchall()
    return 200, b'{"results":[' + b",".join(_object_json(row) for row in rows) + b"]}"


def _where(where: dict[str, Any]) -> tuple[str, list[str]]:
    """String equalities only, as the benchmark's ``where`` is."""
    if not isinstance(where, dict):
        raise ValueError("where is not an object")
    clauses, values = [], []
    for field, value in where.items():
        if not NAME_RE.match(field) or not isinstance(value, str):
            raise ValueError(field)
        clauses.append(EQUALS.format(field=field))
        values.append(value)
    return "".join(clauses), values


async def _create(class_name: str, body: bytes) -> tuple[int, bytes]:
    if not isinstance(orjson.loads(body), dict):
        raise ValueError("not an object")
    now = datetime.now(UTC)
    sql = INSERT_SQL.format(class_name=class_name)
    async with _pool.connection() as conn:
        while True:  # a taken objectId (ON CONFLICT DO NOTHING wrote nothing): draw again
            object_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(10))
            cursor = await conn.execute(
                sql, (object_id, body.decode(), EVERYONE, EVERYONE, now, now)
            )
            if cursor.rowcount == 1:
                break
    created = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return 201, b'{"objectId":"%s","createdAt":"%s"}' % (object_id.encode(), created.encode())


async def _increment(class_name: str, object_id: str, body: bytes) -> tuple[int, bytes]:
    changes = orjson.loads(body)
    if not isinstance(changes, dict):
        raise ValueError("not an object")
    ((field, change),) = changes.items()  # one field, one Increment
    if not NAME_RE.match(field) or change["__op"] != "Increment":
        raise ValueError(field)
    amount = change["amount"]
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise ValueError(amount)
    row = await _fetchone(
        INCREMENT_SQL.format(class_name=class_name, path=f"'{{{field}}}'"),
        (amount, MAX_OBJECT_BYTES, datetime.now(UTC), object_id, PUBLIC),
    )
    if row is None:
        return NOT_FOUND
    return 200, b'{"%s":%s,"updatedAt":"%s"}' % (field.encode(), row[0].encode(), row[1].encode())


def _object_json(row: tuple[Any, ...]) -> bytes:
    """The stored JSON text with objectId, dates and ACL put in front, as one object."""
    object_id, data, acl, created, updated = row
    head = f'{{"objectId":"{object_id}","createdAt":"{created}","updatedAt":"{updated}"'
    if acl is not None:
        head += f',"ACL":{acl}'
    rest = data[1:]  # the stored object's text after its "{"
    return (head + ("}" if rest.strip() == "}" else "," + rest)).encode()


async def _fetchone(sql: str, params: tuple[Any, ...]) -> Any:
    async with _pool.connection() as conn:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchone()


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _configure(conn: Any) -> None:
    from psycopg.types.string import TextLoader

    # JSON columns arrive as the text PostgreSQL sends: spliced, never decoded
    conn.adapters.register_loader("jsonb", TextLoader)


async def _lifespan(receive: Any, send: Any) -> None:
    global _pool
    from psycopg_pool import AsyncConnectionPool

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # backend_kit's pool size (servers.DB_POOL), and its statements prepared on
            # the server as backend_kit's are (PREPARED_STATEMENTS)
            _pool = AsyncConnectionPool(
                os.environ["CEILING_DATABASE_URL"],
                min_size=int(os.environ["DB_POOL_MIN"]),
                max_size=int(os.environ["DB_POOL_MAX"]),
                kwargs={"prepare_threshold": 5, "autocommit": True},
                configure=_configure,
                open=False,
            )
            await _pool.open()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def ceiling_process(database_url: str, workers: int) -> Process:
    port = free_port()
    env = {**os.environ, **DB_POOL, "CEILING_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return Process(
        name=f"Python ceiling (uvicorn, {workers} workers)",
        argv=uvicorn_argv("bench.http.ceiling:application", port, workers),
        env=env,
        cwd=ROOT,
        health_url=f"http://127.0.0.1:{port}/parse/health",
    )
