"""Class schemas: default fields, class-level permissions, the shared schema cache.

A class's schema row holds only the fields added to it; the default fields of every
class (objectId, createdAt, updatedAt, ACL) and of the system classes are merged in
on read. Schemas are cached per process and invalidated across processes through a
version counter in Django's cache (Redis in production); inside a transaction that
changed a schema, reads bypass the cache so nothing uncommitted is ever cached.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import IntegrityError, connections, router, transaction
from django.dispatch import receiver

from .. import versions
from ..codec import (
    FIELD_TYPES,
    SYSTEM_CLASSES,
    check_class_name,
    describe_type,
    field_type_of,
    invalid_class_name_message,
    is_valid_class_name,
    is_valid_field_name,
    types_compatible,
)
from ..conf import bk_settings
from ..errors import Code, ParseError, permission_denied
from .models import ClassSchema

logger = logging.getLogger("backend_kit")

DEFAULT_FIELDS: dict[str, dict[str, Any]] = {
    "objectId": {"type": "String"},
    "createdAt": {"type": "Date"},
    "updatedAt": {"type": "Date"},
    "ACL": {"type": "ACL"},
}
CLASS_DEFAULT_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "_User": {
        "username": {"type": "String"},
        "password": {"type": "String"},
        "email": {"type": "String"},
        "emailVerified": {"type": "Boolean"},
        "authData": {"type": "Object"},
    },
    "_Installation": {
        "installationId": {"type": "String"},
        "deviceToken": {"type": "String"},
        "channels": {"type": "Array"},
        "deviceType": {"type": "String"},
        "pushType": {"type": "String"},
        "GCMSenderId": {"type": "String"},
        "timeZone": {"type": "String"},
        "localeIdentifier": {"type": "String"},
        "badge": {"type": "Number"},
        "appVersion": {"type": "String"},
        "appName": {"type": "String"},
        "appIdentifier": {"type": "String"},
        "parseVersion": {"type": "String"},
    },
    "_Role": {
        "name": {"type": "String"},
        "users": {"type": "Relation", "targetClass": "_User"},
        "roles": {"type": "Relation", "targetClass": "_Role"},
    },
    "_Session": {
        "user": {"type": "Pointer", "targetClass": "_User"},
        "installationId": {"type": "String"},
        "sessionToken": {"type": "String"},
        "expiresAt": {"type": "Date"},
        "createdWith": {"type": "Object"},
    },
    "_Product": {
        "productIdentifier": {"type": "String"},
        "download": {"type": "File"},
        "downloadName": {"type": "String"},
        "icon": {"type": "File"},
        "order": {"type": "Number"},
        "title": {"type": "String"},
        "subtitle": {"type": "String"},
    },
    "_PushStatus": {
        "pushTime": {"type": "String"},
        "source": {"type": "String"},
        "query": {"type": "String"},
        "payload": {"type": "String"},
        "title": {"type": "String"},
        "expiry": {"type": "Number"},
        "expiration_interval": {"type": "Number"},
        "status": {"type": "String"},
        "numSent": {"type": "Number"},
        "numFailed": {"type": "Number"},
        "pushHash": {"type": "String"},
        "errorMessage": {"type": "Object"},
        "sentPerType": {"type": "Object"},
        "failedPerType": {"type": "Object"},
        "sentPerUTCOffset": {"type": "Object"},
        "failedPerUTCOffset": {"type": "Object"},
        "count": {"type": "Number"},
    },
    "_JobStatus": {
        "jobName": {"type": "String"},
        "source": {"type": "String"},
        "status": {"type": "String"},
        "message": {"type": "String"},
        "params": {"type": "Object"},
        "finishedAt": {"type": "Date"},
    },
    "_JobSchedule": {
        "jobName": {"type": "String"},
        "description": {"type": "String"},
        "params": {"type": "String"},
        "startAfter": {"type": "String"},
        "daysOfWeek": {"type": "Array"},
        "timeOfDay": {"type": "String"},
        "lastRun": {"type": "Number"},
        "repeatMinutes": {"type": "Number"},
    },
    "_Hooks": {
        "functionName": {"type": "String"},
        "className": {"type": "String"},
        "triggerName": {"type": "String"},
        "url": {"type": "String"},
    },
    "_GlobalConfig": {"params": {"type": "Object"}, "masterKeyOnly": {"type": "Object"}},
    "_GraphQLConfig": {"config": {"type": "Object"}},
    "_Audience": {
        "name": {"type": "String"},
        "query": {"type": "String"},
        "lastUsed": {"type": "Date"},
        "timesUsed": {"type": "Number"},
    },
    "_Idempotency": {"reqId": {"type": "String"}, "expire": {"type": "Date"}},
}
# Classes that exist whether or not a schema row was written.
IMPLICIT_CLASSES = frozenset(SYSTEM_CLASSES)
# System classes whose schema rows exist from the start (written after migrate), so
# GET /schemas lists them before anything was stored in them, until they are deleted.
INITIAL_CLASSES = ("_User", "_Role")
# The implicit index on objectId, under the name Parse Server gives it.
ID_INDEX = "_id_"
CLP_OPERATIONS = ("find", "count", "get", "create", "update", "delete", "addField")
CLP_KEYS = frozenset(
    CLP_OPERATIONS + ("ACL", "readUserFields", "writeUserFields", "protectedFields")
)
DEFAULT_CLP: dict[str, Any] = {
    "ACL": {"*": {"read": True, "write": True}},
    "find": {"*": True},
    "count": {"*": True},
    "get": {"*": True},
    "create": {"*": True},
    "update": {"*": True},
    "delete": {"*": True},
    "addField": {"*": True},
    "protectedFields": {"*": []},
}
EMPTY_CLP: dict[str, Any] = {op: {} for op in CLP_OPERATIONS} | {"protectedFields": {}}
USER_ID_RE = re.compile(r"^[A-Za-z0-9]+$")
ROLE_KEY_RE = re.compile(r"^role:.*$")
PROTECTED_KEY_RE = re.compile(r"^(\*|authenticated|role:.*|userField:.*|[A-Za-z0-9]+)$")


@dataclass
class Schema:
    class_name: str
    fields: dict[str, dict[str, Any]]
    clp: dict[str, Any]
    indexes: dict[str, Any] = field(default_factory=dict)
    stored: bool = True

    def field_type(self, name: str) -> dict[str, Any] | None:
        return self.fields.get(name)

    def fields_of_type(self, *types: str) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.get("type") in types]

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "className": self.class_name,
            "fields": copy.deepcopy(self.fields),
            "classLevelPermissions": copy.deepcopy(self.clp),
        }
        # Parse Server on PostgreSQL records the primary key index of every class it
        # creates and lists it with the declared ones.
        out["indexes"] = {ID_INDEX: {"_id": 1}, **copy.deepcopy(self.indexes)}
        return out


def default_fields(class_name: str) -> dict[str, dict[str, Any]]:
    return {
        **copy.deepcopy(DEFAULT_FIELDS),
        **copy.deepcopy(CLASS_DEFAULT_FIELDS.get(class_name, {})),
    }


def build_schema(class_name: str, row: ClassSchema | None) -> Schema:
    fields = default_fields(class_name)
    if row is None:
        clp = copy.deepcopy(DEFAULT_CLP)
        return Schema(class_name, fields, _with_user_protection(class_name, clp), {}, stored=False)
    fields.update(copy.deepcopy(row.fields or {}))
    clp = (
        {**copy.deepcopy(EMPTY_CLP), **copy.deepcopy(row.class_level_permissions)}
        if row.class_level_permissions
        else copy.deepcopy(DEFAULT_CLP)
    )
    return Schema(
        class_name, fields, _with_user_protection(class_name, clp), copy.deepcopy(row.indexes or {})
    )


def stored_clp(clp: dict[str, Any] | None) -> dict[str, Any]:
    """The CLP row value for a CLP a client set (None: the defaults).

    Parse merges a set CLP over empty permissions, so ``{}`` locks the class to the
    master key; the row keeps that merge because an empty row means "defaults".
    """
    if clp is None:
        return {}
    return {**copy.deepcopy(EMPTY_CLP), **copy.deepcopy(clp)}


def _with_user_protection(class_name: str, clp: dict[str, Any]) -> dict[str, Any]:
    """Parse's ``protectedFields`` server option: ``_User.email`` hidden from others."""
    if class_name == "_User":
        protected = clp.setdefault("protectedFields", {})
        public = protected.setdefault("*", [])
        for name in bk_settings.PROTECTED_USER_FIELDS or []:
            if name not in public:
                public.append(name)
    return clp


