"""``X-Parse-Request-Id``: refuse a repeated request on configured paths (159).

Each request id is stored as an ``_Idempotency`` object whose objectId is derived
from the id, so the objects table's unique key makes the claim atomic across
processes. Records expire after ``IDEMPOTENCY_TTL`` seconds; an expired record is
replaced. Configure with ``BACKEND_KIT["IDEMPOTENCY_PATHS"]`` (regular expressions
matched at the start of the path below the mount, e.g. ``"classes/Order"``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from functools import lru_cache

import orjson
from django.db import IntegrityError, transaction

from .codec import format_iso
from .conf import bk_settings
from .errors import Code, ParseError

CLASS_NAME = "_Idempotency"


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(p if p.startswith("^") else "^" + p) for p in patterns]


def applies(subpath: str) -> bool:
    patterns = tuple(bk_settings.IDEMPOTENCY_PATHS or ())
    return any(p.match(subpath) for p in _compiled(patterns))


def record_id(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:32]


def claim(request_id: str) -> None:
    """Record ``request_id`` or raise 159 if it was seen within the TTL."""
    from .objects.sql import connection, fetchone, tables
    from .objects.writes import now

    conn = connection(write=True)
    table, _ = tables(conn)
    oid = record_id(request_id)
    moment = now()
    expire = moment + timedelta(seconds=int(bk_settings.IDEMPOTENCY_TTL))
    data = orjson.dumps(
        {"reqId": request_id, "expire": {"__type": "Date", "iso": format_iso(expire)}}
    ).decode()
    j = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
    stamp = conn.ops.adapt_datetimefield_value(moment)
    with transaction.atomic(using=conn.alias):
        existing = fetchone(
            conn,
            f'SELECT "data" FROM {table} WHERE "class_name" = %s AND "object_id" = %s',
            [CLASS_NAME, oid],
        )
        if existing is not None:
            stored = existing[0] if isinstance(existing[0], dict) else orjson.loads(existing[0])
            if stored.get("expire", {}).get("iso", "") > format_iso(moment):
                raise ParseError(Code.DUPLICATE_REQUEST, "Duplicate request")
            with conn.cursor() as cursor:
                cursor.execute(
                    f'DELETE FROM {table} WHERE "class_name" = %s AND "object_id" = %s',
                    [CLASS_NAME, oid],
                )
        try:
            with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
                cursor.execute(
                    f'INSERT INTO {table} ("class_name", "object_id", "data", "acl", "read_principals", '
                    f'"write_principals", "created_at", "updated_at") VALUES (%s, %s, {j}, NULL, {j}, {j}, %s, %s)',
                    [CLASS_NAME, oid, data, "{}", "{}", stamp, stamp],
                )
        except IntegrityError:
            raise ParseError(Code.DUPLICATE_REQUEST, "Duplicate request")
