"""Writing classes and relations as Parse's JSON export, one chunk at a time."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from ...codec import is_valid_class_name
from ..encoding import encode_object, load_json
from ..models import ParseObject, RelationEntry
from ..schema import all_schemas, get_schema
from ..sql import connection, db_alias, fetchall, tables
from .base import SCHEMA_FILE, ProgressFactory, TransferError, no_progress


def iter_object_chunks(class_name: str, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a class in objectId order, ``batch_size`` per query (keyset pagination)."""
    conn = connection()
    object_table, _ = tables(conn)
    last = ""
    while True:
        rows = fetchall(
            conn,
            f'SELECT "object_id", "data", "acl", "created_at", "updated_at" FROM {object_table} '
            f'WHERE "class_name" = %s AND "object_id" > %s ORDER BY "object_id" LIMIT %s',
            [class_name, last, batch_size],
        )
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


def iter_relation_chunks(
    owner: str, key: str, batch_size: int
) -> Iterator[list[tuple[int, str, str]]]:
    entries = RelationEntry.objects.using(db_alias()).filter(owner_class=owner, key=key)
    last = 0
    while True:
        rows = list(
            entries.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "owner_id", "related_id")[:batch_size]
        )
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


class Exporter:
    """Writes classes as ``{"results": [...]}`` one chunk at a time."""

    def __init__(self, batch_size: int = 1000, *, progress: ProgressFactory = no_progress) -> None:
        self.batch_size = batch_size
        self.progress = progress

    def class_names(self) -> list[str]:
        """Every class with a schema or with objects."""
        stored = ParseObject.objects.using(db_alias()).values_list("class_name", flat=True)
        return sorted({s.class_name for s in all_schemas()} | set(stored.distinct()))

    def check_class(self, class_name: str) -> None:
        if not is_valid_class_name(class_name):
            raise TransferError(f"invalid class name {class_name!r}")
        if get_schema(class_name) is None and not (
            ParseObject.objects.using(db_alias()).filter(class_name=class_name).exists()
        ):
            raise TransferError(f"class {class_name} does not exist")

    def export_class(self, class_name: str, out: IO[str]) -> int:
        schema = get_schema(class_name)
        relations = {
            name: spec["targetClass"]
            for name, spec in (schema.fields.items() if schema is not None else ())
            if spec.get("type") == "Relation"
        }
        total = ParseObject.objects.using(db_alias()).filter(class_name=class_name).count()
        chunks = (
            [
                encode_object(
                    oid,
                    load_json(data),
                    load_json(acl),
                    created,
                    updated,
                    relation_fields=relations,
                )
                for oid, data, acl, created, updated in rows
            ]
            for rows in iter_object_chunks(class_name, self.batch_size)
        )
        return self._write_results(out, chunks, class_name, total)

    def export_relation(self, owner: str, key: str, out: IO[str]) -> int:
        total = RelationEntry.objects.using(db_alias()).filter(owner_class=owner, key=key).count()
        chunks = (
            [{"owningId": o, "relatedId": r} for _pk, o, r in rows]
            for rows in iter_relation_chunks(owner, key, self.batch_size)
        )
        return self._write_results(out, chunks, f"_Join:{key}:{owner}", total)

    def _write_results(
        self, out: IO[str], chunks: Iterable[list[dict[str, Any]]], label: str, total: int
    ) -> int:
        bar = self.progress(label, total, "obj")
        count = 0
        out.write('{"results": [')
        try:
            for chunk in chunks:
                for obj in chunk:
                    out.write(("\n" if count == 0 else ",\n") + orjson.dumps(obj).decode())
                    count += 1
                bar.update(len(chunk))
        finally:
            bar.close()
        out.write("\n]}\n")
        return count

    def export_directory(
        self, directory: Path, class_names: list[str] | None = None
    ) -> list[tuple[str, int]]:
        """``<Class>.json`` per class, ``_SCHEMA.json`` and ``_Join:<key>:<Class>.json`` files."""
        names = class_names if class_names is not None else self.class_names()
        for name in names:
            self.check_class(name)
        directory.mkdir(parents=True, exist_ok=True)
        written: list[tuple[str, int]] = []
        schemas = [s.to_api() for s in (get_schema(n) for n in names) if s is not None]
        with _atomic_file(directory / f"{SCHEMA_FILE}.json") as out:
            out.write(
                orjson.dumps({"results": schemas}, option=orjson.OPT_INDENT_2).decode() + "\n"
            )
        written.append((f"{SCHEMA_FILE}.json", len(schemas)))
        for name in names:
            with _atomic_file(directory / f"{name}.json") as out:
                written.append((f"{name}.json", self.export_class(name, out)))
        joins = (
            RelationEntry.objects.using(db_alias())
            .filter(owner_class__in=names)
            .values_list("owner_class", "key")
            .distinct()
            .order_by("owner_class", "key")
        )
        for owner, key in joins:
            label = f"_Join:{key}:{owner}.json"
            with _atomic_file(directory / label) as out:
                written.append((label, self.export_relation(owner, key, out)))
        return written


class _atomic_file:
    """Write to ``<name>.partial`` and rename on success: no half-written export files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")

    def __enter__(self) -> IO[str]:
        self.out = open(self.partial, "w", encoding="utf-8")
        return self.out

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.out.close()
        if exc_type is None:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


def open_output(path: str) -> _atomic_file:
    return _atomic_file(Path(path))
