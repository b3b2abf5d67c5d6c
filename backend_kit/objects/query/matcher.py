"""Evaluate a parsed query against one object in memory (LiveQuery, triggers).

Objects are in the stored form: a dict of fields plus ``objectId``, ``createdAt``
and ``updatedAt`` (ISO strings). Sub-queries (``$inQuery``, ``$select``,
``$relatedTo``) need the database: the caller passes a :class:`SubQueryResolver`.
"""

from __future__ import annotations

from typing import Any, Protocol

from . import ast
from .functions import distance_radians, point_in_polygon, regex_match, text_match

MISSING = object()


class SubQueryResolver(Protocol):
    def ids(self, query: ast.SubQuery) -> set[str]: ...

    def key_values(self, query: ast.SubQuery) -> list[Any]: ...

    def related_ids(self, owner_class: str, owner_id: str, key: str) -> set[str]: ...

    def relation_owner_ids(
        self, owner_class: str, key: str, related_ids: list[str]
    ) -> set[str]: ...


class NoSubQueries:
    def _fail(self, *args: Any) -> Any:
        raise CannotMatch("sub-queries cannot be evaluated here")

    ids = key_values = related_ids = relation_owner_ids = _fail


class CannotMatch(Exception):
    """The query needs something the matcher cannot evaluate."""


COLUMN_KEYS = {"object_id": "objectId", "created_at": "createdAt", "updated_at": "updatedAt"}


def field_value(obj: dict[str, Any], field: ast.FieldRef) -> Any:
    if field.column:
        value = obj.get(COLUMN_KEYS[field.column], MISSING)
        if field.column != "object_id" and isinstance(value, dict):
            return value.get("iso", MISSING)
        return value
    current: Any = obj
    for part in field.path:
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def stored_kind(value: Any) -> tuple[str | None, Any]:
    """(comparison kind, comparable value) of a stored value."""
    if value is None:
        return ast.NULL, None
    if isinstance(value, bool):
        return ast.BOOLEAN, value
    if isinstance(value, (int, float)):
        return ast.NUMBER, value
    if isinstance(value, str):
        return ast.STRING, value
    if isinstance(value, list):
        return ast.ARRAY, value
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind == "Date":
            return ast.DATE, value.get("iso")
        if kind in ("Pointer", "Object"):
            return ast.POINTER, (value.get("className"), value.get("objectId"))
        if kind == "File":
            return ast.FILE, value.get("name")
        if kind == "GeoPoint":
            return ast.GEOPOINT, (value.get("latitude"), value.get("longitude"))
        if kind == "Bytes":
            return ast.BYTES, value.get("base64")
        if kind == "Polygon":
            return ast.POLYGON, value.get("coordinates")
        return ast.OBJECT, value
    return None, value


def _as_kind(raw: Any, field: ast.FieldRef) -> tuple[str | None, Any]:
    if field.column and field.column != "object_id" and isinstance(raw, str):
        return ast.DATE, raw
    if field.kind == ast.DATE and isinstance(raw, str):
        return ast.DATE, raw
    return stored_kind(raw)


def values_equal(stored: Any, value: ast.Value, field: ast.FieldRef) -> bool:
    kind, comparable = _as_kind(stored, field)
    if kind != value.kind:
        return False
    if kind == ast.POINTER:
        return comparable == tuple(value.value)
    if kind == ast.GEOPOINT:
        return tuple(comparable) == tuple(value.value)
    if kind == ast.POLYGON and isinstance(value.value, dict):
        return comparable == value.value.get("coordinates")
    return comparable == value.value


def _ordered(stored: Any, op: str, value: ast.Value, field: ast.FieldRef) -> bool:
    kind, comparable = _as_kind(stored, field)
    if kind != value.kind or kind not in ast.ORDERED_KINDS:
        return False
    target = value.value
    if op == "lt":
        return comparable < target
    if op == "lte":
        return comparable <= target
    if op == "gt":
        return comparable > target
    if op == "gte":
        return comparable >= target
    return comparable == target


