"""Endpoints of the root package: ``/health``, ``/serverInfo`` and the 404 answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from . import PARSE_SERVER_COMPATIBLE_VERSION, __version__
from .api import ParseAPIView, cors_headers
from .conf import bk_settings
from .errors import Code
from .objects.openapi import error_responses, object_response


def health(request: HttpRequest) -> JsonResponse:
    """Cheap liveness answer, no keys needed (Parse Server's ``/health``)."""
    response = JsonResponse({"status": "ok"})
    for key, value in cors_headers(request).items():
        response[key] = value
    return response


class ServerInfoView(ParseAPIView):
    master_only = True

    @extend_schema(operation_id="server_info", responses={200: object_response, **error_responses})
    def get(self, request: Any) -> Response:
        from django.apps import apps

        installed = apps.is_installed
        return Response(
            {
                "parseServerVersion": PARSE_SERVER_COMPATIBLE_VERSION,
                "backendKitVersion": __version__,
                "features": {
                    "globalConfig": {"create": True, "read": True, "update": True, "delete": True},
                    "hooks": {"create": False, "read": False, "update": False, "delete": False},
                    "cloudCode": {"jobs": installed("backend_kit.jobs")},
                    "logs": {
                        "level": False,
                        "size": False,
                        "order": False,
                        "until": False,
                        "from": False,
                    },
                    "push": {
                        "immediatePush": installed("backend_kit.push"),
                        "scheduledPush": installed("backend_kit.push"),
                        "storedPushData": installed("backend_kit.push"),
                        "pushAudiences": False,
                        "localization": False,
                    },
                    "schemas": {
                        "addField": True,
                        "removeField": True,
                        "addClass": True,
                        "removeClass": True,
                        "clearAllDataFromClass": True,
                        "exportClass": False,
                        "editClassLevelPermissions": True,
                        "editPointerPermissions": True,
                    },
                },
            }
        )


def not_found(request: HttpRequest, unmatched: str = "") -> HttpResponse:
    if request.method == "OPTIONS":
        # Parse Server answers every CORS preflight under the mount, known route or not
        preflight = HttpResponse(status=200)
        for key, value in cors_headers(request).items():
            preflight[key] = value
        preflight["Access-Control-Max-Age"] = str(bk_settings.CORS_MAX_AGE)
        return preflight
    response = JsonResponse(
        {"code": Code.INVALID_JSON, "error": f"unsupported route: {request.method} {request.path}"},
        status=404,
    )
    for key, value in cors_headers(request).items():
        response[key] = value
    return response
