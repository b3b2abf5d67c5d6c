"""``/classes``, ``/purge``: the objects endpoints."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView, ParseJSONRenderer
from ..codec import check_class_name
from ..conf import bk_settings
from . import reads, writes
from .handlers import handler_for
from .openapi import (
    CLASS_NAME,
    FIND_PARAMETERS,
    GET_PARAMETERS,
    OBJECT_BODY,
    OBJECT_ID,
    error_responses,
    object_response,
    results_response,
)
from .sql import connection, db_alias, execute, tables


def location(request: Any, class_name: str, object_id: str, base: str = "classes") -> str:
    """``Location`` of a created object: ``<mount>/classes/<class>/<id>`` (``<mount>/users/<id>``)."""
    tail = f"{base}/{class_name}/{object_id}" if class_name else f"{base}/{object_id}"
    server = bk_settings.SERVER_URL
    if server:
        return f"{server.rstrip('/')}/{tail}"
    path = request.path
    mount = path[: path.rfind(f"/{base}")] if f"/{base}" in path else path.rsplit("/", 1)[0]
    return request.build_absolute_uri(f"{mount}/{tail}")


class ClassView(ParseAPIView):
    """Query (GET) and create (POST) objects of one class."""

    @extend_schema(
        operation_id="classes_find",
        parameters=[CLASS_NAME, *FIND_PARAMETERS],
        responses={200: results_response, **error_responses},
    )
    def get(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        handler = handler_for(class_name)
        if handler is not None:
            return Response(handler.find(request.bk, class_name, self.params))
        # the results may stay JSON bytes when the JSON renderer is the one to read them
        for_renderer = isinstance(getattr(request, "accepted_renderer", None), ParseJSONRenderer)
        return Response(reads.find(request.bk, class_name, self.params, for_renderer=for_renderer))

    @extend_schema(
        operation_id="classes_create",
        parameters=[CLASS_NAME],
        request=OBJECT_BODY,
        responses={201: object_response, **error_responses},
    )
    def post(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        handler = handler_for(class_name)
        result = (handler or writes).create(request.bk, class_name, request.data)
        headers = {}
        if result.location:
            headers["Location"] = location(request._request, class_name, result.location)
        return Response(result.payload, status=result.status, headers=headers)


class ObjectView(ParseAPIView):
    """Read, update and delete one object."""

    @extend_schema(
        operation_id="classes_get",
        parameters=[CLASS_NAME, OBJECT_ID, *GET_PARAMETERS],
        responses={200: object_response, **error_responses},
    )
    def get(self, request: Any, class_name: str, object_id: str) -> Response:
        check_class_name(class_name)
        handler = handler_for(class_name)
        if handler is not None:
            return Response(handler.get(request.bk, class_name, object_id, self.params))
        return Response(reads.get(request.bk, class_name, object_id, self.params))

    @extend_schema(
        operation_id="classes_update",
        parameters=[CLASS_NAME, OBJECT_ID],
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def put(self, request: Any, class_name: str, object_id: str) -> Response:
        check_class_name(class_name)
        handler = handler_for(class_name)
        result = (handler or writes).update(request.bk, class_name, object_id, request.data)
        return Response(result.payload, status=result.status)

    @extend_schema(
        operation_id="classes_delete",
        parameters=[CLASS_NAME, OBJECT_ID],
        responses={200: object_response, **error_responses},
    )
    def delete(self, request: Any, class_name: str, object_id: str) -> Response:
        check_class_name(class_name)
        handler = handler_for(class_name)
        return Response((handler or writes).delete(request.bk, class_name, object_id))


class PurgeView(ParseAPIView):
    """Delete every object of a class, keeping its schema (master key)."""

    master_only = True
    read_only_refusals = {"DELETE": "read-only masterKey isn't allowed to purge a schema."}

    @extend_schema(
        operation_id="purge",
        parameters=[CLASS_NAME],
        responses={200: object_response, **error_responses},
    )
    def delete(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        purge_class(class_name)
        return Response({})


def purge_class(class_name: str) -> int:
    from .models import RelationEntry

    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        handler = handler_for(class_name)
        if handler is not None and hasattr(handler, "purge"):
            handler.purge(class_name)
        conn = connection(write=True)
        object_table, _ = tables(conn)
        count = execute(conn, f'DELETE FROM {object_table} WHERE "class_name" = %s', [class_name])
        RelationEntry.objects.using(alias).filter(owner_class=class_name).delete()
    return count


__all__ = ["ClassView", "ObjectView", "PurgeView", "extend_schema", "OpenApiParameter"]
