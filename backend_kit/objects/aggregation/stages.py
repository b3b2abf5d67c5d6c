"""Pipeline stages: how each is read from the request and evaluated in Python.

Every stage is validated before anything runs, so bad input is a 102 error and never a
partial answer. Stages take and give iterators of rows, which lets documents stream
through; only ``$sort`` (and ``$group``, per group) has to hold rows.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..query import ast
from ..query.matcher import Matcher
from .group import Group, parse_group
from .values import (
    MISSING,
    SEGMENT_RE,
    FieldPath,
    bad,
    bson_key,
    parse_path,
    parse_ref,
    resolve,
    with_value,
    without_value,
)

Rows = Iterable[dict[str, Any]]


@dataclass
class Match:
    """``$match`` with Parse ``where`` syntax (plus MongoDB's ``_id`` and pointer ids)."""

    where: dict[str, Any]
    node: ast.Node | None = None  # set by the executor once the row shape is known
    matcher: Matcher | None = None
    # Rows whose objectId is a group key are matched through this alias (see executor).
    key_alias: str | None = None

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        assert self.node is not None and self.matcher is not None
        for row in rows:
            probe = row
            if self.key_alias is not None and "objectId" in row:
                probe = {**row, self.key_alias: row["objectId"]}
            if self.matcher.matches(self.node, probe):
                yield row


@dataclass
class Project:
    include: bool
    keep_id: bool = True
    paths: list[FieldPath] = field(default_factory=list)
    computed: list[tuple[FieldPath, FieldPath]] = field(default_factory=list)

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        for row in rows:
            if self.include:
                out: dict[str, Any] = {}
                if self.keep_id and "objectId" in row:
                    out["objectId"] = row["objectId"]
                for path in self.paths:
                    value = resolve(row, path)
                    if value is not MISSING:
                        out = with_value(out, path.parts, value)
                for target, source in self.computed:
                    value = resolve(row, source)
                    if value is not MISSING:
                        out = with_value(out, target.parts, value)
            else:
                out = row
                for path in self.paths:
                    out = without_value(out, path.parts)
                if not self.keep_id:
                    out = without_value(out, ("objectId",))
            yield out


@dataclass
class Sort:
    keys: list[tuple[FieldPath, int]]
    limit: int | None = None  # a $limit right after: keep only the first rows (top-k)

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        directions = [direction for _, direction in self.keys]

        def compare(a: tuple[int, list[Any], Any], b: tuple[int, list[Any], Any]) -> int:
            for ka, kb, direction in zip(a[1], b[1], directions, strict=True):
                if ka != kb:
                    return direction if ka > kb else -direction
            return a[0] - b[0]  # stable: equal rows keep their order

        # Sort keys are computed once per row, not once per comparison.
        decorated = (
            (i, [bson_key(resolve(row, path)) for path, _ in self.keys], row)
            for i, row in enumerate(rows)
        )
        key = functools.cmp_to_key(compare)
        if self.limit is not None:
            ordered = heapq.nsmallest(self.limit, decorated, key=key)
        else:
            ordered = sorted(decorated, key=key)
        for _, _, row in ordered:
            yield row


@dataclass
class Limit:
    count: int

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        return itertools.islice(rows, self.count)


@dataclass
class Skip:
    count: int

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        return itertools.islice(rows, self.count, None)


@dataclass
class Unwind:
    path: FieldPath
    index_field: str | None = None
    preserve_empty: bool = False

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        parts = self.path.parts
        for row in rows:
            value = resolve(row, self.path)
            if isinstance(value, list) and value:
                for i, element in enumerate(value):
                    yield self._indexed(with_value(row, parts, element), i)
            elif value is MISSING or value is None or value == []:
                if self.preserve_empty:
                    # MongoDB leaves an empty array out of the document it keeps.
                    kept = without_value(row, parts) if value == [] else row
                    yield self._indexed(kept, None)
            else:
                # A non-array value counts as an array of itself, as in MongoDB.
                yield self._indexed(row, None)

    def _indexed(self, row: dict[str, Any], index: int | None) -> dict[str, Any]:
        if self.index_field is None:
            return row
        return {**row, self.index_field: index}


@dataclass
class Count:
    name: str

    def run(self, rows: Rows) -> Iterator[dict[str, Any]]:
        total = sum(1 for _ in rows)
        if total:  # no documents, no count document (MongoDB)
            yield {self.name: total}


Stage = Match | Project | Sort | Limit | Skip | Unwind | Count | Group


# --- parsing -------------------------------------------------------------------------------


def _int(value: Any, stage: str, minimum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum > 0 else "a non-negative"
        raise bad(f"{stage} must be {kind} integer, got {value!r}")
    return value


def _object(value: Any, stage: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(f"{stage} must be an object")
    return value


def _new_field_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not SEGMENT_RE.match(value):
        raise bad(f"{where} must be a field name (letters, digits, _), got {value!r}")
    return value


def parse_match(value: Any) -> Match:
    return Match(_object(value, "$match"))


def parse_project(value: Any) -> Project:
    spec = _object(value, "$project")
    if not spec:
        raise bad("$project must name at least one field")
    keep_id, paths, excluded, computed = True, [], [], []
    for key, flag in spec.items():
        path = parse_path(key, "$project")
        included = isinstance(flag, (bool, int, float)) and bool(flag)
        if path.name == "objectId" and isinstance(flag, (bool, int, float)):
            keep_id = included
        elif isinstance(flag, str):
            computed.append((path, parse_ref(flag, f"$project {key}")))
        elif not isinstance(flag, (bool, int, float)) or flag not in (0, 1):
            raise bad(f'$project {key}: use 1, 0 or a field reference such as "$score"')
        elif included:
            paths.append(path)
        else:
            excluded.append(path)
    if excluded and (paths or computed):
        raise bad("$project cannot mix inclusion and exclusion (except for _id)")
    if excluded or (not paths and not computed and not keep_id):
        return Project(include=False, keep_id=keep_id, paths=excluded)
    return Project(include=True, keep_id=keep_id, paths=paths, computed=computed)


def parse_sort(value: Any) -> Sort:
    spec = _object(value, "$sort")
    if not spec:
        raise bad("$sort must name at least one field")
    keys = []
    for key, direction in spec.items():
        if isinstance(direction, bool) or direction not in (1, -1):
            raise bad(f"$sort {key}: direction must be 1 or -1")
        keys.append((parse_path(key, "$sort"), int(direction)))
    return Sort(keys)


def parse_unwind(value: Any) -> Unwind:
    if isinstance(value, str):
        return Unwind(parse_ref(value, "$unwind"))
    spec = _object(value, "$unwind")
    unknown = set(spec) - {"path", "includeArrayIndex", "preserveNullAndEmptyArrays"}
    if unknown:
        raise bad(f"$unwind: unknown option {sorted(unknown)[0]!r}")
    index_field = spec.get("includeArrayIndex")
    if index_field is not None:
        index_field = _new_field_name(index_field, "$unwind includeArrayIndex")
    preserve = spec.get("preserveNullAndEmptyArrays", False)
    if not isinstance(preserve, bool):
        raise bad("$unwind preserveNullAndEmptyArrays must be true or false")
    return Unwind(parse_ref(spec.get("path"), "$unwind path"), index_field, preserve)


PARSERS: dict[str, Callable[[Any], Stage]] = {
    "$match": parse_match,
    "$group": parse_group,
    "$project": parse_project,
    "$sort": parse_sort,
    "$limit": lambda v: Limit(_int(v, "$limit", 1)),
    "$skip": lambda v: Skip(_int(v, "$skip", 0)),
    "$unwind": parse_unwind,
    "$count": lambda v: Count(_new_field_name(v, "$count")),
}


def parse_stage(name: str, value: Any) -> Stage:
    stage_name = name if name.startswith("$") else "$" + name
    parser = PARSERS.get(stage_name)
    if parser is None:
        raise bad(
            f"Invalid aggregate stage '{name}'. Supported stages: {', '.join(sorted(PARSERS))}."
        )
    return parser(value)
