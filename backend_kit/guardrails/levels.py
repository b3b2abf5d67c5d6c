"""Usage levels (objects stored, file bytes stored), kept exact by database triggers.

Triggers on the objects table and the files table add every insert, delete (and file
size change) to :class:`~.models.UsageLevel` rows in the same transaction, whatever
wrote the row: the API, the admin, ``bk_import``, a purge, raw SQL. The level is the
sum of a metric's rows. On PostgreSQL the triggers are per statement (a purge of a
million rows is one update) and each connection adds to its own stripe, so writers do
not queue on one row. The triggers are (re)installed after every ``migrate``; when
they were missing, the level is recounted under a lock (``bk_usage --recount`` does
the same by hand, e.g. after a ``TRUNCATE``, which no trigger sees).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction

STRIPES = 16


@dataclass(frozen=True)
class Source:
    metric: str
    model: str  # app_label.ModelName
    size_column: str | None  # None: count rows


SOURCES = (
    Source("objects_stored", "backend_kit_objects.ParseObject", None),
    Source("file_bytes_stored", "backend_kit_files.StoredFile", "size"),
)


def lock_key(metric: str) -> int:
    """The PostgreSQL advisory lock that orders capped writes of ``metric``."""
    return zlib.crc32(f"backend_kit.guardrails.{metric}".encode())


def _levels_table() -> str:
    from .models import UsageLevel

    return UsageLevel._meta.db_table


def _model(source: Source) -> Any:
    try:
        return apps.get_model(source.model)
    except LookupError:
        return None


def alias_for(metric: str) -> str:
    source = next(s for s in SOURCES if s.metric == metric)
    model = _model(source)
    return (router.db_for_write(model) if model is not None else None) or "default"


def read(metric: str, *, using: str | None = None) -> int:
    alias = using or alias_for(metric)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(value), 0) FROM {_levels_table()} WHERE metric = %s", [metric]
        )
        return int(cursor.fetchone()[0])


def read_locked(metric: str, *, using: str) -> int:
    """The level as every earlier capped write left it (call inside the transaction).

    On PostgreSQL an advisory lock, held until commit, orders the capped writes: each
    one sees all committed ones plus its own, so a cap is never passed. SQLite writes
    one transaction at a time anyway.
    """
    conn = connections[using]
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(metric)])
    return read(metric, using=using)


# --- installation --------------------------------------------------------------------


def _names(source: Source) -> dict[str, str]:
    short = "obj" if source.size_column is None else "bytes"
    return {event: f"bk_gr_{short}_{event}" for event in ("ins", "del", "upd")}


def _events(source: Source) -> tuple[str, ...]:
    return ("ins", "del") if source.size_column is None else ("ins", "del", "upd")


def _pg_sql(source: Source, table: str) -> list[str]:
    levels = _levels_table()
    names = _names(source)
    amount = "count(*)" if source.size_column is None else f"COALESCE(SUM({source.size_column}), 0)"
    statements = [
        f"""CREATE OR REPLACE FUNCTION bk_gr_level_add(m text, delta bigint) RETURNS void
        LANGUAGE sql AS $$
          INSERT INTO {levels} (metric, stripe, value) VALUES (m, pg_backend_pid() % {STRIPES}, delta)
          ON CONFLICT (metric, stripe) DO UPDATE SET value = {levels}.value + EXCLUDED.value;
        $$"""
    ]
    bodies = {
        "ins": f"SELECT {amount} INTO n FROM new_rows;",
        "del": f"SELECT -{amount} INTO n FROM old_rows;",
        "upd": f"SELECT (SELECT {amount} FROM new_rows) - (SELECT {amount} FROM old_rows) INTO n;",
    }
    referencing = {
        "ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
        "del": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
        "upd": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    }
    for event in _events(source):
        name = names[event]
        statements.append(
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE n bigint;
            BEGIN
              {bodies[event]}
              IF n <> 0 THEN PERFORM bk_gr_level_add('{source.metric}', n); END IF;
              RETURN NULL;
            END $$"""
        )
        op, refs = referencing[event]
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {op} ON {table} {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements


def _sqlite_sql(source: Source, table: str) -> list[str]:
    levels = _levels_table()
    names = _names(source)
    ensure = (
        f"INSERT OR IGNORE INTO {levels} (metric, stripe, value) VALUES ('{source.metric}', 0, 0);"
    )
    where = f"WHERE metric = '{source.metric}' AND stripe = 0;"
    if source.size_column is None:
        deltas = {"ins": "1", "del": "-1"}
        when = {"ins": "", "del": ""}
    else:
        col = source.size_column
        deltas = {
            "ins": f"COALESCE(NEW.{col}, 0)",
            "del": f"-COALESCE(OLD.{col}, 0)",
            "upd": f"COALESCE(NEW.{col}, 0) - COALESCE(OLD.{col}, 0)",
        }
        when = {
            "ins": "",
            "del": "",
            "upd": f"WHEN COALESCE(NEW.{col}, 0) <> COALESCE(OLD.{col}, 0)",
        }
    ops = {"ins": "INSERT", "del": "DELETE", "upd": "UPDATE"}
    statements = []
    for event in _events(source):
        name = names[event]
        statements.append(f"DROP TRIGGER IF EXISTS {name}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {ops[event]} ON {table} {when[event]} BEGIN "
            f"{ensure} UPDATE {levels} SET value = value + ({deltas[event]}) {where} END"
        )
    return statements


def _installed(conn: Any, names: list[str]) -> bool:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)", [names])
        else:
            marks = ",".join("%s" for _ in names)
            cursor.execute(
                f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
                names,
            )
        return int(cursor.fetchone()[0]) == len(names)


def install(using: str | None = None, *, force: bool = False) -> list[str]:
    """Install the level triggers where missing (and recount those levels); returns
    the metrics (re)installed."""
    done = []
    for source in SOURCES:
        model = _model(source)
        if model is None:
            continue
        alias = using or router.db_for_write(model) or "default"
        if not router.allow_migrate_model(alias, model):
            continue
        conn = connections[alias]
        if conn.vendor not in ("postgresql", "sqlite"):
            continue
        table = conn.ops.quote_name(model._meta.db_table)
        names = [_names(source)[e] for e in _events(source)]
        if not force and _installed(conn, names):
            continue
        sql = _pg_sql(source, table) if conn.vendor == "postgresql" else _sqlite_sql(source, table)
        with transaction.atomic(using=alias), conn.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
            _recount(conn, source, table)
        done.append(source.metric)
    return done


def recount(metric: str | None = None) -> dict[str, int]:
    """Set levels to what the tables hold now (the tables are locked meanwhile)."""
    found = {}
    for source in SOURCES:
        if metric and source.metric != metric:
            continue
        model = _model(source)
        if model is None:
            continue
        alias = router.db_for_write(model) or "default"
        conn = connections[alias]
        table = conn.ops.quote_name(model._meta.db_table)
        with transaction.atomic(using=alias):
            found[source.metric] = _recount(conn, source, table)
    return found


def _recount(conn: Any, source: Source, table: str) -> int:
    levels = _levels_table()
    amount = "count(*)" if source.size_column is None else f"COALESCE(SUM({source.size_column}), 0)"
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # writers wait until the new level is in place; readers go on
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT {amount} FROM {table}")
        total = int(cursor.fetchone()[0])
        cursor.execute(f"DELETE FROM {levels} WHERE metric = %s", [source.metric])
        cursor.execute(
            f"INSERT INTO {levels} (metric, stripe, value) VALUES (%s, 0, %s)",
            [source.metric, total],
        )
    return total
