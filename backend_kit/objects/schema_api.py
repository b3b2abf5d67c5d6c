"""``/schemas``: create, read, change and delete class schemas (master key)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..codec import check_class_name
from ..errors import Code, ParseError
from . import indexes, signals
from .models import ClassSchema, RelationEntry
from .openapi import CLASS_NAME, OBJECT_BODY, error_responses, object_response, results_response
from .schema import (
    CLASS_DEFAULT_FIELDS,
    DEFAULT_FIELDS,
    all_schemas,
    build_schema,
    check_single_geopoint_field,
    create_class,
    delete_row,
    ensure_row,
    get_schema,
    save_row,
    stored_clp,
    validate_clp,
    validate_field_spec,
)
from .sql import connection, db_alias, execute, fetchone, tables


def _check_body_class(class_name: str, body: dict[str, Any]) -> None:
    given = body.get("className")
    if given is not None and given != class_name:
        raise ParseError(
            Code.INVALID_CLASS_NAME, f"Class name mismatch between {given} and {class_name}."
        )


def update_class(class_name: str, body: dict[str, Any]) -> dict[str, Any]:
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        existing = get_schema(class_name, fresh=True)
        if existing is None:
            raise ParseError(Code.INVALID_CLASS_NAME, f"Class {class_name} does not exist.")
        row = ensure_row(class_name)
        fields = dict(row.fields or {})
        current = build_schema(class_name, row)
        to_delete = []
        for name, spec in (body.get("fields") or {}).items():
            if isinstance(spec, dict) and spec.get("__op") == "Delete":
                if name not in current.fields:
                    raise ParseError(255, f"Field {name} does not exist, cannot delete.")
                if name in DEFAULT_FIELDS or name in CLASS_DEFAULT_FIELDS.get(class_name, {}):
                    raise ParseError(Code.OPERATION_FORBIDDEN, f"field {name} cannot be changed")
                to_delete.append(name)
                continue
            if name in current.fields:
                # Parse: the same type again is a no-op, another type an error
                if isinstance(spec, dict) and spec.get("type") == current.fields[name].get("type"):
                    continue
                raise ParseError(255, f"Field {name} exists, cannot update.")
            fields[name] = validate_field_spec(class_name, name, spec)
        check_single_geopoint_field({n: f for n, f in fields.items() if n not in to_delete})
        for name in to_delete:
            fields.pop(name, None)
            _drop_field_data(class_name, name, current.fields[name])
            indexes.drop_indexes_on_field(class_name, row, name)
        row.fields = fields
        save_row(row, "fields", "indexes")
        merged = build_schema(class_name, row)
        if "classLevelPermissions" in body:
            given = body["classLevelPermissions"]
            clp = validate_clp(given, merged.fields)
            row.class_level_permissions = stored_clp(clp if given is not None else None)
            save_row(row, "class_level_permissions")
        if body.get("indexes"):
            indexes.apply_index_changes(build_schema(class_name, row), row, body["indexes"])
        transaction.on_commit(
            lambda: signals.schema_changed.send_robust(sender=class_name), using=alias
        )
    return build_schema(class_name, ClassSchema.objects.get(class_name=class_name)).to_api()


def _drop_field_data(class_name: str, name: str, spec: dict[str, Any]) -> None:
    conn = connection(write=True)
    object_table, _ = tables(conn)
    if spec.get("type") == "Relation":
        RelationEntry.objects.using(conn.alias).filter(owner_class=class_name, key=name).delete()
        return
    if conn.vendor == "postgresql":
        execute(
            conn,
            f'UPDATE {object_table} SET "data" = "data" - %s WHERE "class_name" = %s AND "data" ? %s',
            [name, class_name, name],
        )
    else:
        path = f'$."{name}"'
        execute(
            conn,
            f'UPDATE {object_table} SET "data" = json_remove("data", %s) WHERE "class_name" = %s '
            'AND json_type("data", %s) IS NOT NULL',
            [path, class_name, path],
        )


def delete_class(class_name: str) -> None:
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        conn = connection(write=True)
        object_table, _ = tables(conn)
        row = fetchone(
            conn, f'SELECT COUNT(*) FROM {object_table} WHERE "class_name" = %s', [class_name]
        )
        count = int(row[0]) if row else 0
        if count:
            raise ParseError(
                255,
                f"Class {class_name} is not empty, contains {count} objects, cannot drop schema.",
            )
        # Parse answers {} for a class that does not exist
        stored = ClassSchema.objects.filter(class_name=class_name).first()
        if stored is not None:
            indexes.drop_all(class_name, stored.indexes)
            delete_row(class_name)
        RelationEntry.objects.using(alias).filter(owner_class=class_name).delete()
        transaction.on_commit(
            lambda: signals.schema_changed.send_robust(sender=class_name), using=alias
        )


READ_ONLY_REFUSALS = {
    "POST": "read-only masterKey isn't allowed to create a schema.",
    "PUT": "read-only masterKey isn't allowed to update a schema.",
    "DELETE": "read-only masterKey isn't allowed to delete a schema.",
}


class SchemasView(ParseAPIView):
    master_only = True
    read_only_refusals = READ_ONLY_REFUSALS

    @extend_schema(
        operation_id="schemas_list", responses={200: results_response, **error_responses}
    )
    def get(self, request: Any) -> Response:
        return Response({"results": [s.to_api() for s in all_schemas()]})

    @extend_schema(
        operation_id="schemas_create_from_body",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        class_name = body.get("className")
        if not class_name:
            raise ParseError(135, "POST /schemas needs a class name.")
        return self._create(class_name, body)

    @staticmethod
    def _create(class_name: str, body: dict[str, Any]) -> Response:
        check_class_name(class_name)
        schema = create_class(
            class_name, body.get("fields"), body.get("classLevelPermissions"), body.get("indexes")
        )
        transaction.on_commit(lambda: signals.schema_changed.send_robust(sender=class_name))
        return Response(schema.to_api())


class SchemaView(ParseAPIView):
    master_only = True
    read_only_refusals = READ_ONLY_REFUSALS

    @extend_schema(
        operation_id="schemas_get",
        parameters=[CLASS_NAME],
        responses={200: object_response, **error_responses},
    )
    def get(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        schema = get_schema(class_name, fresh=True)
        if schema is None:
            raise ParseError(Code.INVALID_CLASS_NAME, f"Class {class_name} does not exist.")
        return Response(schema.to_api())

    @extend_schema(
        operation_id="schemas_create",
        parameters=[CLASS_NAME],
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any, class_name: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        _check_body_class(class_name, body)
        return SchemasView._create(class_name, body)

    @extend_schema(
        operation_id="schemas_update",
        parameters=[CLASS_NAME],
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def put(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        body = request.data if isinstance(request.data, dict) else {}
        _check_body_class(class_name, body)
        return Response(update_class(class_name, body))

    @extend_schema(
        operation_id="schemas_delete",
        parameters=[CLASS_NAME],
        responses={200: object_response, **error_responses},
    )
    def delete(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        delete_class(class_name)
        return Response({})
