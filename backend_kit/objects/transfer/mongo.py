"""MongoDB documents of a Parse database -> the Parse REST form of the same objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ...codec import format_iso
from ..schema import Schema


def _ms_to_iso(ms: Any) -> str:
    return format_iso(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=float(ms)))


def plain_json(value: Any) -> Any:
    """MongoDB Extended JSON (``$date``, ``$numberLong``, ``$oid``, ``$binary``) -> Parse JSON."""
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 or (len(value) == 2 and "$type" in value):
        (key, inner), *_ = value.items()
        if key == "$date":
            inner = plain_json(inner)
            iso = inner if isinstance(inner, str) else _ms_to_iso(inner)
            return {"__type": "Date", "iso": iso}
        if key in ("$numberLong", "$numberInt"):
            return int(inner)
        if key in ("$numberDouble", "$numberDecimal"):
            number = float(inner)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        if key == "$oid":
            return str(inner)
        if key == "$binary":
            b64 = inner.get("base64") if isinstance(inner, dict) else inner
            return {"__type": "Bytes", "base64": b64}
    out = {k: plain_json(v) for k, v in value.items()}
    if out.get("__type") == "Date" and isinstance(out.get("iso"), dict):
        out["iso"] = out["iso"].get("iso")  # {"__type": "Date", "iso": {"$date": ...}}
    return out


def is_mongo_document(record: dict[str, Any]) -> bool:
    return "_id" in record and "objectId" not in record


# Parse's Mongo column names for fields that the REST form names otherwise.
_MONGO_RENAMES = {
    "_created_at": "createdAt",
    "_updated_at": "updatedAt",
    "_expiresAt": "expiresAt",
    "_last_used": "lastUsed",
    "times_used": "timesUsed",
}


def mongo_to_rest(class_name: str, doc: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """One document of a Parse MongoDB collection -> the REST form of the object.

    Field types that Mongo stores bare (File names, ``[lng, lat]`` GeoPoints, GeoJSON
    Polygons, base64 Bytes) are recognised through the class schema; import the
    ``_SCHEMA`` collection first for them.
    """
    doc = plain_json(doc)
    types = schema.fields if schema is not None else {}
    out: dict[str, Any] = {"objectId": str(doc.pop("_id"))}
    rperm, wperm, legacy_acl = (
        doc.pop("_rperm", None),
        doc.pop("_wperm", None),
        doc.pop("_acl", None),
    )
    if rperm is not None or wperm is not None:
        acl: dict[str, dict[str, bool]] = {}
        for key in rperm or []:
            acl.setdefault(key, {})["read"] = True
        for key in wperm or []:
            acl.setdefault(key, {})["write"] = True
        out["ACL"] = acl
    elif isinstance(legacy_acl, dict):
        out["ACL"] = {
            key: {n: True for n, short in (("read", "r"), ("write", "w")) if perms.get(short)}
            for key, perms in legacy_acl.items()
            if isinstance(perms, dict)
        }
    for key, value in doc.items():
        if key in _MONGO_RENAMES:
            renamed = _MONGO_RENAMES[key]
            out[renamed] = (
                value.get("iso")
                if renamed in ("createdAt", "updatedAt") and isinstance(value, dict)
                else value
            )
        elif key.startswith("_p_"):
            if isinstance(value, str) and "$" in value:
                target, object_id = value.split("$", 1)
                out[key[3:]] = {"__type": "Pointer", "className": target, "objectId": object_id}
        elif key.startswith("_auth_data_") and class_name == "_User":
            out.setdefault("authData", {})[key[len("_auth_data_") :]] = value
        elif key.startswith("_"):
            out[key] = value  # internal (password hash, tokens): kept, never served
        else:
            out[key] = _typed_from_mongo(value, (types.get(key) or {}).get("type"))
    return out


def _typed_from_mongo(value: Any, ftype: str | None) -> Any:
    if ftype == "Date" and isinstance(value, str):
        return {"__type": "Date", "iso": value}
    if ftype == "File" and isinstance(value, str):
        return {"__type": "File", "name": value}
    if ftype == "GeoPoint" and isinstance(value, list) and len(value) == 2:
        return {"__type": "GeoPoint", "latitude": value[1], "longitude": value[0]}
    if ftype == "Polygon" and isinstance(value, dict) and value.get("type") == "Polygon":
        ring = (value.get("coordinates") or [[]])[0]
        return {"__type": "Polygon", "coordinates": [[p[1], p[0]] for p in ring]}
    if ftype == "Bytes" and isinstance(value, str):
        return {"__type": "Bytes", "base64": value}
    return value


_MONGO_FIELD_TYPES = {
    "number": "Number",
    "string": "String",
    "boolean": "Boolean",
    "date": "Date",
    "map": "Object",
    "object": "Object",
    "array": "Array",
    "geopoint": "GeoPoint",
    "file": "File",
    "bytes": "Bytes",
    "polygon": "Polygon",
}
_MONGO_INDEX_FIELDS = {"_id": "objectId", "_created_at": "createdAt", "_updated_at": "updatedAt"}


def mongo_schema_to_api(doc: dict[str, Any]) -> dict[str, Any]:
    """A document of Parse's ``_SCHEMA`` collection -> the ``/schemas`` form."""
    meta = doc.get("_metadata") or {}
    options = meta.get("fields_options") or {}
    out_fields: dict[str, Any] = {}
    for name, mongo_type in doc.items():
        if name in ("_id", "_metadata", "_client_permissions") or not isinstance(mongo_type, str):
            continue
        if mongo_type.startswith("*"):
            spec: dict[str, Any] = {"type": "Pointer", "targetClass": mongo_type[1:]}
        elif mongo_type.startswith("relation<") and mongo_type.endswith(">"):
            spec = {"type": "Relation", "targetClass": mongo_type[len("relation<") : -1]}
        else:
            spec = {"type": _MONGO_FIELD_TYPES.get(mongo_type, mongo_type)}
        out_fields[name] = {**spec, **(options.get(name) or {})}
    indexes = {
        name: {
            _MONGO_INDEX_FIELDS.get(key, key[3:] if key.startswith("_p_") else key): direction
            for key, direction in spec.items()
        }
        for name, spec in (meta.get("indexes") or {}).items()
        if isinstance(spec, dict)
    }
    out: dict[str, Any] = {"className": str(doc["_id"]), "fields": out_fields, "indexes": indexes}
    if "class_permissions" in meta:
        out["classLevelPermissions"] = meta["class_permissions"]
    return out