# --- cache ---------------------------------------------------------------------------

_VERSION_KEY = "backend_kit:schema_version"


class _SchemaCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, Schema | None] = {}
        self.version: Any = None
        self.checked_at = 0.0

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.version = None
            self.checked_at = 0.0


_cache = _SchemaCache()


def _shared_version() -> Any:
    try:
        # counted from the clock: a cache emptied by a restart never repeats a value
        return versions.current(_VERSION_KEY, initial=int(time.time() * 1000))
    except Exception:  # a cache outage must not take the API down: fall back to no cache
        return object()


def bump_version() -> None:
    try:
        versions.bump(_VERSION_KEY, initial=int(time.time() * 1000))
    except Exception:
        logger.warning("The schema version could not be bumped", exc_info=True)
    _cache.clear()


def _db_alias() -> str:
    return router.db_for_write(ClassSchema) or "default"


def _in_dirty_transaction() -> bool:
    conn = connections[_db_alias()]
    if getattr(conn, "bk_schema_dirty", False):
        if conn.in_atomic_block:
            return True
        conn.bk_schema_dirty = False
    return False


def _mark_dirty() -> None:
    conn = connections[_db_alias()]
    conn.bk_schema_dirty = True
    _cache.clear()
    transaction.on_commit(bump_version, using=_db_alias())


