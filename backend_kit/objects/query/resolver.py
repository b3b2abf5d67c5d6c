"""Sub-query answers for the in-memory matcher, read from the database.

LiveQuery and triggers evaluate ``$inQuery``, ``$select`` and ``$relatedTo`` by
running the sub-query once (with the subscriber's ACL principals) and matching the
rest of the query in memory.
"""

from __future__ import annotations

from typing import Any

from ..encoding import load_json
from ..models import RelationEntry
from ..sql import connection, fetchall, tables
from . import ast


class DatabaseResolver:
    def __init__(self, principals: list[str] | None) -> None:
        self.principals = principals

    def _where(self, query: ast.SubQuery) -> tuple[Any, str, list[Any]]:
        from ..sql import where_clause

        conn = connection()
        sql, params = where_clause(conn, query.class_name, query.where, self.principals)
        return conn, sql, params

    def ids(self, query: ast.SubQuery) -> set[str]:
        conn, where, params = self._where(query)
        table, _ = tables(conn)
        return {
            row[0]
            for row in fetchall(
                conn, f'SELECT o."object_id" FROM {table} AS o WHERE {where}', params
            )
        }

    def key_values(self, query: ast.SubQuery) -> list[Any]:
        conn, where, params = self._where(query)
        table, _ = tables(conn)
        key = query.key_field
        assert key is not None
        if key.column == "object_id":
            return [
                row[0]
                for row in fetchall(
                    conn, f'SELECT o."object_id" FROM {table} AS o WHERE {where}', params
                )
            ]
        values = []
        for (data,) in fetchall(conn, f'SELECT o."data" FROM {table} AS o WHERE {where}', params):
            current: Any = load_json(data)
            for part in key.path:
                current = current.get(part) if isinstance(current, dict) else None
            if current is not None:
                values.append(current)
        return values

    def related_ids(self, owner_class: str, owner_id: str, key: str) -> set[str]:
        return set(
            RelationEntry.objects.filter(
                owner_class=owner_class, owner_id=owner_id, key=key
            ).values_list("related_id", flat=True)
        )

    def relation_owner_ids(self, owner_class: str, key: str, related_ids: list[str]) -> set[str]:
        return set(
            RelationEntry.objects.filter(
                owner_class=owner_class, key=key, related_id__in=related_ids
            ).values_list("owner_id", flat=True)
        )
