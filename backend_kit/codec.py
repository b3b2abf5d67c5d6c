"""Parse JSON types on the wire <-> the stored form and Python values.

backend_kit stores field values in the wire encoding itself (a Date is stored as
``{"__type": "Date", "iso": "..."}``), normalised: ISO dates always carry
milliseconds and ``Z`` so that string order is time order, File values keep their
name, Pointers keep exactly ``__type/className/objectId``. Reading an object back
is then a copy, not a conversion; only File URLs are computed on the way out.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Any

from .errors import Code, ParseError

CLASS_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SYSTEM_CLASSES = frozenset(
    {
        "_User",
        "_Installation",
        "_Role",
        "_Session",
        "_Product",
        "_PushStatus",
        "_JobStatus",
        "_JobSchedule",
        "_Hooks",
        "_GlobalConfig",
        "_GraphQLConfig",
        "_Audience",
        "_Idempotency",
    }
)
MAX_NAME_LENGTH = 128
NUL_MESSAGE = "Strings may not contain the NUL character (\\u0000)."
FIELD_TYPES = frozenset(
    {
        "String",
        "Number",
        "Boolean",
        "Date",
        "Object",
        "Array",
        "Pointer",
        "Relation",
        "File",
        "GeoPoint",
        "Polygon",
        "Bytes",
        "ACL",
    }
)
_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def is_valid_class_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and len(name) <= MAX_NAME_LENGTH
        and (name in SYSTEM_CLASSES or bool(CLASS_NAME_RE.match(name)))
    )


def invalid_class_name_message(name: str) -> str:
    return (
        f"Invalid classname: {name}, classnames can only have alphanumeric "
        "characters and _, and must start with an alpha character "
    )


def check_class_name(name: Any) -> str:
    if not is_valid_class_name(name):
        raise ParseError(Code.INVALID_CLASS_NAME, invalid_class_name_message(str(name)))
    return name


def is_valid_field_name(name: Any) -> bool:
    return (
        isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and bool(FIELD_NAME_RE.match(name))
    )


# --- dates -------------------------------------------------------------------


def parse_iso(value: Any) -> datetime:
    """Parse an ISO-8601 string into an aware UTC datetime, or raise 107."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ParseError(Code.INCORRECT_TYPE, f"invalid date {value!r}")
    m = _ISO_RE.match(value.strip())
    if not m:
        raise ParseError(Code.INCORRECT_TYPE, f"invalid date {value!r}")
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro
        )
    except ValueError:
        raise ParseError(Code.INCORRECT_TYPE, f"invalid date {value!r}")
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset_min = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        from datetime import timedelta

        dt = dt - timedelta(minutes=offset_min)
    return dt.replace(tzinfo=UTC)


def format_iso(dt: datetime) -> str:
    """The canonical wire form: ``2026-01-02T03:04:05.678Z`` (always UTC, always ms)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond // 1000:03d}Z"


def encode_date(dt: datetime) -> dict[str, str]:
    return {"__type": "Date", "iso": format_iso(dt)}


def normalize_iso(value: Any) -> str:
    return format_iso(parse_iso(value))


# --- type inference -------------------------------------------------------------


def field_type_of(value: Any) -> dict[str, Any] | None:
    """The schema type a stored (normalised) value implies; None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"type": "Boolean"}
    if isinstance(value, (int, float)):
        return {"type": "Number"}
    if isinstance(value, str):
        return {"type": "String"}
    if isinstance(value, list):
        return {"type": "Array"}
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind in ("Pointer", "Relation"):
            return {"type": kind, "targetClass": value["className"]}
        if kind in ("Date", "File", "GeoPoint", "Polygon", "Bytes"):
            return {"type": kind}
        return {"type": "Object"}
    raise ParseError(Code.INCORRECT_TYPE, f"unsupported value {value!r}")