# Inside a request the shared version is read once: a request sees one snapshot of the
# schemas (its own schema writes clear the process cache as they happen). Outside
# requests (jobs, commands) every lookup checks. The dict is per request: the signals
# below run in the request's own context.
_request_check: contextvars.ContextVar[dict[str, bool] | None] = contextvars.ContextVar(
    "backend_kit_schema_request_check", default=None
)


@receiver(request_started)
def _begin_request(**kwargs: Any) -> None:
    _request_check.set({"checked": False})


@receiver(request_finished)
def _end_request(**kwargs: Any) -> None:
    _request_check.set(None)


def _validate_cache() -> None:
    request = _request_check.get()
    if request is not None and request["checked"]:
        return
    now = time.monotonic()
    ttl = float(bk_settings.SCHEMA_CACHE_TTL)
    if now - _cache.checked_at < ttl and _cache.version is not None:
        return
    version = _shared_version()
    if version != _cache.version:
        with _cache.lock:
            _cache.entries.clear()
            _cache.version = version
    _cache.checked_at = now
    if request is not None:
        request["checked"] = True


def load_schema(class_name: str) -> Schema | None:
    """Read the schema from the database, bypassing the cache."""
    row = ClassSchema.objects.filter(class_name=class_name).first()
    if row is None and class_name not in IMPLICIT_CLASSES:
        return None
    return build_schema(class_name, row)


def get_schema(class_name: str, *, fresh: bool = False) -> Schema | None:
    """The schema of ``class_name`` or None if the class does not exist."""
    if fresh or _in_dirty_transaction():
        return load_schema(class_name)
    _validate_cache()
    try:
        cached = _cache.entries[class_name]
    except KeyError:
        cached = None
    if cached is not None:
        return cached
    # Absence is never served from the cache: a class another worker just created
    # must be found, and a miss costs one indexed read.
    schema = load_schema(class_name)
    if schema is not None:
        _cache.entries[class_name] = schema
    return schema


