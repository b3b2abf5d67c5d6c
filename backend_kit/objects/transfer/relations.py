"""Importing relation memberships (``_Join:<key>:<Owner>``: ``{owningId, relatedId}`` pairs)."""

from __future__ import annotations

from ..sql import connection, tables
from .storing import insert_rows

COLUMNS = ["owner_class", "owner_id", "key", "related_class", "related_id"]


def store_pairs(owner: str, key: str, target: str, pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """Add the pairs that are missing; ``(created, already there)``.

    One ``INSERT ... ON CONFLICT DO NOTHING`` per batch (``executemany`` on SQLite): the
    unique constraint on (owner class, key, owner, related) tells new pairs from known ones.
    """
    conn = connection(write=True)
    _, relation_table = tables(conn)
    unique = list(dict.fromkeys(pairs))
    with conn.cursor() as cursor:
        created = insert_rows(
            cursor,
            relation_table,
            [(name, "text") for name in COLUMNS],
            [[owner, owning, key, target, related] for owning, related in unique],
            " ON CONFLICT DO NOTHING",
        )
    return created, len(unique) - created
