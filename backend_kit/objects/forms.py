"""Admin forms that edit records, schemas and Config parameters as JSON.

Objects and schemas are never saved through the ORM here: every change goes through
the same functions the REST API uses (``writes``, ``schema_api``), with master
rights, so type checks, required fields, triggers and change signals apply exactly
as for an SDK write. The admin only shows errors raised while a form validates, so
each form applies its change at the end of validation (``_post_clean``, as Django's
own ``UserCreationForm`` does for passwords), inside one transaction: a refused
change rolls back whole and comes back as a form error with Parse's code and reason.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from ..codec import decode_value
from ..context import RequestContext
from ..errors import ParseError
from . import writes
from .models import ClassSchema, GlobalConfig, ParseObject
from .schema import get_schema
from .schema_api import create_class, update_class
from .sql import db_alias

DELETE_OP = {"__op": "Delete"}
# Keys that are columns or the ACL, not fields: they have their own boxes or are fixed.
METADATA_KEYS = frozenset({"objectId", "createdAt", "updatedAt", "ACL"})


def parse_error_message(err: ParseError) -> str:
    """How the admin words a refused change: Parse's code, then its reason."""
    return f"Parse error {err.code}: {err.message}"


def is_internal_key(key: str) -> bool:
    """Keys starting with ``_`` (password hashes, auth data locks) are not API fields."""
    return key.startswith("_")


