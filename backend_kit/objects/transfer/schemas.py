"""Importing schemas (``_SCHEMA.json``): fields, class-level permissions and indexes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from ...codec import describe_type, is_valid_class_name, types_compatible
from ...errors import ParseError
from ..indexes import DEFAULT_INDEX, apply_index_changes
from ..models import ClassSchema
from ..schema import (
    build_schema,
    default_fields,
    ensure_row,
    get_schema,
    save_row,
    schema_for_write,
    validate_clp,
    validate_field_spec,
)
from ..sql import db_alias
from .base import MASTER, SCHEMA_FILE, RecordError


def apply_schema(api: dict[str, Any], index: int, warn: Callable[[str], None]) -> str:
    """Create or extend one class from its ``/schemas`` form; ``created``, ``updated`` or
    ``unchanged``. Fields are added, never changed; an index that cannot be built is
    reported through ``warn`` and skipped."""
    class_name = api.get("className")
    if not is_valid_class_name(class_name):
        raise RecordError(SCHEMA_FILE, f"#{index}", f"invalid class name {class_name!r}")
    where = f"schema of {class_name}"
    before = get_schema(class_name, fresh=True)
    defaults = default_fields(class_name)
    wanted: dict[str, dict[str, Any]] = {}
    for name, spec in (api.get("fields") or {}).items():
        if name in defaults:
            continue
        try:
            wanted[name] = validate_field_spec(class_name, name, spec)
        except ParseError as exc:
            raise RecordError(where, None, exc.message, name) from None
        current = before.fields.get(name) if before is not None else None
        if current is not None and not types_compatible(current, wanted[name]):
            raise RecordError(
                where,
                None,
                f"schema mismatch: expected {describe_type(current)} "
                f"but got {describe_type(wanted[name])}",
                name,
            )
    try:
        schema = schema_for_write(MASTER, class_name, wanted, is_update=False)
    except ParseError as exc:
        raise RecordError(where, None, exc.message) from None
    changed = before is not None and any(name not in before.fields for name in wanted)
    if api.get("classLevelPermissions") is not None:
        try:
            clp = validate_clp(api["classLevelPermissions"], schema.fields)
        except ParseError as exc:
            raise RecordError(where, None, exc.message, "classLevelPermissions") from None
        # Compared as served (defaults merged), so an exported schema re-imports as equal.
        candidate = ClassSchema(class_name=class_name, class_level_permissions=clp)
        if build_schema(class_name, candidate).clp != schema.clp:
            row = ensure_row(class_name)
            row.class_level_permissions = clp
            save_row(row, "class_level_permissions")
            changed = True
    indexes = {
        name: spec
        for name, spec in (api.get("indexes") or {}).items()
        if name != DEFAULT_INDEX and name not in schema.indexes
    }
    if indexes:
        changed = _apply_indexes(class_name, ensure_row(class_name), indexes, warn) or changed
    return "created" if before is None else "updated" if changed else "unchanged"


def _apply_indexes(
    class_name: str, row: ClassSchema, indexes: dict[str, Any], warn: Callable[[str], None]
) -> bool:
    added = False
    for name, spec in indexes.items():
        try:
            with transaction.atomic(using=db_alias(write=True)):
                apply_index_changes(build_schema(class_name, row), row, {name: spec})
            added = True
        except ParseError as exc:
            row.refresh_from_db(fields=["indexes"])
            warn(f"schema of {class_name}: index {name!r} not created: {exc.message}")
    return added
