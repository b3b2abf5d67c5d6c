"""``GuardrailsMiddleware``: the guardrails of requests that are not Parse endpoints.

Add it after Django's ``AuthenticationMiddleware``::

    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "backend_kit.guardrails.middleware.GuardrailsMiddleware", ...]

* Admin pages: every change made there is recorded in the audit trail with the staff
  member who made it (Parse objects, schemas and config are recorded without it too).
* File downloads served by the app (``/files/<app>/<name>``): the ``files`` rate
  limits, and the ``file_bytes_served`` quota (counted from ``Content-Length``).
  Files served straight from S3 or a CDN never reach the app and are not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse

from ..context import RequestContext
from ..errors import ParseError
from . import audit, quotas, ratelimit
from .routes import Route

log = logging.getLogger("backend_kit.guardrails")
DOWNLOAD_VIEW = "bk-file-download"


def _admin_prefix() -> str | None:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return None


class GuardrailsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix: str | None | bool = False  # False: not looked up yet

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.admin_prefix is False:
            self.admin_prefix = _admin_prefix()
        if self.admin_prefix and request.path.startswith(str(self.admin_prefix)):
            token = audit.enter(
                audit.Scope("admin", None, request, request.method or "", request.path)
            )
            try:
                return self.get_response(request)
            finally:
                audit.leave(token)
        response = self.get_response(request)
        if getattr(request, "bk_download", False) and response.status_code in (200, 206):
            self._count_served(response)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if (
            match is None
            or match.url_name != DOWNLOAD_VIEW
            or request.method not in ("GET", "HEAD")
        ):
            return None
        request.bk_download = request.method == "GET"  # type: ignore[attr-defined]
        ctx = RequestContext(
            ip=request.META.get("REMOTE_ADDR"),
            installation_id=request.headers.get("X-Parse-Installation-Id"),
        )
        try:
            ratelimit.check(ctx, [Route("files")])
            quotas.check_flow("file_bytes_served", ctx)
        except ParseError as exc:
            from ..api import cors_headers

            response = JsonResponse(exc.as_dict(), status=exc.status)
            for key, value in {**exc.headers, **cors_headers(request)}.items():
                response[key] = value
            return response
        return None

    @staticmethod
    def _count_served(response: HttpResponse) -> None:
        length = response.get("Content-Length")
        if length and str(length).isdigit():
            quotas.consume("file_bytes_served", int(length), enforce=False)
