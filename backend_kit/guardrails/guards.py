"""What runs around every Parse endpoint (registered in ``apps.ready()``).

The request guard opens the audit scope, then counts the request against the rate
limits and the request quota (a batch counts as its sub-requests, one by one, before
any of them runs) and refuses early the work whose cap is used up. The response
observer records master requests that left no other audit entry, closes the scope
and feeds the metrics.
"""

from __future__ import annotations

import time
from typing import Any

from ..api import mount_relative_path
from . import app_settings, audit, metrics, quotas, ratelimit, sources
from .routes import Route, batch_routes, classify


def request_guard(view: Any, request: Any) -> None:
    django_request = request._request
    ctx = request.bk
    sub_request = bool(getattr(django_request, "bk_batch", False))
    if not sub_request:
        django_request.bk_audit_token = audit.enter(
            audit.Scope("api", ctx, django_request, request.method, django_request.path)
        )
    django_request.bk_audit_mark = audit.recorded_count()
    if sub_request:
        return  # counted with their batch
    route = classify(request.method, mount_relative_path(django_request))
    routes: list[Route] = (
        batch_routes(django_request.path, request.data) if route.batch else [route]
    )
    master = ctx.is_master or ctx.is_read_only_master
    if not master or app_settings.get("RATE_LIMITS_APPLY_TO_MASTER"):
        ratelimit.check(ctx, routes)
    quotas.consume("requests", max(1, len(routes)), enforce=not quotas.exempt(ctx))
    _refuse_capped_work(ctx, request, routes)


def _refuse_capped_work(ctx: Any, request: Any, routes: list[Route]) -> None:
    writing = [r for r in routes if r.group is not None]
    if request.method == "POST" and any(r.group == "files" for r in writing):
        declared = request._request.META.get("CONTENT_LENGTH")
        size = int(declared) if declared and str(declared).isdigit() else 0
        quotas.check_level_room("file_bytes_stored", ctx, size)
    if any(r.group == "push" for r in writing) and request.method == "POST":
        quotas.check_flow("pushes_sent", None)


def response_observer(view: Any, request: Any, response: Any) -> None:
    django_request = getattr(request, "_request", request)
    try:
        mark = getattr(django_request, "bk_audit_mark", None)
        if mark is not None:
            sources.request_finished(request, response, mark)
    finally:
        token = getattr(django_request, "bk_audit_token", None)
        if token is not None:
            django_request.bk_audit_token = None
            audit.leave(token)
        _measure(view, request, django_request, response)


def _measure(view: Any, request: Any, django_request: Any, response: Any) -> None:
    if not app_settings.get("METRICS_ENABLED"):
        return
    match = getattr(django_request, "resolver_match", None)
    route = match.route if match is not None and match.route else f"(batch) {type(view).__name__}"
    started = getattr(django_request, "bk_started", None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    data = getattr(response, "data", None)
    code = data.get("code") if isinstance(data, dict) else None
    metrics.request_done(route, request.method, response.status_code, seconds, code)
