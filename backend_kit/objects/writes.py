"""Writing objects: create, update, delete, each in one transaction.

Fast route (no triggers, no listeners needing the previous state): one ``INSERT``,
one ``UPDATE ... RETURNING`` with the field operations computed by the database, or
one ``DELETE ... RETURNING``; the ACL and pointer permissions are in the ``WHERE``.
Slow route (a before-trigger or a LiveQuery class): the row is locked first, the
trigger sees the object as it will be, and the result is written under the lock.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import DatabaseError, DataError, IntegrityError, OperationalError, transaction

from ..api import require_writable
from ..codec import close_polygon
from ..context import RequestContext
from ..errors import Code, ParseError, object_not_found
from . import hooks, signals
from .encoding import encode_object, load_json, to_datetime
from .models import RelationEntry
from .operations import (
    DELETE,
    MISSING,
    SET,
    Change,
    WriteBody,
    apply_changes,
    parse_body,
    pg_update_expression,
    take_sqlite_error,
)
from .permissions import (
    acl_principals,
    check_class_access,
    check_class_exists_for,
    check_clp,
    default_acl,
)
from .schema import Schema, get_schema, schema_for_write
from .sql import (
    OBJECT_COLUMNS,
    WIRE_TIME,
    compiler_for,
    connection,
    db_alias,
    execute,
    fetchall,
    fetchone,
    principals_for,
    tables,
)

ID_ALPHABET = string.ascii_letters + string.digits  # 62 characters
RETURNING = '"object_id", "data", "acl", "created_at", "updated_at"'
# On PostgreSQL the timestamps come back in the wire form (see sql.PG_READ_COLUMNS).
PG_RETURNING = ", ".join(
    ['"object_id"', '"data"', '"acl"']
    + [WIRE_TIME.format(c) for c in ('"created_at"', '"updated_at"')]
)


def returning(conn: Any) -> str:
    return PG_RETURNING if conn.vendor == "postgresql" else RETURNING


# Predicates ``(class_name, ctx) -> bool``: does someone need an update's previous
# state? (LiveQuery classes, an audit trail.) Reading it costs a locked SELECT.
OriginalPredicate = Callable[[str, "RequestContext | None"], bool]
_original_predicates: list[OriginalPredicate] = []
_live_check: OriginalPredicate | None = None


def add_original_predicate(predicate: OriginalPredicate) -> None:
    """Ask for the previous state of the updates ``predicate(class_name, ctx)`` accepts;
    it then reaches ``object_saved`` receivers and write listeners as ``original``."""
    if predicate not in _original_predicates:
        _original_predicates.append(predicate)


def set_live_class_check(check: Any) -> None:
    """``check(class_name) -> bool``: the realtime app's predicate (replaced, not added)."""
    global _live_check
    if _live_check is not None and _live_check in _original_predicates:
        _original_predicates.remove(_live_check)
    _live_check = (lambda class_name, ctx: bool(check(class_name))) if check else None
    if _live_check is not None:
        _original_predicates.append(_live_check)


def needs_original(class_name: str, ctx: RequestContext | None = None) -> bool:
    return any(predicate(class_name, ctx) for predicate in _original_predicates)


@dataclass
class WriteEvent:
    """One object write, handed to write listeners inside the write's transaction."""

    ctx: RequestContext
    class_name: str
    action: str  # "create", "update" or "delete"
    object: dict[str, Any]  # API form: the object after the write, or the deleted one
    original: dict[str, Any] | None = None  # before an update, when a predicate asked
    body: Any = None  # what the writer sent (create and update)


_write_listeners: list[Callable[[WriteEvent], None]] = []
# listener -> acts_on(class_name, ctx, action): whether it may write or refuse there
_listener_scopes: dict[Callable[[WriteEvent], None], Callable[[str, Any, str], bool]] = {}


