"""The Python ceiling: the thinnest Python server that can answer the ``get`` operation.

A bare ASGI application under the same uvicorn, with the same number of workers and the
same PostgreSQL pool size as backend_kit, that checks the two keys, runs the statement
backend_kit issues for a ``GET /parse/classes/<class>/<id>`` (captured in
``bench/results/sql/backend_kit-get.sql``), and answers the object as JSON. No
framework, no schema, no class-level permissions, no session lookup, no hooks, no
metrics: what is left is the cost of Python, the ASGI server and the database driver.

It is not a server anyone should run. Its row tells how much of the distance between
backend_kit and Parse Server a Python server can close at all on this machine: if
the ceiling is at 2x Parse Server, backend_kit cannot be, whatever it skips.
"""

from __future__ import annotations

import os
import re
from typing import Any

import orjson

from .servers import APP_ID, DB_POOL, REST_KEY, ROOT, Process, free_port, uvicorn_argv

# backend_kit's own statement for a get by id (bench/results/sql/backend_kit-get.sql),
# with the class written in (as backend_kit's compiler.class_is does) and the reader's
# principals and the id as parameters.
GET_SQL = (
    'SELECT o."object_id", o."data", o."acl",'
    ' to_char(o."created_at" AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\'),'
    ' to_char(o."updated_at" AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')'
    ' FROM "backend_kit_objects_parseobject" AS o'
    ' WHERE o."class_name" = \'{class_name}\' AND (o."read_principals" ?| %s::text[])'
    ' AND (o."object_id" = %s) LIMIT 1'
)
CLASS_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
PUBLIC = "{*}"  # the principals of a request with no session: anyone's objects only

_pool: Any = None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/parse/health":
        await _answer(send, 200, b'{"status":"ok"}')
        return
    headers = dict(scope["headers"])
    if (
        headers.get(b"x-parse-application-id") != APP_ID.encode()
        or headers.get(b"x-parse-rest-api-key") != REST_KEY.encode()
    ):
        await _answer(send, 403, b'{"error":"unauthorized"}')
        return
    parts = path.split("/")  # "", "parse", "classes", class, id
    if (
        scope["method"] != "GET"
        or len(parts) != 5
        or parts[2] != "classes"
        or not CLASS_RE.match(parts[3])
    ):
        await _answer(send, 404, b'{"code":101,"error":"Object not found."}')
        return
    async with _pool.connection() as conn:
        cursor = await conn.execute(GET_SQL.format(class_name=parts[3]), (PUBLIC, parts[4]))
        row = await cursor.fetchone()
    if row is None:
        await _answer(send, 404, b'{"code":101,"error":"Object not found."}')
        return
    found = dict(row[1])
    found["objectId"], found["createdAt"], found["updatedAt"] = row[0], row[3], row[4]
    if row[2] is not None:
        found["ACL"] = row[2]
    await _answer(send, 200, orjson.dumps(found))


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