class Matcher:
    def __init__(
        self, resolver: SubQueryResolver | None = None, class_name: str | None = None
    ) -> None:
        self.resolver = resolver or NoSubQueries()
        self.class_name = class_name
        self._cache: dict[int, Any] = {}

    def matches(self, node: ast.Node, obj: dict[str, Any]) -> bool:
        method = getattr(self, "_" + type(node).__name__)
        return method(node, obj)

    def _Const(self, node: ast.Const, obj: dict[str, Any]) -> bool:
        return node.value

    def _And(self, node: ast.And, obj: dict[str, Any]) -> bool:
        return all(self.matches(c, obj) for c in node.children)

    def _Or(self, node: ast.Or, obj: dict[str, Any]) -> bool:
        return any(self.matches(c, obj) for c in node.children)

    def _Not(self, node: ast.Not, obj: dict[str, Any]) -> bool:
        return not self.matches(node.child, obj)

    def _Cmp(self, node: ast.Cmp, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        if stored is MISSING:
            return False
        if node.op == "eq":
            return values_equal(stored, node.value, node.field)
        return _ordered(stored, node.op, node.value, node.field)

    def _In(self, node: ast.In, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        if stored is MISSING:
            return False
        return any(values_equal(stored, v, node.field) for v in node.values)

    def _All(self, node: ast.All, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        if not isinstance(stored, list):
            return False
        for value in node.values:
            if not any(values_equal(element, value, node.field) for element in stored):
                return False
        for regex in node.regexes:
            if not any(regex_match(element, regex.pattern, regex.flags) for element in stored):
                return False
        return True

    def _ContainedBy(self, node: ast.ContainedBy, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        if not isinstance(stored, list):
            return False
        return all(
            any(values_equal(element, v, node.field) for v in node.values) for element in stored
        )

    def _Exists(self, node: ast.Exists, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        return stored is not MISSING and stored is not None

    def _Regex(self, node: ast.Regex, obj: dict[str, Any]) -> bool:
        assert node.field is not None
        stored = field_value(obj, node.field)
        if isinstance(stored, list) and node.field.kind == ast.ARRAY:
            return any(regex_match(e, node.pattern, node.flags) for e in stored)
        return regex_match(stored, node.pattern, node.flags)

    def _InQuery(self, node: ast.InQuery, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        ids = self._memo(node.query, lambda: self.resolver.ids(node.query))
        pointers = stored if isinstance(stored, list) else [stored]
        for p in pointers:
            kind, value = stored_kind(p)
            if kind == ast.POINTER and value[0] == node.query.class_name and value[1] in ids:
                return True
        return False

    def _Select(self, node: ast.Select, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        if stored is MISSING:
            return False
        values = self._memo(node.query, lambda: self.resolver.key_values(node.query))
        kind, comparable = _as_kind(stored, node.field)
        for candidate in values:
            ckind, cvalue = stored_kind(candidate)
            if ckind == kind and cvalue == comparable:
                return True
        return False

    def _RelatedTo(self, node: ast.RelatedTo, obj: dict[str, Any]) -> bool:
        ids = self._memo(
            node, lambda: self.resolver.related_ids(node.owner_class, node.owner_id, node.key)
        )
        return obj.get("objectId") in ids

    def _RelationHas(self, node: ast.RelationHas, obj: dict[str, Any]) -> bool:
        if self.class_name is None:
            raise CannotMatch("relation membership needs the object's class")
        owners = self._memo(
            node,
            lambda: self.resolver.relation_owner_ids(
                self.class_name, node.field.name, node.related_ids
            ),
        )
        return obj.get("objectId") in owners

    def _Text(self, node: ast.Text, obj: dict[str, Any]) -> bool:
        stored = field_value(obj, node.field)
        return text_match(
            stored, node.term, node.language, node.case_sensitive, node.diacritic_sensitive
        )

    def _GeoDistance(self, node: ast.GeoDistance, obj: dict[str, Any]) -> bool:
        kind, point = stored_kind(field_value(obj, node.field))
        if kind != ast.GEOPOINT:
            return False
        if node.max_radians is None:
            return True
        return (
            distance_radians(point[0], point[1], node.latitude, node.longitude) <= node.max_radians
        )

    def _GeoBox(self, node: ast.GeoBox, obj: dict[str, Any]) -> bool:
        kind, point = stored_kind(field_value(obj, node.field))
        if kind != ast.GEOPOINT:
            return False
        lat, lng = point
        return node.south <= lat <= node.north and node.west <= lng <= node.east

    def _GeoPolygon(self, node: ast.GeoPolygon, obj: dict[str, Any]) -> bool:
        kind, point = stored_kind(field_value(obj, node.field))
        if kind != ast.GEOPOINT:
            return False
        return point_in_polygon(point[0], point[1], node.vertices)

    def _PolygonContains(self, node: ast.PolygonContains, obj: dict[str, Any]) -> bool:
        kind, coords = stored_kind(field_value(obj, node.field))
        if kind != ast.POLYGON:
            return False
        return point_in_polygon(node.latitude, node.longitude, [(c[0], c[1]) for c in coords])

    def _memo(self, key: Any, compute: Any) -> Any:
        k = id(key)
        if k not in self._cache:
            self._cache[k] = compute()
        return self._cache[k]


def matches(
    node: ast.Node,
    obj: dict[str, Any],
    resolver: SubQueryResolver | None = None,
    class_name: str | None = None,
) -> bool:
    return Matcher(resolver, class_name).matches(node, obj)
