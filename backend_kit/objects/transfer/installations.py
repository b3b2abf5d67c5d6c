"""Parse's rules for ``_Installation`` applied to imports: one object per installationId.

Parse Server lower-cases ``installationId`` (and 64-character APNs ``deviceToken``\\ s)
when an installation is saved, and a device that saves again with the same id updates
its installation instead of creating another. Exports from old apps still hold
duplicates (ids differing in case, reinstalls saved twice); the import keeps the one
saved last, by ``updatedAt``, whether the other is in the same file or already stored.
These rules hold whichever :class:`ClassImporter` stores the rows (the push app adds
device records to them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from ..encoding import encode_object, load_json, to_datetime
from ..sql import compiler_for, connection, fetchall, tables
from .base import ID_LOOKUP_SLICE, MASTER, Counts
from .storing import ImportRow

INSTALLATION_CLASS = "_Installation"
_OLDEST = datetime.min.replace(tzinfo=UTC)


def normalise(row: ImportRow) -> None:
    """The ids as Parse Server stores them."""
    installation_id = row.data.get("installationId")
    if isinstance(installation_id, str):
        row.data["installationId"] = installation_id.lower()
    token = row.data.get("deviceToken")
    if isinstance(token, str) and len(token) == 64:
        row.data["deviceToken"] = token.lower()


def _saved_at(row: ImportRow) -> datetime:
    return row.updated_at or row.created_at or _OLDEST


def dedupe(rows: list[ImportRow], counts: Counts, warn: Callable[[str], None]) -> list[ImportRow]:
    """The rows to store; stored installations they supersede are deleted.

    Runs inside the batch's transaction. A row older than the stored installation with
    its id is skipped (counted as ``skipped``).
    """
    for row in rows:
        normalise(row)
    newest: dict[str, ImportRow] = {}
    without_id: list[ImportRow] = []  # found by deviceToken only, as Parse allows
    for row in rows:
        installation_id = row.data.get("installationId")
        if not isinstance(installation_id, str) or not installation_id:
            without_id.append(row)
            continue
        other = newest.get(installation_id)
        if other is not None:
            counts.skipped += 1  # the same device twice in the batch: the older goes
        if other is None or _saved_at(row) >= _saved_at(other):
            newest[installation_id] = row
    superseded: list[str] = []
    for installation_id, (object_id, updated_at) in _stored_with_ids(newest).items():
        row = newest[installation_id]
        if object_id == row.object_id:
            continue
        if _saved_at(row) >= updated_at:
            superseded.append(object_id)
        else:
            del newest[installation_id]  # what is stored was saved later
            counts.skipped += 1
    if superseded:
        _delete(superseded)
        warn(
            f"{INSTALLATION_CLASS}: replaced {len(superseded)} stored installations saved "
            "before with the same installationId"
        )
    return without_id + list(newest.values())


def _stored_with_ids(newest: dict[str, ImportRow]) -> dict[str, tuple[str, datetime]]:
    """installationId -> (objectId, updatedAt) of the stored installations holding them."""
    conn = connection(write=True)
    table, _ = tables(conn)
    expr = compiler_for(conn, INSTALLATION_CLASS, None, alias="o").text(("installationId",))
    ids = list(newest)
    found: dict[str, tuple[str, datetime]] = {}
    for start in range(0, len(ids), ID_LOOKUP_SLICE):
        part = ids[start : start + ID_LOOKUP_SLICE]
        marks = ", ".join(["%s"] * len(part))
        for object_id, installation_id, updated_at in fetchall(
            conn,
            f'SELECT o."object_id", {expr}, o."updated_at" FROM {table} AS o '
            f'WHERE o."class_name" = %s AND {expr} IN ({marks})',
            [INSTALLATION_CLASS, *part],
        ):
            found[installation_id] = (object_id, to_datetime(updated_at))
    return found


def _delete(object_ids: list[str]) -> None:
    """Delete stored installations; ``object_deleted`` goes out after commit, so the push
    app drops their device records."""
    from .. import signals

    conn = connection(write=True)
    table, _ = tables(conn)
    marks = ", ".join(["%s"] * len(object_ids))
    rows = fetchall(
        conn,
        f'SELECT "object_id", "data", "acl", "created_at", "updated_at" FROM {table} '
        f'WHERE "class_name" = %s AND "object_id" IN ({marks})',
        [INSTALLATION_CLASS, *object_ids],
    )
    with conn.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM {table} WHERE "class_name" = %s AND "object_id" IN ({marks})',
            [INSTALLATION_CLASS, *object_ids],
        )
    deleted: list[dict[str, Any]] = [
        encode_object(oid, load_json(data), load_json(acl), created, updated)
        for oid, data, acl, created, updated in rows
    ]

    def announce() -> None:
        for obj in deleted:
            signals.object_deleted.send_robust(
                sender=INSTALLATION_CLASS, object=obj, context=MASTER
            )

    transaction.on_commit(announce, using=conn.alias)