def add_write_listener(
    listener: Callable[[WriteEvent], None],
    *,
    acts_on: Callable[[str, Any, str], bool] | None = None,
) -> None:
    """Call ``listener(event)`` inside each write's transaction, after the row changed.

    What it writes commits or rolls back with the object (an audit trail, a usage
    counter); raising a :class:`ParseError` refuses the write and rolls it back.

    ``acts_on(class_name, ctx, action)`` tells, before the write, whether the listener
    may write or refuse anything for it. Where no listener acts, a create that is one
    statement (no trigger, no relation, no new field) runs as that statement alone, with
    no transaction around it: it is atomic by itself, and the listener, which does
    nothing there, is still called. Without ``acts_on`` the listener always acts.
    """
    if listener not in _write_listeners:
        _write_listeners.append(listener)
    if acts_on is not None:
        _listener_scopes[listener] = acts_on


def _listeners_act_on(class_name: str, ctx: RequestContext, action: str) -> bool:
    for listener in _write_listeners:
        acts_on = _listener_scopes.get(listener)
        if acts_on is None or acts_on(class_name, ctx, action):
            return True
    return False


def _notify(event: WriteEvent) -> None:
    for listener in _write_listeners:
        listener(event)


def new_object_id(length: int = 10) -> str:
    # One read of the system's randomness per id, not one per character: each byte
    # below 248 (4 x 62) picks a character without bias, the others are skipped.
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(ID_ALPHABET[b % 62] for b in secrets.token_bytes(2 * length) if b < 248)
    return "".join(chars[:length])


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


@dataclass
class WriteResult:
    status: int
    payload: dict[str, Any]
    object: dict[str, Any] | None = None
    location: str | None = None


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def _required_check(
    schema: Schema, data: dict[str, Any], body: WriteBody, *, creating: bool
) -> None:
    for name, spec in schema.fields.items():
        if not spec.get("required"):
            continue
        if creating:
            if _blank(data.get(name)):
                raise ParseError(Code.VALIDATION_ERROR, f"{name} is required")
        else:
            for change in body.changes:
                if change.key == name and (
                    change.kind == DELETE or (change.kind == SET and _blank(change.value))
                ):
                    raise ParseError(Code.VALIDATION_ERROR, f"{name} is required")


def _blank(value: Any) -> bool:
    """Parse counts null and the empty string as a missing required value."""
    return value is None or value == ""


def _apply_defaults(schema: Schema, data: dict[str, Any]) -> set[str]:
    """Fill absent fields that have a default (an explicit null stays null, as in Parse)."""
    filled = set()
    for name, spec in schema.fields.items():
        if "defaultValue" in spec and name not in data:
            value = spec["defaultValue"]
            if spec.get("type") == "Polygon" and isinstance(value, dict):
                value = close_polygon(value)  # stored closed, like a written Polygon
            data[name] = value
            filled.add(name)
    return filled


def _check_one_geopoint(parsed: WriteBody) -> None:
    """Parse Server refuses a write that sets more than one GeoPoint field at once."""
    geopoints = [k for k, t in parsed.field_types().items() if t.get("type") == "GeoPoint"]
    if len(geopoints) > 1:
        raise ParseError(Code.INCORRECT_TYPE, "there can only be one geopoint field in a class")


# what bk_within_size (migration 0004) raises with when an update would be too large
TOO_LARGE_MARK = "bk_object_too_large"


def _size_limit() -> int | None:
    from ..conf import bk_settings

    limit = bk_settings.MAX_OBJECT_SIZE
    return None if limit is None else int(limit)


def _too_large(limit: int | None) -> ParseError:
    return ParseError(Code.OBJECT_TOO_LARGE, f"Object is larger than {limit} bytes")


def check_object_size(data: Any) -> None:
    """116 when the stored form of an object is over ``MAX_OBJECT_SIZE`` bytes."""
    limit = _size_limit()
    if limit is None:
        return
    size = len(data) if isinstance(data, (str, bytes)) else len(orjson.dumps(data))
    if size > limit:
        raise _too_large(limit)


def _relation_writes(conn_alias: str, class_name: str, object_id: str, body: WriteBody) -> None:
    for change in body.relation_changes:
        if change.kind == "add_relation":
            RelationEntry.objects.using(conn_alias).bulk_create(
                [
                    RelationEntry(
                        owner_class=class_name,
                        owner_id=object_id,
                        key=change.key,
                        related_class=change.target_class or "",
                        related_id=rid,
                    )
                    for rid in change.value
                ],
                ignore_conflicts=True,
            )
        else:
            RelationEntry.objects.using(conn_alias).filter(
                owner_class=class_name,
                owner_id=object_id,
                key=change.key,
                related_id__in=change.value,
            ).delete()


