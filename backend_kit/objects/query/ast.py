"""The parsed form of a Parse ``where``: what the SQL compiler and the in-memory
matcher both consume, so a LiveQuery subscription and a find cannot disagree.

Values inside nodes are already normalised by the parser: dates are canonical ISO
strings, pointers are ``(className, objectId)`` tuples, GeoPoints are
``(latitude, longitude)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The comparison kind of a value or field: how two values are compared.
NUMBER, STRING, BOOLEAN, DATE, POINTER, FILE, OBJECT, ARRAY, GEOPOINT, POLYGON, BYTES, NULL = (
    "number",
    "string",
    "boolean",
    "date",
    "pointer",
    "file",
    "object",
    "array",
    "geopoint",
    "polygon",
    "bytes",
    "null",
)
SCHEMA_TYPE_KIND = {
    "Number": NUMBER,
    "String": STRING,
    "Boolean": BOOLEAN,
    "Date": DATE,
    "Pointer": POINTER,
    "File": FILE,
    "Object": OBJECT,
    "Array": ARRAY,
    "GeoPoint": GEOPOINT,
    "Polygon": POLYGON,
    "Bytes": BYTES,
    "ACL": OBJECT,
    "Relation": "relation",
}
ORDERED_KINDS = frozenset({NUMBER, STRING, DATE})


@dataclass(frozen=True)
class FieldRef:
    """Where a queried key lives: a column, or a path into ``data``."""

    name: str
    path: tuple[str, ...] = ()
    column: str | None = None  # "object_id" | "created_at" | "updated_at"
    kind: str | None = None  # comparison kind from the schema; None when unknown
    target_class: str | None = None

    @property
    def is_column(self) -> bool:
        return self.column is not None


@dataclass(frozen=True)
class Value:
    """A normalised query value with its comparison kind."""

    kind: str
    value: Any  # number | str | bool | iso str | (class, id) | file name | dict | list | None


class Node:
    pass


@dataclass
class And(Node):
    children: list[Node]


@dataclass
class Or(Node):
    children: list[Node]


@dataclass
class Not(Node):
    child: Node


@dataclass
class Const(Node):
    value: bool


@dataclass
class Cmp(Node):
    """``field <op> value``: op in eq, lt, lte, gt, gte (``ne`` is ``Not(eq)``)."""

    field: FieldRef
    op: str
    value: Value


@dataclass
class In(Node):
    field: FieldRef
    values: list[Value]


@dataclass
class All(Node):
    """Array field holds every value; ``regexes`` for containsAllStartingWith."""

    field: FieldRef
    values: list[Value]
    regexes: list[Regex] = field(default_factory=list)


@dataclass
class ContainedBy(Node):
    field: FieldRef
    values: list[Value]


@dataclass
class Exists(Node):
    field: FieldRef


@dataclass
class Regex(Node):
    field: FieldRef | None
    pattern: str  # Python syntax, \Q..\E already expanded
    flags: str  # subset of "imxs"


@dataclass
class SubQuery:
    class_name: str
    where: Node
    # filled by the compiler's caller: ACL principals, or None for master
    principals: list[str] | None = None
    key: str | None = None  # for $select / $dontSelect: the key whose values are taken
    key_field: FieldRef | None = None


@dataclass
class InQuery(Node):
    """Pointer field (or array of pointers) points into the sub-query's results."""

    field: FieldRef
    query: SubQuery


@dataclass
class Select(Node):
    """Field value equals the ``key`` value of some object of the sub-query."""

    field: FieldRef
    query: SubQuery


@dataclass
class RelatedTo(Node):
    owner_class: str
    owner_id: str
    key: str


@dataclass
class RelationHas(Node):
    """``{relationField: pointer}``: this object's relation contains the pointer."""

    field: FieldRef
    class_name: str
    related_ids: list[str]


@dataclass
class Text(Node):
    field: FieldRef
    term: str
    language: str
    case_sensitive: bool
    diacritic_sensitive: bool


@dataclass
class GeoDistance(Node):
    """Great-circle distance from ``point`` at most ``max_radians`` (None: any)."""

    field: FieldRef
    latitude: float
    longitude: float
    max_radians: float | None
    sort: bool = False  # $nearSphere orders by distance


@dataclass
class GeoBox(Node):
    field: FieldRef
    south: float
    west: float
    north: float
    east: float


@dataclass
class GeoPolygon(Node):
    """GeoPoint field inside the polygon of (latitude, longitude) vertices."""

    field: FieldRef
    vertices: list[tuple[float, float]]


@dataclass
class PolygonContains(Node):
    """Polygon field contains the point."""

    field: FieldRef
    latitude: float
    longitude: float


@dataclass
class ParsedQuery:
    class_name: str
    where: Node
    near: GeoDistance | None = None  # the $nearSphere that sets default ordering