def all_schemas() -> list[Schema]:
    rows = {row.class_name: row for row in ClassSchema.objects.all()}
    return [build_schema(name, rows[name]) for name in sorted(rows)]


def clear_cache() -> None:
    _cache.clear()


# --- validation --------------------------------------------------------------------------


def validate_field_spec(
    class_name: str, name: str, spec: Any, *, adding: bool = True
) -> dict[str, Any]:
    if (
        not is_valid_field_name(name)
        or name == "length"
        or (name == "className" and class_name != "_Hooks")
    ):
        raise ParseError(Code.INVALID_KEY_NAME, f"invalid field name: {name}")
    if adding and (name in DEFAULT_FIELDS or name in CLASS_DEFAULT_FIELDS.get(class_name, {})):
        raise ParseError(136, f"field {name} cannot be added")
    if not isinstance(spec, dict):
        raise ParseError(Code.INVALID_JSON, "invalid JSON")
    ftype = spec.get("type")
    if ftype in ("Pointer", "Relation"):
        target = spec.get("targetClass")
        if not target:
            raise ParseError(135, f"type {ftype} needs a class name")
        if not isinstance(target, str):
            raise ParseError(Code.INVALID_JSON, "invalid JSON")
        if not is_valid_class_name(target):
            raise ParseError(Code.INVALID_CLASS_NAME, invalid_class_name_message(target))
    elif not isinstance(ftype, str):
        raise ParseError(Code.INVALID_JSON, "invalid JSON")
    elif ftype not in FIELD_TYPES or ftype == "ACL":
        raise ParseError(Code.INCORRECT_TYPE, f"invalid field type: {ftype}")
    out: dict[str, Any] = {"type": ftype}
    if ftype in ("Pointer", "Relation"):
        out["targetClass"] = spec["targetClass"]
    if "required" in spec:
        if not isinstance(spec["required"], bool):
            raise ParseError(Code.INVALID_JSON, f"invalid required value for {name}")
        if spec["required"] and ftype == "Relation" and spec.get("defaultValue") is None:
            raise ParseError(
                Code.INCORRECT_TYPE,
                f"The 'required' option is not applicable for {describe_type(out)}",
            )
        if spec["required"]:
            out["required"] = True
    if "defaultValue" in spec and spec["defaultValue"] is not None:
        if ftype == "Relation":
            raise ParseError(
                Code.INCORRECT_TYPE,
                f"The 'default value' option is not applicable for {describe_type(out)}",
            )
        from ..codec import decode_value

        value = decode_value(spec["defaultValue"])
        actual = field_type_of(value)
        if actual is None or not types_compatible(out, actual):
            raise ParseError(
                Code.INCORRECT_TYPE,
                f"schema mismatch for {class_name}.{name} default value; expected {describe_type(out)} "
                f"but got {describe_type(actual or {'type': 'null'})}",
            )
        out["defaultValue"] = value
    return out


def check_single_geopoint_field(fields: dict[str, dict[str, Any]]) -> None:
    """A class schema written through /schemas may hold one GeoPoint field (Parse Server)."""
    geopoints = [name for name, spec in fields.items() if spec.get("type") == "GeoPoint"]
    if len(geopoints) > 1:
        raise ParseError(
            Code.INCORRECT_TYPE,
            "currently, only one GeoPoint field may exist in an object. "
            f"Adding {geopoints[1]} when {geopoints[0]} already exists.",
        )


