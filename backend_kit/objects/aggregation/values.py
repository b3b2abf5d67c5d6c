"""Values inside an aggregation: field paths, ordering, grouping identity, numbers, dates.

Rows flowing through a pipeline are plain dicts in the Parse wire encoding, except
that ``createdAt``/``updatedAt`` are kept as Date objects (``{"__type": "Date", ...}``)
so that dates compare, group and sort alike wherever they come from; the final output
turns the top-level ones back into ISO strings as Parse does.

Ordering follows MongoDB's (Parse's reference database) order of types: null, numbers,
strings, objects, arrays, binary, booleans, dates. The SQL paths only take over cases
where that order and the database's agree, so both paths answer the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from ...codec import parse_iso
from ...errors import Code, ParseError
from ..encoding import file_url, iso

MISSING: Any = object()

# Names MongoDB pipelines use for Parse's built-in columns.
ALIASES = {"_id": "objectId", "_created_at": "createdAt", "_updated_at": "updatedAt"}
COLUMNS = {"objectId": "object_id", "createdAt": "created_at", "updatedAt": "updated_at"}
SEGMENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Parse strips result keys that are not valid field names (UsersRouter.removeHiddenProperties).
OUTPUT_KEY_RE = re.compile(r"^[A-Za-z][0-9A-Za-z_]*$")
MAX_SAFE_INTEGER = 2**53


def bad(message: str) -> ParseError:
    return ParseError(Code.INVALID_QUERY, message)


@dataclass(frozen=True)
class FieldPath:
    """A field of a row: ``objectId``, ``score`` or a dotted path like ``sender.group``."""

    parts: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.parts)

    @property
    def column(self) -> str | None:
        """The table column behind the path (objectId, createdAt, updatedAt), if any."""
        return COLUMNS.get(self.parts[0]) if len(self.parts) == 1 else None


def parse_path(name: Any, where: str) -> FieldPath:
    if not isinstance(name, str) or not name:
        raise bad(f"{where}: invalid field name {name!r}")
    parts = name.split(".")
    parts[0] = ALIASES.get(parts[0], parts[0])
    for part in parts:
        # Segments start with a letter: keeps internal keys (_hashed_password...) out of
        # reach and keeps array indexes out, which SQL and Python would read differently.
        if not SEGMENT_RE.match(part):
            raise bad(f"{where}: invalid field name {name!r}")
    return FieldPath(tuple(parts))


def parse_ref(value: Any, where: str) -> FieldPath:
    """A field reference: ``"$score"``, ``"$sender.group"``, ``"$_id"``."""
    if not isinstance(value, str) or len(value) < 2 or value[0] != "$":
        raise bad(f'{where}: expected a field reference such as "$score", got {value!r}')
    return parse_path(value[1:], where)


# --- reading and writing paths ------------------------------------------------------


def resolve(row: Any, path: FieldPath) -> Any:
    current = row
    for part in path.parts:
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def with_value(row: dict[str, Any], parts: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``row`` with ``value`` at ``parts`` (dicts along the path are copied)."""
    out = dict(row)
    if len(parts) == 1:
        out[parts[0]] = value
        return out
    child = out.get(parts[0])
    out[parts[0]] = with_value(child if isinstance(child, dict) else {}, parts[1:], value)
    return out


def without_value(row: dict[str, Any], parts: tuple[str, ...]) -> dict[str, Any]:
    if parts[0] not in row:
        return row
    out = dict(row)
    if len(parts) == 1:
        del out[parts[0]]
    elif isinstance(out[parts[0]], dict):
        out[parts[0]] = without_value(out[parts[0]], parts[1:])
    return out


def key_value(value: Any) -> Any:
    """A value as a group key: pointers group by their objectId, as in Parse."""
    if value is MISSING:
        return None
    if isinstance(value, dict) and value.get("__type") in ("Pointer", "Object"):
        return value.get("objectId")
    return value


# --- ordering and identity --------------------------------------------------------------


