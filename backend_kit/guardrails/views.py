"""``GET /health/deep`` (master key) and ``GET /metrics`` (bearer token or master key)."""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..conf import bk_settings
from ..envelope import _ip_allowed
from ..objects.openapi import error_responses, object_response
from . import app_settings, health, metrics


class DeepHealthView(ParseAPIView):
    master_only = True

    @extend_schema(operation_id="health_deep", responses={200: object_response, **error_responses})
    def get(self, request: Any) -> Response:
        report = health.run()
        return Response(report, status=200 if report["status"] == "ok" else 503)


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    auth = request.headers.get("Authorization", "")
    token = app_settings.get("METRICS_TOKEN")
    if token and auth.startswith("Bearer ") and _same(auth[len("Bearer ") :].strip(), str(token)):
        return True
    master = request.headers.get("X-Parse-Master-Key")
    return (
        _same(master, bk_settings.MASTER_KEY)
        and _same(request.headers.get("X-Parse-Application-Id"), bk_settings.APP_ID)
        and _ip_allowed(request.META.get("REMOTE_ADDR"), bk_settings.MASTER_KEY_IPS)
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition of every worker process of this host."""
    if request.method != "GET":
        return JsonResponse({"code": 119, "error": "GET only"}, status=405)
    if not metrics_allowed(request):
        return JsonResponse({"error": "unauthorized"}, status=403)
    if not app_settings.get("METRICS_ENABLED") or not metrics.available():
        return JsonResponse(
            {
                "code": 1,
                "error": "metrics are off (METRICS_ENABLED) or prometheus_client is missing",
            },
            status=501,
        )
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
