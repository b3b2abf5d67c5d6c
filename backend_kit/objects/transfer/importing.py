"""Running an import: which inputs, in which order, in batches of one transaction each."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from ...codec import describe_type, is_valid_class_name, is_valid_field_name, types_compatible
from ...errors import ParseError
from ..schema import Schema, clear_cache, default_fields, get_schema, schema_for_write
from ..sql import db_alias
from . import installations
from .base import (
    MASTER,
    SCHEMA_FILE,
    Counts,
    ImportOptions,
    ProgressFactory,
    RecordError,
    TransferError,
    no_progress,
)
from .importers import ClassImporter, importer_for
from .mongo import is_mongo_document, mongo_schema_to_api, mongo_to_rest, plain_json
from .reading import CountingReader, iter_records
from .relations import store_pairs
from .schemas import apply_schema
from .storing import ImportRow

JOIN_FILE_RE = re.compile(r"^_Join:(?P<key>[^:]+):(?P<owner>[^:]+)$")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
# Classes a directory imports before the others (then by file name): users first, so
# what refers to them as it is stored (device records of installations) finds them.
FIRST_CLASSES = {"_User": 0, "_Role": 1}


@dataclass
class Source:
    """One input of an import: a schema list, the objects of a class, or relation pairs."""

    kind: str  # "schema" | "objects" | "relation"
    label: str
    class_name: str = ""  # objects: the class; relation: the owner class
    key: str = ""  # relation: the Relation field
    path: Path | None = None  # None: standard input


def source_for_file(path: Path, class_name: str | None = None) -> Source:
    """What a file holds, from its name as ``bk_export`` and Parse write it."""
    stem = path.name
    for suffix in JSON_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem == SCHEMA_FILE:
        return Source("schema", path.name, path=path)
    join = JOIN_FILE_RE.match(stem)
    if join:
        owner, key = join.group("owner"), join.group("key")
        if not is_valid_class_name(owner) or not is_valid_field_name(key):
            raise TransferError(f"{path.name}: not a valid _Join:<field>:<Class> file name")
        return Source("relation", path.name, owner, key, path=path)
    name = class_name or stem
    if not is_valid_class_name(name):
        raise TransferError(f"{path.name}: invalid class name {name!r}; name it with --class")
    return Source("objects", path.name, name, path=path)


class Importer:
    """Runs an import; ``warn`` receives skipped records and other notes for the operator."""

    def __init__(
        self,
        options: ImportOptions | None = None,
        *,
        progress: ProgressFactory = no_progress,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.options = options or ImportOptions()
        self.progress = progress
        self.warn = warn
        self.batches_written = 0  # committed transactions (none in a dry run)

    # entry points

    def run(
        self, path: str, class_name: str | None = None, stdin: IO[bytes] | None = None
    ) -> list[tuple[str, Counts]]:
        """Import a file, a directory or (``-``) standard input; per input: its counts."""
        sources = self.plan(path, class_name)
        if not self.options.dry_run:
            return [(s.label, self.import_source(s, class_name, stdin)) for s in sources]
        # One transaction for all, rolled back: later inputs see the earlier ones.
        try:
            with transaction.atomic(using=db_alias(write=True)):
                results = [(s.label, self.import_source(s, class_name, stdin)) for s in sources]
                transaction.set_rollback(True, using=db_alias(write=True))
        finally:
            clear_cache()
        return results

    def plan(self, path: str, class_name: str | None = None) -> list[Source]:
        if class_name is not None and not is_valid_class_name(class_name):
            raise TransferError(f"invalid class name {class_name!r}")
        if path == "-":
            if class_name is None:
                raise TransferError("reading standard input needs --class")
            return [Source("objects", "<stdin>", class_name)]
        target = Path(path)
        if target.is_file():
            return [source_for_file(target, class_name)]
        if not target.is_dir():
            raise TransferError(f"{path}: no such file or directory")
        order = {"schema": 0, "objects": 1, "relation": 2}
        sources = []
        for entry in sorted(target.iterdir()):
            if not entry.is_file() or not entry.name.endswith(JSON_SUFFIXES):
                continue
            try:
                source = source_for_file(entry)
            except TransferError as exc:
                self.warn(f"skipped {exc}")
                continue
            if class_name is None or source.kind == "schema" or source.class_name == class_name:
                sources.append(source)
        return sorted(
            sources,
            key=lambda s: (order[s.kind], FIRST_CLASSES.get(s.class_name, len(FIRST_CLASSES))),
        )

    def import_source(
        self, source: Source, only_class: str | None = None, stdin: IO[bytes] | None = None
    ) -> Counts:
        if source.path is None:
            return self._import_records(
                source, iter_records(stdin or sys.stdin.buffer, source.label)
            )
        size = source.path.stat().st_size
        bar = self.progress(source.label, size, "B")
        try:
            with open(source.path, "rb") as raw:
                records = iter_records(CountingReader(raw, bar), source.label, source.path)
                return self._import_records(source, records, only_class)
        finally:
            bar.close()

    def _import_records(
        self, source: Source, records: Iterator[Any], only_class: str | None = None
    ) -> Counts:
        if source.kind == "schema":
            return self.import_schemas(records, only_class)
        if source.kind == "relation":
            return self.import_relations(source.class_name, source.key, records)
        return self.import_objects(source.class_name, records)

    @contextmanager
    def _batch(self) -> Iterator[None]:
        with transaction.atomic(using=db_alias(write=True)):
            yield
        if not self.options.dry_run:
            self.batches_written += 1

    # objects

    def import_objects(self, class_name: str, records: Iterable[Any]) -> Counts:
        importer = importer_for(class_name)
        counts = Counts()
        reason = importer.skip_reason(class_name, self.options)
        if reason is not None:
            self.warn(f"{class_name}: not imported: {reason}")
            return counts
        batch: dict[str, ImportRow] = {}
        schema = get_schema(class_name)  # read once per batch, not per record

        def write() -> None:
            nonlocal schema
            if batch:
                self._write_objects(importer, class_name, batch, counts)
                schema = get_schema(class_name)

        for index, record in enumerate(records, 1):
            try:
                row = importer.convert(
                    class_name, self._rest_form(class_name, schema, record, index)
                )
            except RecordError as exc:
                self._failed(exc, counts)
                continue
            if row.object_id in batch:  # the same object twice: the later one wins
                write()
            batch[row.object_id] = row
            if len(batch) >= self.options.batch_size:
                write()
        write()
        return counts

    def _rest_form(
        self, class_name: str, schema: Schema | None, record: Any, index: int
    ) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise RecordError(class_name, f"#{index}", "a record must be a JSON object")
        if is_mongo_document(record):
            try:
                record = mongo_to_rest(class_name, record, schema)
            except (ValueError, TypeError, AttributeError, IndexError) as exc:
                raise RecordError(class_name, record.get("_id"), str(exc)) from None
        object_id = record.get("objectId")
        if not isinstance(object_id, str) or not 0 < len(object_id) <= 64:
            raise RecordError(
                class_name, f"#{index}", "objectId must be a string of 1 to 64 characters"
            )
        return record

    def _write_objects(
        self, importer: ClassImporter, class_name: str, batch: dict[str, ImportRow], counts: Counts
    ) -> None:
        rows = list(batch.values())
        batch.clear()
        with self._batch():
            refused = importer.problems(class_name, rows, self.options)
            if refused:
                for object_id, why in refused.items():
                    self._failed(RecordError(class_name, object_id, why), counts)
                rows = [row for row in rows if row.object_id not in refused]
            if class_name == installations.INSTALLATION_CLASS:
                rows = installations.dedupe(rows, counts, self.warn)
            if importer.stores_objects:
                rows = self._merge_schema(class_name, rows, counts)
            if rows:
                counts.add(importer.write_batch(class_name, rows, self.options))

    def _merge_schema(
        self, class_name: str, rows: list[ImportRow], counts: Counts
    ) -> list[ImportRow]:
        """Add the batch's new fields to the schema; rows with a type conflict fail."""
        schema = get_schema(class_name)
        known = dict(schema.fields) if schema is not None else default_fields(class_name)
        new_fields: dict[str, dict[str, Any]] = {}
        accepted = []
        for row in rows:
            try:
                for name, ftype in row.types.items():
                    current = known.get(name)
                    if current is not None and not types_compatible(current, ftype):
                        raise RecordError(
                            class_name,
                            row.object_id,
                            f"schema mismatch: expected {describe_type(current)} "
                            f"but got {describe_type(ftype)}",
                            name,
                        )
            except RecordError as exc:
                self._failed(exc, counts)
                continue
            for name, ftype in row.types.items():
                if name not in known:
                    known[name] = new_fields[name] = ftype
            accepted.append(row)
        try:
            schema_for_write(MASTER, class_name, new_fields, is_update=False)
        except ParseError as exc:
            raise TransferError(f"{class_name}: {exc.message}") from None
        return accepted

    def _failed(self, exc: RecordError, counts: Counts) -> None:
        if not self.options.continue_on_error:
            raise exc
        counts.errors += 1
        self.warn(f"skipped {exc}")

    # relations

    # relations

    def import_relations(self, owner: str, key: str, records: Iterable[Any]) -> Counts:
        schema = get_schema(owner)
        spec = schema.fields.get(key) if schema is not None else None
        if not spec or spec.get("type") != "Relation":
            raise TransferError(
                f"_Join:{key}:{owner}: {owner}.{key} is not a Relation field in the schema "
                "(import _SCHEMA.json or the class first)"
            )
        counts = Counts()
        pairs: list[tuple[str, str]] = []
        for index, record in enumerate(records, 1):
            owning = record.get("owningId") if isinstance(record, dict) else None
            related = record.get("relatedId") if isinstance(record, dict) else None
            if not isinstance(owning, str) or not isinstance(related, str):
                self._failed(
                    RecordError(
                        f"_Join:{key}:{owner}", f"#{index}", "needs owningId and relatedId strings"
                    ),
                    counts,
                )
                continue
            pairs.append((owning, related))
            if len(pairs) >= self.options.batch_size:
                self._write_relations(owner, key, spec["targetClass"], pairs, counts)
        self._write_relations(owner, key, spec["targetClass"], pairs, counts)
        return counts

    def _write_relations(
        self, owner: str, key: str, target: str, pairs: list[tuple[str, str]], counts: Counts
    ) -> None:
        with self._batch():
            created, unchanged = store_pairs(owner, key, target, pairs)
            importer_for(owner).relations_written(owner, key)
        counts.created += created
        counts.unchanged += unchanged
        pairs.clear()

    # schemas

    def import_schemas(self, records: Iterable[Any], only_class: str | None = None) -> Counts:
        counts = Counts()
        for index, record in enumerate(records, 1):
            if not isinstance(record, dict):
                self._failed(
                    RecordError(SCHEMA_FILE, f"#{index}", "a schema must be a JSON object"), counts
                )
                continue
            api = (
                mongo_schema_to_api(plain_json(record))
                if "_id" in record and "className" not in record
                else record
            )
            if only_class is not None and api.get("className") != only_class:
                continue
            try:
                with self._batch():
                    outcome = apply_schema(api, index, self.warn)
            except RecordError as exc:
                self._failed(exc, counts)
                continue
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        return counts
