"""The per-class hook of ``bk_import``: how records of a class become stored objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...codec import decode_value, field_type_of, is_valid_field_name, parse_iso
from ...errors import ParseError
from ..permissions import validate_acl
from .base import Counts, ImportOptions, RecordError
from .storing import ImportRow, upsert_rows


class ClassImporter:
    """How the records of one class become stored objects.

    Subclass it for a class whose objects need more than a plain upsert (``_User``:
    password hashes and the link to the Django user; ``_Session``: hashed tokens;
    ``_Installation``: push devices) and register an instance with
    :func:`register_importer`, typically from ``AppConfig.ready()``. Override
    :meth:`convert` to change how a REST-form record becomes a row, :meth:`write_batch`
    to store rows elsewhere or in addition (call ``super()`` to keep the object rows).
    The other hooks (:meth:`skip_reason`, :meth:`problems`, :meth:`relations_written`)
    do nothing by default.
    """

    # False for an importer that stores its rows outside the objects table (no schema
    # is created or extended for the class)
    stores_objects = True

    def skip_reason(self, class_name: str, options: ImportOptions) -> str | None:
        """Why the whole class is left out of this import (None: import it).

        The operator is told the reason; nothing of the class is read.
        """
        return None

    def problems(
        self, class_name: str, rows: list[ImportRow], options: ImportOptions
    ) -> dict[str, str]:
        """``{objectId: why}`` for rows of a batch that cannot be stored.

        Runs inside the batch's transaction before the schema is merged and
        :meth:`write_batch` is called, so it may compare rows with what is stored (a
        name taken by another object). Each refused row stops the import, or is skipped
        and reported under ``--continue-on-error``.
        """
        return {}

    def relations_written(self, owner_class: str, key: str) -> None:
        """Called inside the transaction that stored ``_Join:<key>:<owner_class>`` pairs."""

    def convert(self, class_name: str, record: dict[str, Any]) -> ImportRow:
        """A REST-form record (MongoDB documents are converted before) -> an :class:`ImportRow`."""
        object_id = record.get("objectId")
        if not isinstance(object_id, str) or not object_id or len(object_id) > 64:
            raise RecordError(
                class_name, object_id, "objectId must be a string of 1 to 64 characters"
            )
        try:
            acl = validate_acl(record["ACL"]) if record.get("ACL") is not None else None
        except ParseError as exc:
            raise RecordError(class_name, object_id, exc.message, "ACL") from None
        row = ImportRow(
            object_id,
            {},
            acl,
            _timestamp(class_name, object_id, record, "createdAt"),
            _timestamp(class_name, object_id, record, "updatedAt"),
        )
        for key, value in record.items():
            if key in ("objectId", "ACL", "createdAt", "updatedAt", "__type"):
                continue
            if key == "className" and value == class_name:
                continue  # the dashboard's export names the class on every object
            self.convert_field(class_name, row, key, value)
        return row

    def convert_field(self, class_name: str, row: ImportRow, key: str, value: Any) -> None:
        """Validate one field into ``row.data`` (or ``row.types`` for a relation)."""
        internal = self.internal_name(class_name, key)
        if internal is not None:
            row.data[internal] = value
            return
        if not is_valid_field_name(key):
            raise RecordError(class_name, row.object_id, "invalid field name", key)
        try:
            stored = _without_file_urls(decode_value(value, path=key))
        except ParseError as exc:
            raise RecordError(class_name, row.object_id, exc.message, key) from None
        ftype = field_type_of(stored)
        if ftype is not None:
            row.types[key] = ftype
        if ftype is None or ftype["type"] != "Relation":
            row.data[key] = stored

    def internal_name(self, class_name: str, key: str) -> str | None:
        """The stored name of an internal or secret key (kept, never served), else None.

        Keys starting with ``_`` are internal already (MongoDB's ``_hashed_password``...);
        a hosted Parse export calls the password hash ``bcryptPassword`` and carries a
        legacy ``sessionToken`` on users.
        """
        if key.startswith("_"):
            return key
        if key == "bcryptPassword":
            return "_hashed_password"
        if class_name == "_User" and key == "sessionToken":
            return "_session_token"
        return None

    def write_batch(self, class_name: str, rows: list[ImportRow], options: ImportOptions) -> Counts:
        """Upsert ``rows`` (inside the batch's transaction, schema already merged).

        Returns what was done; ``rows`` holds only the rows to store (the refused ones
        and the duplicates Parse's rules drop are gone).
        """
        return upsert_rows(class_name, rows, options)


class ConfigImporter(ClassImporter):
    """``_GlobalConfig`` (a MongoDB dump's Parse Config document): its ``params`` become
    ``/config`` parameters, with their ``masterKeyOnly`` flags. Parameters already set
    here and absent from the file stay."""

    stores_objects = False

    def convert(self, class_name: str, record: dict[str, Any]) -> ImportRow:
        object_id = str(record.get("objectId"))
        params, master_only = record.get("params") or {}, record.get("masterKeyOnly") or {}
        if not isinstance(params, dict):
            raise RecordError(class_name, object_id, "must be an object", "params")
        if not isinstance(master_only, dict):
            raise RecordError(class_name, object_id, "must be an object", "masterKeyOnly")
        row = ImportRow(object_id, {}, None, None, None)
        for name, value in params.items():
            try:
                row.data[name] = _without_file_urls(decode_value(value, path=name))
            except ParseError as exc:
                raise RecordError(class_name, object_id, exc.message, f"params.{name}") from None
        row.extra["masterKeyOnly"] = {name: master_only.get(name) is True for name in params}
        return row

    def write_batch(self, class_name: str, rows: list[ImportRow], options: ImportOptions) -> Counts:
        from ..models import GlobalConfig

        counts = Counts()
        stored = {row.name: row for row in GlobalConfig.objects.all()}
        for row in rows:
            for name, value in row.data.items():
                flag = row.extra["masterKeyOnly"][name]
                current = stored.get(name)
                if current is None:
                    stored[name] = GlobalConfig.objects.create(
                        name=name, value=value, master_key_only=flag
                    )
                    counts.created += 1
                elif options.skip_existing:
                    counts.skipped += 1
                elif current.value == value and current.master_key_only == flag:
                    counts.unchanged += 1
                else:
                    current.value, current.master_key_only = value, flag
                    current.save(update_fields=["value", "master_key_only", "updated_at"])
                    counts.updated += 1
        return counts


class SkippedClassImporter(ClassImporter):
    """A Parse Server collection that means nothing here: the class is left out."""

    stores_objects = False

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def skip_reason(self, class_name: str, options: ImportOptions) -> str | None:
        return self.reason


# Parse Server's own bookkeeping, found in a dump of its database.
PARSE_SERVER_INTERNALS = {
    "_Hooks": "cloud code webhooks are not supported (cloud code is Python)",
    "_Idempotency": "Parse Server's request ids, short-lived",
    "_GraphQLConfig": "there is no GraphQL API",
    "_JobSchedule": "the dashboard's job schedules: recurring jobs are set up in the admin",
}

_importers: dict[str, ClassImporter] = {
    "_GlobalConfig": ConfigImporter(),
    **{name: SkippedClassImporter(why) for name, why in PARSE_SERVER_INTERNALS.items()},
}
_default_importer = ClassImporter()


def register_importer(class_name: str, importer: ClassImporter | None) -> None:
    """Use ``importer`` for ``class_name`` (None restores the plain document importer)."""
    if importer is None:
        _importers.pop(class_name, None)
    else:
        _importers[class_name] = importer


def importer_for(class_name: str) -> ClassImporter:
    return _importers.get(class_name, _default_importer)


def _timestamp(
    class_name: str, object_id: str, record: dict[str, Any], key: str
) -> datetime | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, dict) and value.get("__type") == "Date":
        value = value.get("iso")
    try:
        return parse_iso(value)
    except ParseError:
        raise RecordError(class_name, object_id, f"invalid date {value!r}", key) from None


def _without_file_urls(value: Any) -> Any:
    # URLs are computed on read from the file name; a stored one would go stale.
    if isinstance(value, dict):
        if value.get("__type") == "File":
            return {"__type": "File", "name": value["name"]}
        return {k: _without_file_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_file_urls(v) for v in value]
    return value