def js_text(value: Any) -> str:
    """``value`` as JavaScript prints it in a template string (Parse's error messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else js_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def validate_clp(clp: Any, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if clp is None:
        return {}
    if not isinstance(clp, dict):
        raise ParseError(Code.INVALID_JSON, "class level permissions must be an object")
    for op, perms in clp.items():
        if op not in CLP_KEYS:
            raise ParseError(
                Code.INVALID_JSON, f"{op} is not a valid operation for class level permissions"
            )
        if op in ("readUserFields", "writeUserFields"):
            if not isinstance(perms, list):
                raise ParseError(
                    Code.INVALID_JSON,
                    f"'{js_text(perms)}' is not a valid value for class level permissions {op} - must be an array",
                )
            for name in perms:
                _check_pointer_permission_field(name, fields, op)
            continue
        if not isinstance(perms, dict):
            raise ParseError(
                Code.INVALID_JSON,
                f"'{js_text(perms)}' is not a valid value for class level permissions {op} - must be an object",
            )
        if op == "protectedFields":
            for entity, names in perms.items():
                if not PROTECTED_KEY_RE.match(entity):
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{entity}' is not a valid key for class level permissions",
                    )
                if not isinstance(names, list):
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{js_text(names)}' is not a valid value for protectedFields[{entity}] - expected an array.",
                    )
                for name in names:
                    if name in DEFAULT_FIELDS:
                        raise ParseError(
                            Code.INVALID_JSON, f"Default field '{name}' can not be protected"
                        )
                    if name not in fields:
                        raise ParseError(
                            Code.INVALID_JSON,
                            f"Field '{name}' in protectedFields:{entity} does not exist",
                        )
            continue
        for entity, permit in perms.items():
            if entity == "pointerFields":
                if not isinstance(permit, list):
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{js_text(permit)}' is not a valid value for {op}[{entity}] - expected an array.",
                    )
                for name in permit:
                    _check_pointer_permission_field(name, fields, op)
                continue
            if not (
                entity in ("*", "requiresAuthentication")
                or ROLE_KEY_RE.match(entity)
                or USER_ID_RE.match(entity)
            ):
                raise ParseError(
                    Code.INVALID_JSON, f"'{entity}' is not a valid key for class level permissions"
                )
            if op == "ACL":
                if not isinstance(permit, dict):
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{js_text(permit)}' is not a valid value for class level permissions acl",
                    )
                bad_keys = [k for k in permit if k not in ("read", "write")]
                if bad_keys:
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{','.join(bad_keys)}' is not a valid key for class level permissions acl",
                    )
                bad_values = [v for v in permit.values() if not isinstance(v, bool)]
                if bad_values:
                    raise ParseError(
                        Code.INVALID_JSON,
                        f"'{js_text(bad_values)}' is not a valid value for class level permissions acl",
                    )
            elif permit is not True:
                raise ParseError(
                    Code.INVALID_JSON,
                    f"'{js_text(permit)}' is not a valid value for class level permissions acl {op}:{entity}",
                )
    return clp


def _check_pointer_permission_field(name: Any, fields: dict[str, dict[str, Any]], op: str) -> None:
    spec = fields.get(name) if isinstance(name, str) else None
    if not spec or not (
        (spec.get("type") == "Pointer" and spec.get("targetClass") == "_User")
        or spec.get("type") == "Array"
    ):
        raise ParseError(
            Code.INVALID_JSON,
            f"'{js_text(name)}' is not a valid column for class level pointer permissions {op}",
        )


# --- mutations ----------------------------------------------------------------------------


def _locked_row(class_name: str) -> ClassSchema | None:
    return ClassSchema.objects.select_for_update().filter(class_name=class_name).first()


def create_class(
    class_name: str,
    fields: dict[str, Any] | None = None,
    clp: Any = None,
    indexes: Any = None,
    *,
    exists_ok: bool = False,
) -> Schema:
    check_class_name(class_name)
    fields = fields or {}
    clean: dict[str, dict[str, Any]] = {}
    for name, spec in fields.items():
        clean[name] = validate_field_spec(class_name, name, spec)
    full_fields = {**default_fields(class_name), **clean}
    check_single_geopoint_field(full_fields)
    clp_clean = validate_clp(clp, full_fields) if clp is not None else None
    with transaction.atomic(using=_db_alias()):
        if ClassSchema.objects.filter(class_name=class_name).exists():
            if exists_ok:
                return load_schema(class_name)  # type: ignore[return-value]
            raise ParseError(Code.INVALID_CLASS_NAME, f"Class {class_name} already exists.")
        try:
            with transaction.atomic(using=_db_alias()):
                row = ClassSchema.objects.create(
                    class_name=class_name,
                    fields=clean,
                    class_level_permissions=stored_clp(clp_clean),
                    indexes={},
                )
        except IntegrityError:
            if exists_ok:
                return load_schema(class_name)  # type: ignore[return-value]
            raise ParseError(Code.INVALID_CLASS_NAME, f"Class {class_name} already exists.")
        _mark_dirty()
        if indexes:
            from .indexes import apply_index_changes

            apply_index_changes(build_schema(class_name, row), row, indexes)
    return load_schema(class_name)  # type: ignore[return-value]


def ensure_row(class_name: str) -> ClassSchema:
    """The schema row, created with default permissions if it does not exist yet."""
    row = _locked_row(class_name)
    if row is not None:
        return row
    try:
        with transaction.atomic(using=_db_alias()):
            row = ClassSchema.objects.create(
                class_name=class_name, fields={}, class_level_permissions={}, indexes={}
            )
    except IntegrityError:
        row = _locked_row(class_name)
        assert row is not None
    _mark_dirty()
    return row


def schema_for_write(
    ctx: Any, class_name: str, new_fields: dict[str, dict[str, Any]], *, is_update: bool
) -> Schema:
    """The class schema with ``new_fields`` added (creating the class if allowed).

    Raises 119 when the caller may not create the class or add fields, 111 on a type
    mismatch. Must run inside the write's transaction.
    """
    check_class_name(class_name)
    schema = get_schema(class_name)
    if schema is None or not schema.stored:
        if schema is None and not (ctx.is_master or bk_settings.ALLOW_CLIENT_CLASS_CREATION):
            raise permission_error(
                f"This user is not allowed to access non-existent class: {class_name}"
            )
        # a write gives the class its row, as Parse's enforceClassExists does, so a
        # system class deleted through /schemas is listed again once written to
        ensure_row(class_name)
        schema = load_schema(class_name)
        assert schema is not None
    missing, conflicts = _diff(schema, new_fields)
    if conflicts:
        schema = load_schema(class_name)  # the cache may be stale; the database decides
        assert schema is not None
        missing, conflicts = _diff(schema, new_fields)
        if conflicts:
            raise _mismatch(class_name, schema, conflicts[0], new_fields[conflicts[0]])
    if not missing:
        return schema
    from .permissions import check_add_field

    check_add_field(ctx, schema, is_update=is_update)
    row = ensure_row(class_name)
    current = build_schema(class_name, row)
    missing, conflicts = _diff(current, new_fields)
    if conflicts:
        raise _mismatch(class_name, current, conflicts[0], new_fields[conflicts[0]])
    if missing:
        stored = dict(row.fields or {})
        for name in missing:
            stored[name] = new_fields[name]
        row.fields = stored
        row.save(update_fields=["fields", "updated_at"])
        _mark_dirty()
    return build_schema(class_name, row)


def _diff(schema: Schema, new_fields: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    missing, conflicts = [], []
    for name, spec in new_fields.items():
        existing = schema.fields.get(name)
        if existing is None:
            missing.append(name)
        elif not types_compatible(existing, spec):
            conflicts.append(name)
    return missing, conflicts


def _mismatch(class_name: str, schema: Schema, name: str, got: dict[str, Any]) -> ParseError:
    expected = schema.fields[name]
    return ParseError(
        Code.INCORRECT_TYPE,
        f"schema mismatch for {class_name}.{name}; expected {describe_type(expected)} but got {describe_type(got)}",
    )


def save_row(row: ClassSchema, *fields: str) -> None:
    row.save(update_fields=[*fields, "updated_at"])
    _mark_dirty()


def delete_row(class_name: str) -> None:
    ClassSchema.objects.filter(class_name=class_name).delete()
    _mark_dirty()


def permission_error(detail: str) -> ParseError:
    return permission_denied(detail)
