"""``/installations`` and ``POST /push``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..objects import reads
from ..objects.openapi import (
    FIND_PARAMETERS,
    GET_PARAMETERS,
    OBJECT_BODY,
    OBJECT_ID,
    error_responses,
    object_response,
    results_response,
)
from ..objects.views import location
from . import service
from .installations import CLASS_NAME, InstallationHandler

STATUS_HEADER = "X-Parse-Push-Status-Id"
_ok = {200: object_response, **error_responses}


class InstallationsView(ParseAPIView):
    """Find installations (master key) and register one."""

    @extend_schema(
        operation_id="installations_find",
        parameters=FIND_PARAMETERS,
        responses={200: results_response, **error_responses},
    )
    def get(self, request: Any) -> Response:
        return Response(reads.find(request.bk, CLASS_NAME, self.params))

    @extend_schema(
        operation_id="installations_create",
        request=OBJECT_BODY,
        responses={201: object_response, **_ok},
    )
    def post(self, request: Any) -> Response:
        result = InstallationHandler().create(request.bk, CLASS_NAME, request.data)
        headers = {}
        if result.location:
            headers["Location"] = location(request._request, CLASS_NAME, result.location)
        return Response(result.payload, status=result.status, headers=headers)


class InstallationView(ParseAPIView):
    @extend_schema(
        operation_id="installations_get", parameters=[OBJECT_ID, *GET_PARAMETERS], responses=_ok
    )
    def get(self, request: Any, object_id: str) -> Response:
        return Response(reads.get(request.bk, CLASS_NAME, object_id, self.params))

    @extend_schema(
        operation_id="installations_update",
        parameters=[OBJECT_ID],
        request=OBJECT_BODY,
        responses=_ok,
    )
    def put(self, request: Any, object_id: str) -> Response:
        result = InstallationHandler().update(request.bk, CLASS_NAME, object_id, request.data)
        return Response(result.payload, status=result.status)

    @extend_schema(operation_id="installations_delete", parameters=[OBJECT_ID], responses=_ok)
    def delete(self, request: Any, object_id: str) -> Response:
        return Response(InstallationHandler().delete(request.bk, CLASS_NAME, object_id))


class PushView(ParseAPIView):
    """``POST /push``: answers ``{"result": true}`` and the ``_PushStatus`` id at once."""

    master_only = True
    read_only_refusals = {"POST": "read-only masterKey isn't allowed to send push notifications."}

    @extend_schema(operation_id="push_send", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        status_id = service.send(request.data, source="rest")
        return Response({"result": True}, headers={STATUS_HEADER: status_id})