def bson_key(value: Any) -> tuple[Any, ...]:
    """Sort key in MongoDB's cross-type order; missing and null sort together first."""
    if value is None or value is MISSING:
        return (1,)
    if isinstance(value, bool):
        return (8, value)
    if isinstance(value, (int, float, Decimal)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, list):
        return (5, tuple(bson_key(v) for v in value))
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind == "Date":
            return (9, str(value.get("iso")))
        if kind in ("Pointer", "Object"):
            return (3, str(value.get("objectId")))
        if kind == "File":
            return (3, str(value.get("name")))
        # Keys in name order: the database may hand an object back with its keys
        # reordered (jsonb), and both paths must sort alike.
        return (4, tuple((k, bson_key(value[k])) for k in sorted(value)))
    return (4, (repr(value),))


def identity(value: Any) -> Any:
    """A hashable stand-in: equal values (1 and 1.0) match, true and 1 do not."""
    if value is None or value is MISSING:
        return (1,)
    if isinstance(value, bool):
        return (8, value)
    if isinstance(value, (int, float, Decimal)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


# --- numbers ---------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def to_decimal(value: Any) -> Decimal:
    # repr() is the shortest text that round-trips, the same text the JSON column holds.
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def normalize_number(value: Any) -> Any:
    """A computed number as JavaScript would print it: whole values as integers."""
    if isinstance(value, bool) or not is_number(value):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < MAX_SAFE_INTEGER:
            return int(value)
        return float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_SAFE_INTEGER:
        return int(value)
    return value


# --- dates -----------------------------------------------------------------------------

DATE_PARTS = (
    "$year",
    "$month",
    "$dayOfMonth",
    "$hour",
    "$minute",
    "$second",
    "$millisecond",
    "$dayOfYear",
    "$dayOfWeek",
    "$isoDayOfWeek",
    "$week",
    "$isoWeek",
    "$isoWeekYear",
)


def date_object(value: Any) -> dict[str, str]:
    """A Date object from a datetime column value (a datetime, or text on SQLite)."""
    return {"__type": "Date", "iso": iso(value)}


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, dict) and value.get("__type") == "Date":
        try:
            return parse_iso(value.get("iso"))
        except ParseError:
            return None
    return None


def date_part(op: str, value: Any) -> int | None:
    """MongoDB's date operators, in UTC; None for anything that is not a Date."""
    dt = as_datetime(value)
    if dt is None:
        return None
    sunday_based = (dt.weekday() + 1) % 7  # Sunday 0 .. Saturday 6
    yday = dt.timetuple().tm_yday
    parts = {
        "$year": dt.year,
        "$month": dt.month,
        "$dayOfMonth": dt.day,
        "$hour": dt.hour,
        "$minute": dt.minute,
        "$second": dt.second,
        "$millisecond": dt.microsecond // 1000,
        "$dayOfYear": yday,
        "$dayOfWeek": sunday_based + 1,
        "$isoDayOfWeek": dt.isoweekday(),
        # Weeks start on Sunday; days before the year's first Sunday are week 0.
        "$week": (yday - 1 + 7 - sunday_based) // 7,
        "$isoWeek": dt.isocalendar()[1],
        "$isoWeekYear": dt.isocalendar()[0],
    }
    return parts[op]


# --- output ----------------------------------------------------------------------------


def with_file_urls(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__type") == "File" and "name" in value:
            url = file_url(value["name"])
            return {**value, "url": url} if url is not None else value
        if "__type" in value:
            return value
        return {k: with_file_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_file_urls(v) for v in value]
    return value


def output_row(row: Any) -> Any:
    """The wire form of a result row: ISO strings for the top-level built-in dates,
    file URLs, and no keys Parse would hide."""
    if not isinstance(row, dict):
        return with_file_urls(row)
    out = {}
    for key, value in row.items():
        if not OUTPUT_KEY_RE.match(key):
            continue
        if key in ("createdAt", "updatedAt") and isinstance(value, dict):
            dt = as_datetime(value)
            out[key] = value.get("iso") if dt is not None else with_file_urls(value)
            continue
        out[key] = with_file_urls(value)
    return out
