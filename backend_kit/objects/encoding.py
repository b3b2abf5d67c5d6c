"""Stored rows -> the JSON a Parse client receives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from django.utils.dateparse import parse_datetime

from ..codec import format_iso
from ..conf import bk_settings

# Set by the files app: file name -> public URL (signed for private files).
FileUrlResolver = Callable[[str], str | None]
_file_url_resolver: FileUrlResolver | None = None


def set_file_url_resolver(resolver: FileUrlResolver | None) -> None:
    global _file_url_resolver
    _file_url_resolver = resolver


def default_file_url(name: str) -> str:
    from ..serverurl import server_url

    return f"{server_url()}/files/{bk_settings.APP_ID}/{name}"


def file_url(name: str) -> str | None:
    if _file_url_resolver is not None:
        return _file_url_resolver(name)
    return default_file_url(name)


def to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"bad datetime {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_wire_time(value: Any) -> bool:
    """Already the wire form, ``2026-01-02T03:04:05.678Z`` (PostgreSQL formats it: see
    ``sql.PG_READ_COLUMNS``)."""
    return type(value) is str and len(value) == 24 and value[10] == "T" and value[-1] == "Z"


def iso(value: Any) -> str:
    if is_wire_time(value):
        return value
    return format_iso(to_datetime(value))


def load_json(value: Any) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    return orjson.loads(value)


def _with_file_urls(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__type") == "File":
            out = dict(value)
            url = file_url(value["name"]) if "name" in value else None
            if url is not None:
                out["url"] = url
            return out
        if "__type" in value:
            return value
        return {k: _with_file_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_file_urls(v) for v in value]
    return value


def encode_object(
    object_id: str,
    data: dict[str, Any],
    acl: Any,
    created_at: Any,
    updated_at: Any,
    *,
    relation_fields: dict[str, str] | None = None,
    file_fields: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {"objectId": object_id}
    for key, value in data.items():
        if key[:1] == "_":
            continue  # internal fields (password hashes, token hashes, auth data locks)
        out[key] = (
            _with_file_urls(value) if file_fields and isinstance(value, (dict, list)) else value
        )
    if relation_fields:
        for key, target in relation_fields.items():
            out[key] = {"__type": "Relation", "className": target}
    out["createdAt"] = iso(created_at)
    out["updatedAt"] = iso(updated_at)
    if acl is not None:
        out["ACL"] = acl
    return out


def encoded_bytes(
    object_id: str, data: Any, acl: Any, created_at: Any, updated_at: Any
) -> orjson.Fragment | None:
    """The object as the JSON ``encode_object`` would give, spliced from the stored
    text without decoding it; None when the row needs ``encode_object``.

    Why: for a page of plain objects, decoding each row's JSON into dictionaries and
    encoding them again was the largest part of a find's own work (a sixth of the
    in-process time of the benchmark's 20-object query). The splice applies where it
    gives the same answer: the row came as text (PostgreSQL's ``jsonb`` output, with
    the timestamps already in the wire form) and holds no key of its own that starts
    with ``_`` (internal fields, hidden by ``encode_object``) other than the ``__type``
    of a typed value, and no File (whose URL is added on the way out). Keys equal to
    the ones written here (``objectId``, ...) come out in the same order as from
    ``encode_object``, so a JSON parser keeps the same value for each.
    """
    if type(data) is not str or (acl is not None and type(acl) is not str):
        return None
    if not (is_wire_time(created_at) and is_wire_time(updated_at)):
        return None
    if data.count('"_') != data.count('"__type"') or '"File"' in data:
        return None
    body = data.strip()
    if body[:1] != "{" or body[-1:] != "}":
        return None
    inner = body[1:-1].strip()
    parts = [b'{"objectId":', orjson.dumps(object_id)]
    if inner:
        parts += [b",", inner.encode()]
    parts += [b',"createdAt":"', created_at.encode(), b'","updatedAt":"', updated_at.encode(), b'"']
    if acl is not None:
        parts += [b',"ACL":', acl.encode()]
    parts.append(b"}")
    return orjson.Fragment(b"".join(parts))


def project(obj: dict[str, Any], keys: set[str] | None, exclude: set[str] | None) -> dict[str, Any]:
    """Apply ``keys`` / ``excludeKeys`` (top-level parts) to an encoded object."""
    always = {"objectId", "createdAt", "updatedAt", "ACL", "__type", "className"}
    if keys is not None:
        obj = {k: v for k, v in obj.items() if k in always or k in keys}
    if exclude:
        # Parse never drops the always-selected keys
        obj = {k: v for k, v in obj.items() if k not in exclude or k in always}
    return obj