def visible_data(data: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (data or {}).items() if not is_internal_key(k)}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class PrettyJSONField(forms.JSONField):
    """A JSON box that shows its value indented, so a record can be read and edited."""

    def __init__(self, *, rows: int = 16, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": rows, "cols": 90, "class": "vLargeTextField"}),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return pretty_json(value)


def _object_json(value: Any, name: str) -> dict[str, Any]:
    """A JSON box that must hold an object; empty means ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be a JSON object.", code="not_object")
    return value


def update_body(
    old_data: dict[str, Any], new_data: dict[str, Any], old_acl: Any, new_acl: Any
) -> dict[str, Any]:
    """The REST update body turning ``old`` into ``new``: set changed keys, delete removed ones.

    Internal keys are never in the edited JSON, so their absence is not a deletion.
    """
    body: dict[str, Any] = {}
    for key, value in new_data.items():
        if key not in old_data or old_data[key] != value:
            body[key] = value
    for key in old_data:
        if key not in new_data and not is_internal_key(key):
            body[key] = dict(DELETE_OP)
    if new_acl != old_acl:
        body["ACL"] = new_acl if new_acl is not None else dict(DELETE_OP)
    return body


def named_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Schema API changes for named entries (fields, indexes): new or changed, or Delete.

    A changed entry is sent as is: the schema API refuses it with Parse's own reason
    (a field's type cannot change in place).
    """
    changes: dict[str, Any] = {name: spec for name, spec in new.items() if old.get(name) != spec}
    changes.update({name: dict(DELETE_OP) for name in old if name not in new})
    return changes


class ParseObjectForm(forms.ModelForm):
    """Create or edit one object: its fields as a JSON object, its ACL as JSON."""

    data = PrettyJSONField(
        rows=20,
        label="Fields",
        help_text="The object's fields as JSON in the Parse wire encoding (Dates, Pointers, "
        "Files as __type objects). A key you remove is deleted.",
    )
    acl = PrettyJSONField(
        rows=6,
        label="ACL",
        help_text='For example {"*": {"read": true}, "role:Admins": {"read": true, '
        '"write": true}}. null means public read and write.',
    )
    # The updatedAt the editor saw: an edit on top of a newer version would silently
    # undo someone else's change, so it is refused instead.
    loaded_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    # Set by the admin on the per-request form class: who is writing.
    write_context: RequestContext | None = None

    class Meta:
        model = ParseObject
        fields = ["class_name", "data", "acl"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["data"] = visible_data(self.instance.data)
            self.initial["loaded_updated_at"] = self.instance.updated_at.isoformat()
        else:
            self.initial.setdefault("data", {})

    def clean_data(self) -> dict[str, Any]:
        data = _object_json(self.cleaned_data.get("data"), "Fields")
        reserved = sorted(METADATA_KEYS.intersection(data) - self._allowed_metadata())
        if reserved:
            raise ValidationError(
                f"{', '.join(reserved)} cannot be set here: objectId and the dates are kept "
                "by the server, the ACL has its own box.",
                code="metadata",
            )
        return data

    def _allowed_metadata(self) -> set[str]:
        # A new object may ask for its objectId (the write path decides if that is allowed).
        return set() if self.instance.pk else {"objectId"}

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            with transaction.atomic(using=db_alias(write=True)):
                self._write()
        except ParseError as err:
            self.add_error(None, ValidationError(parse_error_message(err), code="parse"))
        except ValidationError as err:
            self.add_error(None, err)

    def _context(self) -> RequestContext:
        return self.write_context or RequestContext.master(origin="admin")

    def _write(self) -> None:
        data = self.cleaned_data["data"]
        acl = self.cleaned_data.get("acl")
        if not self.instance.pk:
            body = dict(data)
            if acl is not None:
                body["ACL"] = acl
            class_name = self.cleaned_data["class_name"]
            result = writes.create(self._context(), class_name, body)
            created = ParseObject.objects.get(
                class_name=class_name, object_id=result.payload["objectId"]
            )
            self.instance.pk = created.pk
            return
        current = (
            ParseObject.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("data", "acl", "updated_at")
            .first()
        )
        if current is None:
            raise ValidationError("This object was deleted meanwhile.", code="gone")
        old_data, old_acl, updated_at = current
        loaded = self.cleaned_data.get("loaded_updated_at")
        if loaded and loaded != updated_at.isoformat():
            raise ValidationError(
                "This object was changed since you opened it. Reload the page and redo the edit.",
                code="stale",
            )
        body = update_body(old_data or {}, data, old_acl, acl)
        if body:  # saving an untouched form must not bump updatedAt
            writes.update(self._context(), self.instance.class_name, self.instance.object_id, body)


class ClassSchemaForm(forms.ModelForm):
    """Create or change a class schema: fields, class-level permissions and indexes."""

    fields = PrettyJSONField(
        rows=14,
        help_text='Fields added by you, e.g. {"score": {"type": "Number", "required": true}}. '
        "A field you remove is dropped with its data; a type cannot be changed in place.",
    )
    class_level_permissions = PrettyJSONField(
        rows=14,
        label="Class-level permissions",
        help_text='Per operation, who may do it, e.g. {"find": {"*": true}, "create": '
        '{"role:Admins": true}}.',
    )
    indexes = PrettyJSONField(
        rows=6,
        help_text='Named indexes, e.g. {"score_1": {"score": 1}}. A removed name is dropped.',
    )

    class Meta:
        model = ClassSchema
        fields = ["class_name", "fields", "class_level_permissions", "indexes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            schema = get_schema(self.instance.class_name, fresh=True)
            # Show the permissions in force (defaults included), as GET /schemas does.
            if schema is not None:
                self.initial["class_level_permissions"] = schema.clp
        else:
            for name in ("fields", "class_level_permissions", "indexes"):
                self.initial.setdefault(name, {})

    def clean_fields(self) -> dict[str, Any]:
        return _object_json(self.cleaned_data.get("fields"), "Fields")

    def clean_class_level_permissions(self) -> dict[str, Any]:
        return _object_json(
            self.cleaned_data.get("class_level_permissions"), "Class-level permissions"
        )

    def clean_indexes(self) -> dict[str, Any]:
        return _object_json(self.cleaned_data.get("indexes"), "Indexes")

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            with transaction.atomic(using=db_alias(write=True)):
                self._apply()
        except ParseError as err:
            self.add_error(None, ValidationError(parse_error_message(err), code="parse"))

    def _apply(self) -> None:
        fields = self.cleaned_data["fields"]
        clp = self.cleaned_data["class_level_permissions"]
        indexes = self.cleaned_data["indexes"]
        if not self.instance.pk:
            row_class = self.cleaned_data["class_name"]
            create_class(row_class, fields, clp or None, indexes or None)
            self.instance.pk = ClassSchema.objects.get(class_name=row_class).pk
            return
        body: dict[str, Any] = {}
        field_changes = named_diff(self.instance_initial("fields"), fields)
        if field_changes:
            body["fields"] = field_changes
        if clp != self.initial.get("class_level_permissions"):
            body["classLevelPermissions"] = clp
        index_changes = named_diff(self.instance_initial("indexes"), indexes)
        if index_changes:
            body["indexes"] = index_changes
        if body:
            update_class(self.instance.class_name, body)

    def instance_initial(self, name: str) -> dict[str, Any]:
        """The stored value as the form was built (before ``_post_clean`` set the edit)."""
        return dict(self.initial.get(name) or {})


class GlobalConfigForm(forms.ModelForm):
    """A Config parameter; its value is checked as Parse JSON (Dates, Files, ...)."""

    value = PrettyJSONField(rows=10, help_text="Any JSON value in the Parse wire encoding.")

    class Meta:
        model = GlobalConfig
        fields = ["name", "value", "master_key_only"]

    def clean_value(self) -> Any:
        try:
            return decode_value(
                self.cleaned_data.get("value"), path=self.cleaned_data.get("name") or ""
            )
        except ParseError as err:
            raise ValidationError(parse_error_message(err), code="parse") from err