def _api_data(obj: dict[str, Any]) -> dict[str, Any]:
    """Fields of an API-form object back to stored data (drops metadata and relations)."""
    skip = {"objectId", "createdAt", "updatedAt", "ACL"}
    return {
        k: v
        for k, v in obj.items()
        if k not in skip and not (isinstance(v, dict) and v.get("__type") == "Relation")
    }


def _response_fields(
    body: WriteBody, new_data: dict[str, Any], changed_by_trigger: set[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for change in body.data_changes:
        if change.kind in (SET, DELETE):
            continue
        # Parse answers the computed value at the op's key path only:
        # Increment "stats.wins" -> {"stats": {"wins": 3}}
        value: Any = new_data
        for part in change.path:
            value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
        if value is MISSING:
            continue
        target = out
        for part in change.path[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[change.path[-1]] = value
    for key in changed_by_trigger:
        out[key] = new_data.get(key)
        if key not in new_data:
            out[key] = {"__op": "Delete"}
    return out


def _changed_keys(before: dict[str, Any], after: dict[str, Any], written: set[str]) -> set[str]:
    keys = set()
    for key in set(before) | set(after):
        if key in written:
            continue
        if before.get(key, MISSING) != after.get(key, MISSING):
            keys.add(key)
    return keys


# --- create ----------------------------------------------------------------------------


def _allow_object_id() -> bool:
    from ..conf import bk_settings

    return bool(bk_settings.ALLOW_CUSTOM_OBJECT_ID)


def create(
    ctx: RequestContext,
    class_name: str,
    body: Any,
    *,
    object_id: str | None = None,
    internal: dict[str, Any] | None = None,
) -> WriteResult:
    """Create an object. ``object_id`` and ``internal`` are for server-side callers only:
    a fixed objectId, and ``_``-prefixed fields that are stored but never returned."""
    require_writable(ctx)
    check_class_access(ctx, class_name, "create")
    parsed = parse_body(body, allow_object_id=_allow_object_id())
    _check_one_geopoint(parsed)
    alias = db_alias(write=True)
    schema = _one_statement_schema(ctx, class_name, parsed, "create")
    if schema is not None:
        # The INSERT is the create's only write: on its own, it commits or fails whole.
        check_clp(ctx, schema, "create")
        new = _prepare_create(ctx, class_name, schema, parsed, body, object_id, internal)
        new.object_id = _insert(connection(write=True), class_name, new)
        return _finish_create(ctx, class_name, alias, new)
    with transaction.atomic(using=alias):
        schema = schema_for_write(ctx, class_name, parsed.field_types(), is_update=False)
        check_clp(ctx, schema, "create")
        new = _prepare_create(ctx, class_name, schema, parsed, body, object_id, internal)
        new.object_id = _insert(connection(write=True), class_name, new)
        return _finish_create(ctx, class_name, alias, new)


def _one_statement_schema(
    ctx: RequestContext, class_name: str, parsed: WriteBody, action: str
) -> Schema | None:
    """The schema when this create or update writes nothing but its row, else None.

    Nothing else writes when: no caller's transaction is open (its writes must stay
    with it), the class's schema already has every field of the body (no schema
    change), no beforeSave trigger runs (its code may write), the body changes no
    relation, and no write listener acts on it (see :func:`add_write_listener`). An
    update qualifies on PostgreSQL only, where the size limit is checked inside the
    UPDATE (``bk_within_size``, migration 0004); elsewhere it is checked on the row read
    back, which a transaction must be able to undo. afterSave and LiveQuery run on
    commit as ever: here, once the statement returned.
    """
    conn = connection(write=True)
    if conn.in_atomic_block or parsed.relation_changes:
        return None
    if action == "update" and conn.vendor != "postgresql":
        return None
    if hooks.triggers().has("beforeSave", class_name):
        return None
    schema = get_schema(class_name)
    if schema is None or not schema.stored or not schema_has(schema, parsed):
        return None
    if _listeners_act_on(class_name, ctx, action):
        return None
    return schema


@dataclass
class _NewObject:
    """A create checked and ready to insert: nothing of it is written yet."""

    parsed: WriteBody
    body: Any
    data: dict[str, Any]
    acl: Any
    changed_by_trigger: set[str]
    object_id: str
    fixed_id: bool
    created: datetime
    read: dict[str, Any]
    write: dict[str, Any]


def _prepare_create(
    ctx: RequestContext,
    class_name: str,
    schema: Schema,
    parsed: WriteBody,
    body: Any,
    object_id: str | None = None,
    internal: dict[str, Any] | None = None,
) -> _NewObject:
    """Everything a create decides before its row goes in (inside its transaction:
    a beforeSave trigger may add fields to the schema)."""
    data = apply_changes({}, parsed.data_changes)
    acl = parsed.acl if parsed.acl is not MISSING else default_acl(ctx, schema)
    trig = hooks.triggers()
    changed_by_trigger: set[str] = set()
    if trig.has("beforeSave", class_name):
        proposed = {**data}
        if acl is not None:
            proposed["ACL"] = acl
        result = trig.before_save(ctx, class_name, proposed, None)
        if result is not None:
            new_data = _api_data(result)
            changed_by_trigger = _changed_keys(data, new_data, set())
            acl = result.get("ACL", acl)
            data = new_data
            extra_types = {k: t for k, t in _types_of(data).items() if k in changed_by_trigger}
            if extra_types:
                schema = schema_for_write(ctx.as_master(), class_name, extra_types, is_update=False)
    # Parse fills defaults after beforeSave and answers them like trigger changes
    changed_by_trigger |= _apply_defaults(schema, data)
    _required_check(schema, data, parsed, creating=True)
    check_object_size(data)
    if internal:
        data.update(_internal_fields(internal))
    fixed_id = object_id or parsed.object_id
    read, write = acl_principals(acl)
    return _NewObject(
        parsed=parsed,
        body=body,
        data=data,
        acl=acl,
        changed_by_trigger=changed_by_trigger,
        object_id=fixed_id or new_object_id(),
        fixed_id=fixed_id is not None,
        created=now(),
        read=read,
        write=write,
    )


def _finish_create(
    ctx: RequestContext, class_name: str, alias: str, new: _NewObject
) -> WriteResult:
    """After the row went in, inside the transaction: relations, listeners, the answer."""
    _relation_writes(alias, class_name, new.object_id, new.parsed)
    obj = encode_object(new.object_id, new.data, new.acl, new.created, new.created)
    _notify(WriteEvent(ctx, class_name, "create", obj, None, new.body))
    _after_commit_saved(ctx, class_name, obj, None)
    payload = {"objectId": new.object_id, "createdAt": obj["createdAt"]}
    payload.update(_response_fields(new.parsed, new.data, new.changed_by_trigger))
    if "ACL" in new.changed_by_trigger or (new.parsed.acl is MISSING and new.acl is not None):
        payload["ACL"] = new.acl
    return WriteResult(201, payload, obj, location=new.object_id)


# --- many creates at once ----------------------------------------------------------------


def plan_creates(
    ctx: RequestContext, class_name: str, bodies: list[Any]
) -> list[WriteBody | ParseError | None]:
    """Which of independent creates of one class can go in together (:func:`create_group`).

    Per body: its parsed form when it can, the :class:`ParseError` it alone would get
    (checked in :func:`create`'s order), or ``None`` when it must go through
    :func:`create` one by one: relation operations, an objectId of its own, a field the
    schema does not have yet; and every body when the class has no stored schema, has a
    ``beforeSave`` trigger, or refuses the caller (the refusal is then :func:`create`'s).
    Nothing is written.
    """
    plans: list[WriteBody | ParseError | None] = [None] * len(bodies)
    schema = get_schema(class_name)
    if (
        schema is None
        or not schema.stored
        or ctx.is_read_only_master
        or hooks.triggers().has("beforeSave", class_name)
        or not connection(write=True).features.can_return_rows_from_bulk_insert
    ):
        return plans
    try:
        check_class_access(ctx, class_name, "create")
        check_clp(ctx, schema, "create")
    except ParseError:
        return plans
    for index, body in enumerate(bodies):
        try:
            parsed = parse_body(body, allow_object_id=_allow_object_id())
            _check_one_geopoint(parsed)
        except ParseError as exc:
            plans[index] = exc
            continue
        if not (parsed.relation_changes or parsed.object_id) and schema_has(schema, parsed):
            plans[index] = parsed
    return plans


# the slot of a create not answered yet (create_group fills every one before returning)
_PENDING = ParseError(Code.INTERNAL_SERVER_ERROR, "not created")


def create_group(
    ctx: RequestContext, class_name: str, planned: list[tuple[WriteBody, Any]]
) -> list[WriteResult | ParseError] | None:
    """Create ``(parsed, body)`` pairs from :func:`plan_creates` in one transaction and one
    multi-row INSERT; each gets its own answer, in order.

    ``None`` when the group failed as a whole (a unique index, a write listener refusing
    one of them): nothing of it stays, and each body must go through :func:`create` one
    by one, which gives it its exact answer.
    """
    schema = get_schema(class_name)
    if schema is None:
        return None
    answers: list[WriteResult | ParseError] = []
    alias = db_alias(write=True)
    try:
        with transaction.atomic(using=alias):
            prepared: list[tuple[int, _NewObject]] = []
            for parsed, body in planned:
                try:
                    new = _prepare_create(ctx, class_name, schema, parsed, body)
                except ParseError as exc:
                    answers.append(exc)
                    continue
                prepared.append((len(answers), new))
                answers.append(_PENDING)
            _insert_many(connection(write=True), class_name, [new for _, new in prepared])
            for position, new in prepared:
                answers[position] = _finish_create(ctx, class_name, alias, new)
    except (ParseError, DatabaseError):
        return None
    return answers


def schema_has(schema: Schema, parsed: WriteBody) -> bool:
    """The body's fields are all in the schema with their types: writing adds nothing."""
    from .schema import types_compatible

    fields = schema.fields
    for name, spec in parsed.field_types().items():
        existing = fields.get(name)
        if existing is None or not types_compatible(existing, spec):
            return False
    return True


INSERT_COLUMNS = (
    '("class_name", "object_id", "data", "acl", "read_principals", "write_principals", '
    '"created_at", "updated_at")'
)


def _row(conn: Any, class_name: str, object_id: str, new: _NewObject) -> tuple[str, list[Any]]:
    """One row of ``INSERT_COLUMNS``: its ``VALUES`` placeholders and parameters."""
    j = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
    stamp = conn.ops.adapt_datetimefield_value(new.created)
    acl = _dump(new.acl) if new.acl is not None else None
    params = [class_name, object_id, _dump(new.data), acl, _dump(new.read), _dump(new.write)]
    return f"(%s, %s, {j}, {j}, {j}, {j}, %s, %s)", [*params, stamp, stamp]


def _duplicate() -> ParseError:
    return ParseError(
        Code.DUPLICATE_VALUE, "A duplicate value for a field with unique values was provided"
    )


def _insert_many(conn: Any, class_name: str, news: list[_NewObject]) -> None:
    """Insert the rows in one statement; an objectId already taken gets a new one."""
    if not news:
        return
    taken_here: set[str] = set()
    for new in news:
        while new.object_id in taken_here:  # generated twice in this group
            new.object_id = new_object_id()
        taken_here.add(new.object_id)
    object_table, _ = tables(conn)
    rows, params = [], []
    for new in news:
        values, row_params = _row(conn, class_name, new.object_id, new)
        rows.append(values)
        params += row_params
    sql = (
        f"INSERT INTO {object_table} {INSERT_COLUMNS} VALUES {', '.join(rows)} "
        'ON CONFLICT ("class_name", "object_id") DO NOTHING RETURNING "object_id"'
    )
    inserted = {r[0] for r in fetchall(conn, sql, params)}
    for new in news:
        if new.object_id not in inserted:  # a generated id another object already has
            new.object_id = new_object_id()
            new.object_id = _insert(conn, class_name, new)


def _internal_fields(internal: dict[str, Any]) -> dict[str, Any]:
    for key in internal:
        if not key.startswith("_"):
            raise ValueError(f"internal field names start with '_': {key!r}")
    return internal


def _types_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from ..codec import field_type_of

    out = {}
    for key, value in data.items():
        t = field_type_of(value)
        if t is not None:
            out[key] = t
    return out


def _insert(conn: Any, class_name: str, new: _NewObject) -> str:
    """Insert the row; returns its objectId (a new one if a generated id collided).

    A taken objectId is seen from the row count (``ON CONFLICT ... DO NOTHING``), so
    the insert needs no savepoint of its own: any other unique index refusing the row
    raises, and the create's transaction rolls back (or, where the INSERT is the
    create's only statement, it failed whole on its own).
    """
    object_table, _ = tables(conn)
    object_id = new.object_id
    for _attempt in range(5):
        values, params = _row(conn, class_name, object_id, new)
        sql = (
            f"INSERT INTO {object_table} {INSERT_COLUMNS} VALUES {values} "
            'ON CONFLICT ("class_name", "object_id") DO NOTHING'
        )
        try:
            inserted = execute(conn, sql, params)
        except IntegrityError:
            raise _duplicate()
        if inserted:
            return object_id
        if new.fixed_id:
            raise _duplicate()
        object_id = new_object_id()
    raise ParseError(Code.INTERNAL_SERVER_ERROR, "could not allocate an objectId")


# --- update ----------------------------------------------------------------------------


def update(
    ctx: RequestContext,
    class_name: str,
    object_id: str,
    body: Any,
    *,
    internal: dict[str, Any] | None = None,
) -> WriteResult:
    """Update an object; ``internal`` sets (or with None removes) ``_``-prefixed fields."""
    require_writable(ctx, "update")
    check_class_access(ctx, class_name, "update")
    parsed = parse_body(body)
    _check_one_geopoint(parsed)
    for key, value in _internal_fields(internal or {}).items():
        parsed.changes.append(Change(key, SET if value is not None else DELETE, value))
    alias = db_alias(write=True)
    trig = hooks.triggers()
    slow = (
        trig.has("beforeSave", class_name)
        or trig.has("afterSave", class_name)
        or needs_original(class_name, ctx)
    )
    schema = None if slow else _one_statement_schema(ctx, class_name, parsed, "update")
    if schema is not None:
        # The UPDATE is the update's only write (its size checked by the database in
        # the same statement): on its own, it commits or fails whole.
        return _update_row(ctx, class_name, object_id, body, parsed, schema, alias, False)
    with transaction.atomic(using=alias):
        schema = (
            schema_for_write(ctx, class_name, parsed.field_types(), is_update=True)
            if get_schema(class_name) is not None
            else None
        )
        if schema is None:
            check_class_exists_for(ctx, class_name)
            raise object_not_found()
        return _update_row(ctx, class_name, object_id, body, parsed, schema, alias, slow)


def _update_row(
    ctx: RequestContext,
    class_name: str,
    object_id: str,
    body: Any,
    parsed: WriteBody,
    schema: Schema,
    alias: str,
    slow: bool,
) -> WriteResult:
    """The update's checks and writes, in its transaction or as its one statement."""
    trig = hooks.triggers()
    access = check_clp(ctx, schema, "update")
    _required_check(schema, {}, parsed, creating=False)
    conn = connection(write=True)
    updated = now()
    object_table, _ = tables(conn)
    where, where_params = _writable_where(ctx, conn, schema, access, class_name, object_id)
    changed_by_trigger: set[str] = set()
    original = None
    if slow:
        oid, data, acl, created, old_updated = _locked_row(conn, object_table, where, where_params)
        old_data, old_acl = load_json(data), load_json(acl)
        original = encode_object(oid, old_data, old_acl, created, old_updated)
        new_data = apply_changes(old_data, parsed.data_changes)
        new_acl = old_acl if parsed.acl is MISSING else parsed.acl
        if trig.has("beforeSave", class_name):
            proposed = encode_object(oid, new_data, new_acl, created, updated, file_fields=False)
            result = trig.before_save(ctx, class_name, proposed, original)
            if result is not None:
                after = _api_data(result)
                changed_by_trigger = _changed_keys(new_data, after, set())
                new_data = after
                new_acl = result.get("ACL", new_acl)
                extra_types = {
                    k: t for k, t in _types_of(new_data).items() if k in changed_by_trigger
                }
                if extra_types:
                    schema_for_write(ctx.as_master(), class_name, extra_types, is_update=True)
        row = _write_full(
            conn,
            object_table,
            class_name,
            object_id,
            new_data,
            new_acl,
            updated,
            acl_changed=parsed.acl is not MISSING or "ACL" in changed_by_trigger,
        )
    else:
        row = _write_ops(conn, object_table, where, where_params, parsed, updated)
        if row is None:
            raise object_not_found()
    oid, data, acl, created, stamp = row
    # after the write: the database computed the ops (on PostgreSQL it checked already)
    check_object_size(data)
    new_data = load_json(data)
    obj = encode_object(oid, new_data, load_json(acl), created, stamp)
    _relation_writes(alias, class_name, object_id, parsed)
    _notify(WriteEvent(ctx, class_name, "update", obj, original, body))
    _after_commit_saved(ctx, class_name, obj, original)
    payload = {"updatedAt": obj["updatedAt"]}
    payload.update(_response_fields(parsed, new_data, changed_by_trigger))
    return WriteResult(200, payload, obj)


def _writable_where(
    ctx: RequestContext, conn: Any, schema: Schema, access: Any, class_name: str, object_id: str
) -> tuple[str, list[Any]]:
    """The WHERE of a write on one object: the object, the caller's write ACL and the
    restriction its class-level permissions add (``access``, from ``check_clp``)."""
    compiler = compiler_for(conn, class_name, principals_for(ctx))
    acl_sql, acl_params = compiler.read_acl("write_principals")
    restriction = access.restriction(ctx, schema)
    cond_sql, cond_params = (
        compiler.compile(restriction) if restriction is not None else ("1=1", [])
    )
    where = f'o."class_name" = %s AND o."object_id" = %s AND ({acl_sql}) AND ({cond_sql})'
    return where, [class_name, object_id, *acl_params, *cond_params]


def _locked_row(conn: Any, object_table: str, where: str, params: list[Any]) -> tuple[Any, ...]:
    """The row a write is about to change, locked until its transaction ends (101 if none)."""
    lock = " FOR UPDATE" if conn.vendor == "postgresql" else ""
    row = fetchone(
        conn, f"SELECT {OBJECT_COLUMNS} FROM {object_table} AS o WHERE {where}{lock}", params
    )
    if row is None:
        raise object_not_found()
    return row


def _write_ops(
    conn: Any, table: str, where: str, where_params: list[Any], parsed: WriteBody, updated: datetime
) -> tuple[Any, ...] | None:
    stamp = conn.ops.adapt_datetimefield_value(updated)
    changes = parsed.data_changes
    sets, params = [], []
    if changes:
        if conn.vendor == "postgresql":
            expr, expr_params = pg_update_expression(changes)
            # the size limit inside the statement: nothing oversized is ever written
            sets.append(f'"data" = bk_within_size({expr}, %s)')
            params.extend([*expr_params, _size_limit()])
        else:
            sets.append('"data" = bk_apply_ops("data", %s)')
            params.append(_dump([c.as_json() for c in changes]))
    sets.append('"updated_at" = %s')
    params.append(stamp)
    if parsed.acl is not MISSING:
        read, write = acl_principals(parsed.acl)
        j = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
        sets.append(f'"acl" = {j}, "read_principals" = {j}, "write_principals" = {j}')
        params.extend(
            [_dump(parsed.acl) if parsed.acl is not None else None, _dump(read), _dump(write)]
        )
    sql = f"UPDATE {table} AS o SET {', '.join(sets)} WHERE {where} RETURNING {returning(conn)}"
    try:
        return fetchone(conn, sql, [*params, *where_params])
    except (DataError, OperationalError) as exc:
        # the database computed the ops: an Increment past float8 (PostgreSQL), or
        # a ParseError inside bk_apply_ops (SQLite); the transaction rolls back
        raised = take_sqlite_error()
        if raised is not None:
            raise raised
        if TOO_LARGE_MARK in str(exc):
            raise _too_large(_size_limit())
        if isinstance(exc, DataError):
            raise ParseError(Code.INVALID_JSON, "A field operation gives a value out of range")
        raise


def _write_full(
    conn: Any,
    table: str,
    class_name: str,
    object_id: str,
    data: dict[str, Any],
    acl: Any,
    updated: datetime,
    *,
    acl_changed: bool,
) -> tuple[Any, ...]:
    j = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
    read, write = acl_principals(acl)
    sql = (
        f'UPDATE {table} SET "data" = {j}, "acl" = {j}, "read_principals" = {j}, "write_principals" = {j}, '
        f'"updated_at" = %s WHERE "class_name" = %s AND "object_id" = %s RETURNING {returning(conn)}'
    )
    row = fetchone(
        conn,
        sql,
        [
            _dump(data),
            _dump(acl) if acl is not None else None,
            _dump(read),
            _dump(write),
            conn.ops.adapt_datetimefield_value(updated),
            class_name,
            object_id,
        ],
    )
    assert row is not None
    return row


# --- delete ----------------------------------------------------------------------------


def delete(ctx: RequestContext, class_name: str, object_id: str) -> dict[str, Any]:
    require_writable(ctx, "delete")
    check_class_access(ctx, class_name, "delete")
    alias = db_alias(write=True)
    trig = hooks.triggers()
    with transaction.atomic(using=alias):
        schema = get_schema(class_name)
        if schema is None:
            raise object_not_found()
        access = check_clp(ctx, schema, "delete")
        conn = connection(write=True)
        object_table, relation_table = tables(conn)
        where, params = _writable_where(ctx, conn, schema, access, class_name, object_id)
        if trig.has("beforeDelete", class_name):
            oid, data, acl, created, updated = _locked_row(conn, object_table, where, params)
            trig.before_delete(
                ctx,
                class_name,
                encode_object(oid, load_json(data), load_json(acl), created, updated),
            )
        row = (
            fetchone(
                conn,
                f"DELETE FROM {object_table} AS o WHERE {where} RETURNING {returning(conn)}",
                params,
            )
            if (conn.vendor == "postgresql")
            else _sqlite_delete(conn, object_table, where, params)
        )
        if row is None:
            raise object_not_found()
        oid, data, acl, created, updated = row
        obj = encode_object(oid, load_json(data), load_json(acl), created, updated)
        RelationEntry.objects.using(alias).filter(
            owner_class=class_name, owner_id=object_id
        ).delete()
        _notify(WriteEvent(ctx, class_name, "delete", obj))
        _after_commit_deleted(ctx, class_name, obj)
    return {}


def _sqlite_delete(conn: Any, table: str, where: str, params: list[Any]) -> tuple[Any, ...] | None:
    # SQLite has no table alias in DELETE; select the row id first inside the transaction.
    row = fetchone(conn, f'SELECT o."id", {OBJECT_COLUMNS} FROM {table} AS o WHERE {where}', params)
    if row is None:
        return None
    execute(conn, f'DELETE FROM {table} WHERE "id" = %s', [row[0]])
    return tuple(row[1:])


# --- after commit ------------------------------------------------------------------------


def _after_commit_saved(
    ctx: RequestContext, class_name: str, obj: dict[str, Any], original: dict[str, Any] | None
) -> None:
    alias = db_alias(write=True)

    def run() -> None:
        trig = hooks.triggers()
        if trig.has("afterSave", class_name):
            try:
                trig.after_save(ctx, class_name, obj, original)
            except Exception:  # after triggers cannot undo the write; they log
                import logging

                logging.getLogger("backend_kit.cloud").exception(
                    "afterSave trigger failed on %s", class_name
                )
        signals.object_saved.send_robust(
            sender=class_name, object=obj, original=original, context=ctx
        )

    transaction.on_commit(run, using=alias)


def _after_commit_deleted(ctx: RequestContext, class_name: str, obj: dict[str, Any]) -> None:
    alias = db_alias(write=True)

    def run() -> None:
        trig = hooks.triggers()
        if trig.has("afterDelete", class_name):
            try:
                trig.after_delete(ctx, class_name, obj)
            except Exception:
                import logging

                logging.getLogger("backend_kit.cloud").exception(
                    "afterDelete trigger failed on %s", class_name
                )
        signals.object_deleted.send_robust(sender=class_name, object=obj, context=ctx)

    transaction.on_commit(run, using=alias)


def stamp_to_datetime(value: Any) -> datetime:
    return to_datetime(value)
