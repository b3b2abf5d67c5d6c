"""Parse a Parse ``where`` into the AST of :mod:`.ast`, validating as it goes.

Errors are the ones Parse clients expect: 102 for a malformed query, 105 for an
invalid key name. Type decisions (does ``{"score": "5"}`` match a Number field?) are
made here once, so the SQL compiler and the matcher only follow the tree.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ...codec import close_polygon, decode_value, is_valid_class_name, normalize_iso
from ...conf import bk_settings
from ...errors import Code, ParseError
from . import ast
from .ast import FieldRef, Value
from .functions import compiled_regex

KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_MILES = 3958.8
REGEX_OPTIONS = frozenset("imxs")
TEXT_LANGUAGES = {
    "en": "english",
    "english": "english",
    "fr": "french",
    "french": "french",
    "de": "german",
    "german": "german",
    "es": "spanish",
    "spanish": "spanish",
    "it": "italian",
    "italian": "italian",
    "pt": "portuguese",
    "portuguese": "portuguese",
    "nl": "dutch",
    "dutch": "dutch",
    "ru": "russian",
    "russian": "russian",
    "sv": "swedish",
    "swedish": "swedish",
    "da": "danish",
    "danish": "danish",
    "fi": "finnish",
    "finnish": "finnish",
    "hu": "hungarian",
    "hungarian": "hungarian",
    "no": "norwegian",
    "nb": "norwegian",
    "norwegian": "norwegian",
    "ro": "romanian",
    "romanian": "romanian",
    "tr": "turkish",
    "turkish": "turkish",
    "none": "simple",
    "simple": "simple",
}
COMPARISONS = {"$lt": "lt", "$lte": "lte", "$gt": "gt", "$gte": "gte"}

SchemaLookup = Callable[[str], Any]  # class name -> Schema | None


def bad(message: str) -> ParseError:
    return ParseError(Code.INVALID_QUERY, message)


def bad_json(message: str) -> ParseError:
    """Malformed geo operands: Parse Server on PostgreSQL answers 107 for these, not 102."""
    return ParseError(Code.INVALID_JSON, message)


class QueryParser:
    def __init__(self, schema_lookup: SchemaLookup, *, now: datetime | None = None) -> None:
        self.schema_lookup = schema_lookup
        self.now = now
        self.constraints = 0
        self.near: ast.GeoDistance | None = None

    # --- entry points --------------------------------------------------------------

    def parse(self, class_name: str, where: Any, *, depth: int = 0) -> ast.Node:
        if where is None or where == "":
            return ast.Const(True)
        if not isinstance(where, dict):
            raise bad("Invalid where clause: must be a JSON object")
        if depth > bk_settings.MAX_QUERY_DEPTH:
            raise bad("Query is nested too deeply")
        schema = self.schema_lookup(class_name)
        children: list[ast.Node] = []
        for key, constraint in where.items():
            self._count()
            if key in ("$or", "$and", "$nor"):
                children.append(self._logical(class_name, key, constraint, depth))
            elif key == "$relatedTo":
                children.append(self._related_to(constraint))
            elif key.startswith("$"):
                raise ParseError(Code.INVALID_KEY_NAME, f"Invalid key name: {key}")
            else:
                field = resolve_field(schema, key)
                children.append(self._field(class_name, field, constraint, depth))
        return simplify_and(children)

    def parse_query(self, class_name: str, where: Any) -> ast.ParsedQuery:
        node = self.parse(class_name, where)
        return ast.ParsedQuery(class_name=class_name, where=node, near=self.near)

    # --- helpers ---------------------------------------------------------------------

    def _count(self) -> None:
        self.constraints += 1
        if self.constraints > bk_settings.MAX_QUERY_CONSTRAINTS:
            raise bad("Query has too many constraints")

    def _logical(self, class_name: str, key: str, value: Any, depth: int) -> ast.Node:
        if not isinstance(value, list) or not value:
            raise bad(f"Bad {key} format - use an array value.")
        parts = []
        for sub in value:
            if not isinstance(sub, dict):
                raise bad(f"Bad {key} format - use an array of objects.")
            parts.append(self.parse(class_name, sub, depth=depth + 1))
        if key == "$or":
            return ast.Or(parts)
        if key == "$and":
            return simplify_and(parts)
        return ast.Not(ast.Or(parts))

    def _related_to(self, value: Any) -> ast.Node:
        if not isinstance(value, dict):
            raise bad("bad $relatedTo value")
        obj, key = value.get("object"), value.get("key")
        if (
            not isinstance(obj, dict)
            or obj.get("__type") not in ("Pointer", "Object")
            or not is_valid_class_name(obj.get("className"))
            or not isinstance(obj.get("objectId"), (str, type(None)))
            or not isinstance(key, str)
            or not KEY_RE.match(key)
        ):
            raise bad("bad $relatedTo value")
        if obj.get("objectId") is None:
            # an unsaved parent (the SDK drops its undefined id) owns nothing: Parse
            # Server finds no join rows for it and answers an empty result
            return ast.Const(False)
        return ast.RelatedTo(obj["className"], obj["objectId"], key)

    def _field(self, class_name: str, field: FieldRef, constraint: Any, depth: int) -> ast.Node:
        if isinstance(constraint, dict) and any(
            isinstance(k, str) and k.startswith("$") for k in constraint
        ):
            return self._operators(class_name, field, constraint, depth)
        return self._equals(field, constraint)

    def _equals(self, field: FieldRef, raw: Any) -> ast.Node:
        if field.kind == "relation":
            return self._relation_has(field, [raw])
        value = typed_value(field, raw)
        if value is None:
            return ast.Const(False)
        if field.kind == ast.ARRAY and value.kind != ast.ARRAY:
            if value.kind == ast.NULL:
                return ast.Not(ast.Exists(field))
            return ast.All(field, [value])
        if value.kind == ast.NULL:
            return ast.Not(ast.Exists(field))
        return ast.Cmp(field, "eq", value)

    def _relation_has(self, field: FieldRef, raws: list[Any]) -> ast.Node:
        ids = []
        for raw in raws:
            if not (
                isinstance(raw, dict)
                and raw.get("__type") in ("Pointer", "Object")
                and isinstance(raw.get("objectId"), str)
            ):
                raise bad("bad constraint on a relation field: use a pointer")
            ids.append(raw["objectId"])
        return ast.RelationHas(field, field.target_class or "", ids)

    def _operators(
        self, class_name: str, field: FieldRef, ops: dict[str, Any], depth: int
    ) -> ast.Node:
        parts: list[ast.Node] = []
        regex_options = ops.get("$options", "")
        for op, arg in ops.items():
            self._count()
            if op == "$eq":
                parts.append(self._equals(field, arg))
            elif op == "$ne":
                parts.append(ast.Not(self._equals(field, arg)))
            elif op in COMPARISONS:
                parts.append(self._compare(field, COMPARISONS[op], arg))
            elif op in ("$in", "$nin"):
                node = self._in(field, op, arg)
                parts.append(node if op == "$in" else ast.Not(node))
            elif op == "$all":
                parts.append(self._all(field, arg))
            elif op == "$containedBy":
                if not isinstance(arg, list):
                    raise bad("bad $containedBy: should be an array")
                values = [
                    v for v in (typed_value(field, a, element=True) for a in arg) if v is not None
                ]
                parts.append(ast.ContainedBy(field, values))
            elif op == "$exists":
                if not isinstance(arg, bool):
                    raise bad("bad $exists: should be a boolean")
                parts.append(ast.Exists(field) if arg else ast.Not(ast.Exists(field)))
            elif op == "$regex":
                parts.append(make_regex(field, arg, regex_options))
            elif op == "$options":
                if "$regex" not in ops:
                    raise bad("bad $options: needs $regex")
            elif op in ("$inQuery", "$notInQuery"):
                node = self._in_query(field, arg, depth)
                parts.append(node if op == "$inQuery" else ast.Not(node))
            elif op in ("$select", "$dontSelect"):
                node = self._select(field, arg, depth)
                parts.append(node if op == "$select" else ast.Not(node))
            elif op == "$text":
                parts.append(self._text(field, arg))
            elif op == "$nearSphere":
                node = self._near(field, arg, ops)
                parts.append(node)
            elif op in (
                "$maxDistance",
                "$maxDistanceInRadians",
                "$maxDistanceInKilometers",
                "$maxDistanceInMiles",
            ):
                if "$nearSphere" not in ops:
                    raise bad(f"bad {op}: needs $nearSphere")
            elif op == "$within":
                parts.append(self._within(field, arg))
            elif op == "$geoWithin":
                parts.append(self._geo_within(field, arg))
            elif op == "$geoIntersects":
                parts.append(self._geo_intersects(field, arg))
            elif op == "$relativeTime":
                raise bad(
                    "$relativeTime can only be used with the $lt, $lte, $gt, and $gte operators"
                )
            else:
                raise bad(f"bad constraint: {op}")
        return simplify_and(parts)

    def _compare(self, field: FieldRef, op: str, raw: Any) -> ast.Node:
        if isinstance(raw, dict) and "$relativeTime" in raw:
            value = Value(ast.DATE, self._relative_time(field, raw["$relativeTime"]))
        else:
            value = typed_value(field, raw)
        if value is None or value.kind not in ast.ORDERED_KINDS:
            if value is not None and value.kind in (ast.BOOLEAN, ast.POINTER, ast.NULL, ast.OBJECT):
                return ast.Const(False)
            if value is None:
                return ast.Const(False)
            raise bad(f"bad ${op} value")
        if field.kind == ast.ARRAY:
            return ast.Const(False)
        return ast.Cmp(field, op, value)

    def _relative_time(self, field: FieldRef, text: Any) -> str:
        if field.kind not in (ast.DATE, None):
            raise bad("$relativeTime can only be used with Date fields")
        return format_relative_time(text, self.now)

    def _in(self, field: FieldRef, op: str, arg: Any) -> ast.Node:
        if not isinstance(arg, list):
            raise bad(f"bad {op} value")
        if len(arg) > bk_settings.MAX_IN_VALUES:
            raise bad(f"{op} has too many values")
        if field.kind == "relation":
            return self._relation_has(field, arg)
        has_null = any(a is None for a in arg)
        values = [
            v
            for v in (typed_value(field, a, element=True) for a in arg if a is not None)
            if v is not None
        ]
        node: ast.Node
        if field.kind == ast.ARRAY:
            node = ast.Or([ast.All(field, [v]) for v in values]) if values else ast.Const(False)
        else:
            node = ast.In(field, values) if values else ast.Const(False)
        if has_null:
            node = ast.Or([node, ast.Not(ast.Exists(field))])
        return node

    def _all(self, field: FieldRef, arg: Any) -> ast.Node:
        if not isinstance(arg, list):
            raise bad("bad $all value")
        if not arg:
            return ast.Const(False)
        regexes = [a for a in arg if isinstance(a, dict) and "$regex" in a]
        if regexes:
            if len(regexes) != len(arg):
                raise bad("All $all values must be of regex type or none: " + str(arg))
            return ast.All(
                field, [], [make_regex(None, r["$regex"], r.get("$options", "")) for r in regexes]
            )
        values = []
        for a in arg:
            v = typed_value(field, a, element=True)
            if v is None:
                return ast.Const(False)
            values.append(v)
        return ast.All(field, values)

    def _subquery(self, arg: Any, depth: int, op: str) -> tuple[str, ast.Node]:
        if not isinstance(arg, dict):
            raise bad(f"improper usage of {op}")
        class_name = arg.get("className")
        if not is_valid_class_name(class_name):
            raise bad(f"improper usage of {op}: className")
        where = arg.get("where", {})
        if not isinstance(where, dict):
            raise bad(f"improper usage of {op}: where")
        if self.schema_lookup(class_name) is None:
            return class_name, ast.Const(False)
        return class_name, self.parse(class_name, where, depth=depth + 1)

    def _in_query(self, field: FieldRef, arg: Any, depth: int) -> ast.Node:
        class_name, where = self._subquery(arg, depth, "$inQuery")
        if isinstance(where, ast.Const) and not where.value:
            return ast.Const(False)
        return ast.InQuery(field, ast.SubQuery(class_name, where))

    def _select(self, field: FieldRef, arg: Any, depth: int) -> ast.Node:
        if (
            not isinstance(arg, dict)
            or not isinstance(arg.get("key"), str)
            or not isinstance(arg.get("query"), dict)
        ):
            raise bad("improper usage of $select")
        key = arg["key"]
        if not KEY_RE.match(key):
            raise ParseError(Code.INVALID_KEY_NAME, f"Invalid key name: {key}")
        class_name, where = self._subquery(arg["query"], depth, "$select")
        if isinstance(where, ast.Const) and not where.value:
            return ast.Const(False)
        key_field = resolve_field(self.schema_lookup(class_name), key)
        return ast.Select(field, ast.SubQuery(class_name, where, key=key, key_field=key_field))

    def _text(self, field: FieldRef, arg: Any) -> ast.Node:
        if not isinstance(arg, dict) or not isinstance(arg.get("$search"), dict):
            raise bad("bad $text: $search, should be object")
        search = arg["$search"]
        term = search.get("$term")
        if not isinstance(term, str) or "\x00" in term:
            raise bad("bad $text: $term, should be string")
        language = search.get("$language", "english")
        if not isinstance(language, str):
            raise bad("bad $text: $language, should be string")
        config = TEXT_LANGUAGES.get(language.lower())
        if config is None:
            raise bad(f"bad $text: $language, unsupported language {language}")
        case = search.get("$caseSensitive", False)
        if not isinstance(case, bool):
            raise bad("bad $text: $caseSensitive, should be boolean")
        diacritic = search.get("$diacriticSensitive", False)
        if not isinstance(diacritic, bool):
            raise bad("bad $text: $diacriticSensitive, should be boolean")
        return ast.Text(field, term, config, case, diacritic)

    def _near(self, field: FieldRef, arg: Any, ops: dict[str, Any]) -> ast.Node:
        lat, lng = geopoint(arg, "$nearSphere")
        max_radians = None
        for key, divisor in (
            ("$maxDistance", 1.0),
            ("$maxDistanceInRadians", 1.0),
            ("$maxDistanceInKilometers", EARTH_RADIUS_KM),
            ("$maxDistanceInMiles", EARTH_RADIUS_MILES),
        ):
            if key in ops:
                distance = ops[key]
                if (
                    isinstance(distance, bool)
                    or not isinstance(distance, (int, float))
                    or distance < 0
                ):
                    raise bad(f"bad {key} value")
                max_radians = distance / divisor
        node = ast.GeoDistance(field, lat, lng, max_radians, sort=True)
        if self.near is None:
            self.near = node
        return node

    def _within(self, field: FieldRef, arg: Any) -> ast.Node:
        if (
            not isinstance(arg, dict)
            or not isinstance(arg.get("$box"), list)
            or len(arg["$box"]) != 2
        ):
            raise bad("bad $within: $box should be an array of two GeoPoints")
        (lat1, lng1), (lat2, lng2) = (geopoint(p, "$box") for p in arg["$box"])
        return ast.GeoBox(field, min(lat1, lat2), min(lng1, lng2), max(lat1, lat2), max(lng1, lng2))

    def _geo_within(self, field: FieldRef, arg: Any) -> ast.Node:
        if not isinstance(arg, dict):
            raise bad_json("bad $geoWithin value")
        if "$polygon" in arg:
            polygon = arg["$polygon"]
            if isinstance(polygon, dict) and polygon.get("__type") == "Polygon":
                coordinates = polygon.get("coordinates")
                if not isinstance(coordinates, list):
                    raise bad_json("bad $geoWithin value; Polygon coordinates should be an array")
                points = [geopoint(p, "$geoWithin", code=Code.INVALID_JSON) for p in coordinates]
            elif isinstance(polygon, list):
                points = []
                for p in polygon:
                    if isinstance(p, list) and len(p) == 2:
                        points.append(
                            geopoint([p[1], p[0]], "$geoWithin", code=Code.INVALID_JSON)
                        )  # [lng, lat] as in MongoDB
                    else:
                        points.append(geopoint(p, "$geoWithin", code=Code.INVALID_JSON))
            else:
                raise bad_json(
                    "bad $geoWithin value; $polygon should be Polygon object or Array of Parse.GeoPoint's"
                )
            if len(points) < 3:
                raise bad_json("bad $geoWithin value; $polygon should contain at least 3 GeoPoints")
            return ast.GeoPolygon(field, points)
        if "$centerSphere" in arg:
            sphere = arg["$centerSphere"]
            if not isinstance(sphere, list) or len(sphere) != 2:
                raise bad_json(
                    "bad $geoWithin value; $centerSphere should be an array of Parse.GeoPoint and distance"
                )
            center, distance = sphere
            if isinstance(center, list) and len(center) == 2:
                lat, lng = geopoint([center[1], center[0]], "$centerSphere", code=Code.INVALID_JSON)
            else:
                lat, lng = geopoint(center, "$centerSphere", code=Code.INVALID_JSON)
            if isinstance(distance, bool) or not isinstance(distance, (int, float)) or distance < 0:
                raise bad_json("bad $geoWithin value; $centerSphere distance invalid")
            return ast.GeoDistance(field, lat, lng, float(distance))
        raise bad_json("bad $geoWithin value")

    def _geo_intersects(self, field: FieldRef, arg: Any) -> ast.Node:
        if not isinstance(arg, dict) or "$point" not in arg:
            raise bad_json("bad $geoIntersect value; $point should be GeoPoint")
        lat, lng = geopoint(arg["$point"], "$geoIntersects", code=Code.INVALID_JSON)
        return ast.PolygonContains(field, lat, lng)


# --- field and value resolution -------------------------------------------------------


def resolve_field(schema: Any, name: str) -> FieldRef:
    if not isinstance(name, str) or not KEY_RE.match(name):
        raise ParseError(Code.INVALID_KEY_NAME, f"Invalid key name: {name}")
    if name == "objectId":
        return FieldRef(name, column="object_id", kind=ast.STRING)
    if name in ("createdAt", "updatedAt"):
        return FieldRef(
            name, column="created_at" if name == "createdAt" else "updated_at", kind=ast.DATE
        )
    parts = tuple(name.split("."))
    fields = getattr(schema, "fields", None) or {}
    if len(parts) > 1:
        root = fields.get(parts[0]) or {}
        if root.get("type") == "Date" and parts[1:] == ("iso",):
            return FieldRef(name, path=(parts[0],), kind=ast.DATE)
        return FieldRef(name, path=parts, kind=None)
    spec = fields.get(name)
    if spec is None:
        return FieldRef(name, path=parts, kind=None)
    return FieldRef(
        name,
        path=parts,
        kind=ast.SCHEMA_TYPE_KIND.get(spec.get("type")),
        target_class=spec.get("targetClass"),
    )


def raw_kind(raw: Any) -> str | None:
    if raw is None:
        return ast.NULL
    if isinstance(raw, bool):
        return ast.BOOLEAN
    if isinstance(raw, (int, float)):
        return ast.NUMBER
    if isinstance(raw, str):
        return ast.STRING
    if isinstance(raw, list):
        return ast.ARRAY
    if isinstance(raw, dict):
        kind = raw.get("__type")
        return {
            "Date": ast.DATE,
            "Pointer": ast.POINTER,
            "Object": ast.POINTER,
            "File": ast.FILE,
            "GeoPoint": ast.GEOPOINT,
            "Bytes": ast.BYTES,
            "Polygon": ast.POLYGON,
        }.get(kind, ast.OBJECT if kind is None else None)
    return None


def typed_value(field: FieldRef, raw: Any, *, element: bool = False) -> Value | None:
    """Normalise a query value against the field; None when it can never match."""
    kind = raw_kind(raw)
    if kind is None or (kind == ast.STRING and "\x00" in raw):
        raise bad(f"bad value for {field.name}")
    if kind == ast.NUMBER and isinstance(raw, float) and (math.isnan(raw) or math.isinf(raw)):
        raise bad(f"bad value for {field.name}")
    if kind == ast.NUMBER and isinstance(raw, int) and not -(2**63) <= raw < 2**63:
        raw = float(raw)  # a JSON number; SQLite binds 64-bit integers only
    expected = field.kind
    if kind == ast.STRING and expected == ast.DATE:
        try:
            return Value(ast.DATE, normalize_iso(raw))
        except ParseError:
            return None
    value: Any = raw
    if kind == ast.DATE:
        try:
            value = normalize_iso(raw.get("iso"))
        except ParseError:
            raise bad(f"bad Date value for {field.name}")
    elif kind == ast.POINTER:
        if not isinstance(raw.get("objectId"), str) or not isinstance(raw.get("className"), str):
            raise bad(f"bad Pointer value for {field.name}")
        value = (raw["className"], raw["objectId"])
    elif kind == ast.FILE:
        value = raw.get("name")
    elif kind == ast.GEOPOINT:
        value = geopoint(raw, field.name)
    elif kind == ast.BYTES:
        value = raw.get("base64")
    elif kind == ast.POLYGON and len(field.path) <= 1:
        value = close_polygon(raw)  # compared with the closed ring a Polygon field stores
    elif kind in (ast.OBJECT, ast.ARRAY):
        try:
            value = decode_value(raw)
        except ParseError:
            raise bad(f"bad value for {field.name}")
    if kind == ast.NULL or expected is None or expected in (ast.OBJECT,):
        return Value(kind, value)
    if expected == ast.ARRAY and (element or kind != ast.ARRAY):
        return Value(kind, value)
    if expected != kind:
        return None
    if kind == ast.POINTER and field.target_class and value[0] != field.target_class:
        return None
    return Value(kind, value)


def geopoint(raw: Any, where: str, *, code: int = Code.INVALID_QUERY) -> tuple[float, float]:
    if isinstance(raw, dict) and raw.get("__type") == "GeoPoint":
        lat, lng = raw.get("latitude"), raw.get("longitude")
    elif isinstance(raw, list) and len(raw) == 2:
        lat, lng = raw
    else:
        raise ParseError(code, f"bad {where} value; should be a GeoPoint")
    for v in (lat, lng):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise ParseError(code, f"bad {where} value; should be a GeoPoint")
    if not -90 <= lat <= 90 or not -180 <= lng <= 180:
        raise ParseError(code, f"bad {where} value; GeoPoint out of bounds")
    return float(lat), float(lng)


def expand_quoted(pattern: str) -> str:
    """Turn PCRE/Java ``\\Q...\\E`` literal spans (sent by the JS SDK) into escapes."""
    out, i = [], 0
    while i < len(pattern):
        start = pattern.find("\\Q", i)
        if start < 0:
            out.append(pattern[i:])
            break
        out.append(pattern[i:start])
        end = pattern.find("\\E", start + 2)
        literal = pattern[start + 2 : end if end >= 0 else len(pattern)]
        out.append(re.escape(literal))
        i = end + 2 if end >= 0 else len(pattern)
    return "".join(out)


def make_regex(field: FieldRef | None, pattern: Any, options: Any) -> ast.Regex:
    if not isinstance(pattern, str) or "\x00" in pattern:
        raise bad("bad $regex: should be a string")
    if not isinstance(options, str) or any(ch not in REGEX_OPTIONS for ch in options):
        raise bad(f"Bad $options value for query: {options}")
    expanded = expand_quoted(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": valid here
            compiled_regex(expanded, "".join(sorted(set(options))))  # cached for SQLite
    except (re.error, OverflowError, RecursionError) as exc:
        raise bad(f"bad $regex: {exc}")
    flags = "".join(sorted(set(options)))
    return ast.Regex(field, expanded, flags)


_RELATIVE_UNITS = {
    "yr": 365 * 86400,
    "yrs": 365 * 86400,
    "year": 365 * 86400,
    "years": 365 * 86400,
    "wk": 7 * 86400,
    "wks": 7 * 86400,
    "week": 7 * 86400,
    "weeks": 7 * 86400,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}


def format_relative_time(text: Any, now: datetime | None = None) -> str:
    """``"3 days ago"``, ``"in 2 hours"``, ``"now"`` -> canonical ISO date."""
    from ...codec import format_iso

    if not isinstance(text, str):
        raise bad("$relativeTime should be a string")
    words = text.lower().split()
    now = now or datetime.now(UTC)
    if words == ["now"]:
        return format_iso(now)
    future = bool(words) and words[0] == "in"
    past = bool(words) and words[-1] == "ago"
    if future == past:
        raise bad("Time should either start with 'in' or end with 'ago'")
    body = words[1:] if future else words[:-1]
    if not body or len(body) % 2:
        raise bad("Invalid relative time: " + text)
    seconds = 0.0
    for amount, unit in zip(body[::2], body[1::2], strict=True):
        try:
            number = float(amount)
        except ValueError:
            raise bad(f"'{amount}' is not an integer.")
        if unit not in _RELATIVE_UNITS:
            raise bad(f"Invalid interval: '{unit}'")
        seconds += number * _RELATIVE_UNITS[unit]
    try:
        delta = timedelta(seconds=seconds)
        return format_iso(now + delta if future else now - delta)
    except (OverflowError, ValueError):
        raise bad("Invalid relative time: " + text)


def simplify_and(children: list[ast.Node]) -> ast.Node:
    kept = []
    for child in children:
        if isinstance(child, ast.Const):
            if not child.value:
                return ast.Const(False)
            continue
        kept.append(child)
    if not kept:
        return ast.Const(True)
    if len(kept) == 1:
        return kept[0]
    return ast.And(kept)