def types_compatible(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    if expected.get("type") != actual.get("type"):
        return False
    if expected.get("type") in ("Pointer", "Relation"):
        return expected.get("targetClass") == actual.get("targetClass")
    return True


def describe_type(t: dict[str, Any]) -> str:
    if t.get("type") in ("Pointer", "Relation"):
        return (
            f"*{t.get('targetClass')}"
            if t["type"] == "Pointer"
            else f"relation<{t.get('targetClass')}>"
        )
    return str(t.get("type"))


# --- decoding values from the wire into the stored form -----------------------------


def decode_value(value: Any, *, path: str = "", depth: int = 0) -> Any:
    """Validate a wire value (not an ``__op``) and return its normalised stored form."""
    if depth > 64:
        raise ParseError(Code.INVALID_JSON, "value nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL cannot store it; refused everywhere so both backends agree
            raise ParseError(Code.INVALID_JSON, NUL_MESSAGE)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ParseError(Code.INVALID_JSON, f"invalid number for {path or 'value'}")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, list):
        return [decode_value(v, path=path, depth=depth + 1) for v in value]
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind is None:
            if "__op" in value:
                raise ParseError(
                    Code.INVALID_NESTED_KEY, "field operations are not allowed inside values"
                )
            out = {}
            for k, v in value.items():
                if not isinstance(k, str) or "$" in k or "." in k or "\x00" in k:
                    raise ParseError(
                        Code.INVALID_NESTED_KEY,
                        "Nested keys should not contain the '$' or '.' characters",
                    )
                out[k] = decode_value(v, path=f"{path}.{k}" if path else k, depth=depth + 1)
            return out
        return decode_typed(kind, value)
    raise ParseError(Code.INVALID_JSON, f"invalid value for {path or 'value'}")


def close_polygon(value: dict[str, Any]) -> dict[str, Any]:
    """A Polygon whose ring is closed (the first vertex repeated last).

    Parse Server stores Polygon fields closed and answers them that way, and closes a
    queried Polygon the same way before comparing. Fewer than 3 distinct vertices
    cannot make a ring.
    """
    coords = value.get("coordinates")
    if not isinstance(coords, list) or not coords or not all(isinstance(p, list) for p in coords):
        return value
    distinct: list[list[Any]] = []
    for point in coords:
        if point not in distinct:
            distinct.append(point)
    if len(distinct) < 3:
        raise ParseError(Code.INVALID_JSON, "GeoJSON: Loop must have at least 3 different vertices")
    if coords[0] != coords[-1]:
        coords = [*coords, coords[0]]
    return {**value, "coordinates": coords}


def decode_typed(kind: Any, value: dict[str, Any]) -> dict[str, Any]:
    if kind == "Date":
        return {"__type": "Date", "iso": normalize_iso(value.get("iso"))}
    if kind == "Pointer":
        class_name, object_id = value.get("className"), value.get("objectId")
        if not is_valid_class_name(class_name):
            raise ParseError(Code.INVALID_POINTER, "pointer has an invalid className")
        if not isinstance(object_id, str) or not object_id:
            raise ParseError(Code.INVALID_POINTER, "pointer has an invalid objectId")
        return {"__type": "Pointer", "className": class_name, "objectId": object_id}
    if kind == "Relation":
        if not is_valid_class_name(value.get("className")):
            raise ParseError(Code.INVALID_JSON, "relation has an invalid className")
        return {"__type": "Relation", "className": value["className"]}
    if kind == "File":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise ParseError(Code.INVALID_JSON, "file has no name")
        out = {"__type": "File", "name": name}
        if isinstance(value.get("url"), str):
            out["url"] = value["url"]
        return out
    if kind == "GeoPoint":
        return decode_geopoint(value)
    if kind == "Polygon":
        coords = value.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 3:
            raise ParseError(Code.INVALID_JSON, "Polygon must have at least 3 values")
        points = []
        for pair in coords:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ParseError(
                    Code.INVALID_JSON, "Polygon coordinates must be [latitude, longitude] pairs"
                )
            lat, lng = pair
            check_lat_lng(lat, lng)
            points.append([lat, lng])
        return {"__type": "Polygon", "coordinates": points}
    if kind == "Bytes":
        b64 = value.get("base64")
        if not isinstance(b64, str):
            raise ParseError(Code.INVALID_JSON, "Bytes needs base64")
        try:
            base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ParseError(Code.INVALID_JSON, "Bytes has invalid base64")
        return {"__type": "Bytes", "base64": b64}
    if kind == "Object":
        # an included object sent back by a client: store it as a pointer
        return decode_typed("Pointer", value)
    raise ParseError(Code.INCORRECT_TYPE, f"unknown type {kind!r}")


def check_lat_lng(lat: Any, lng: Any) -> None:
    if (
        isinstance(lat, bool)
        or isinstance(lng, bool)
        or not isinstance(lat, (int, float))
        or not isinstance(lng, (int, float))
    ):
        raise ParseError(Code.INVALID_JSON, "GeoPoint coordinates must be numbers")
    if not -90.0 <= lat <= 90.0:
        raise ParseError(Code.INVALID_JSON, f"GeoPoint latitude out of bounds: {lat}.")
    if not -180.0 <= lng <= 180.0:
        raise ParseError(Code.INVALID_JSON, f"GeoPoint longitude out of bounds: {lng}.")


def decode_geopoint(value: Any) -> dict[str, Any]:
    if isinstance(value, list) and len(value) == 2:
        lat, lng = value
    elif isinstance(value, dict):
        lat, lng = value.get("latitude"), value.get("longitude")
    else:
        raise ParseError(Code.INVALID_JSON, "bad GeoPoint")
    check_lat_lng(lat, lng)
    return {"__type": "GeoPoint", "latitude": lat, "longitude": lng}


def decode_bytes(value: dict[str, Any]) -> bytes:
    return base64.b64decode(value["base64"])


def pointer(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def is_pointer(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "Pointer"
