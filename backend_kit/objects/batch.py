"""``POST /batch``: run many requests in one, each through its own endpoint.

Every sub-request is dispatched to the same DRF view a direct request would reach,
with the caller's already-resolved context, so permissions, triggers and limits apply
one by one. With ``"transaction": true`` all of them share one database transaction:
the first failure rolls everything back and is answered as the batch's error.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from django.db import transaction
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ..api import (
    EnvelopeParser,
    ParseAPIView,
    notify_response_observers,
    parse_exception_handler,
    run_request_guards,
)
from ..codec import check_class_name
from ..conf import bk_settings
from ..envelope import Envelope
from ..errors import Code, ParseError
from . import writes
from .handlers import handler_for
from .openapi import OBJECT_BODY, error_responses, object_response
from .sql import db_alias

METHODS = ("GET", "POST", "PUT", "DELETE")


class _Rollback(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error


def mount_prefix(batch_path: str) -> str:
    """``/parse/batch`` -> ``/parse/``."""
    return (
        batch_path[: -len("batch")]
        if batch_path.endswith("batch")
        else batch_path.rsplit("/", 1)[0] + "/"
    )


def routable_path(prefix: str, path: str) -> str:
    server = bk_settings.SERVER_URL or ""
    for base in filter(None, (server, bk_settings.PUBLIC_SERVER_URL or "")):
        base = base.rstrip("/")
        if path.startswith(base + "/"):
            path = path[len(base) :]
            break
    if "://" in path:
        path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
    if path.startswith(prefix):
        return path
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def _sub_request(parent: HttpRequest, method: str, path: str, body: Any) -> HttpRequest:
    request = HttpRequest()
    request.method = method
    request.path = request.path_info = path
    request.META = {
        k: v
        for k, v in parent.META.items()
        if not k.startswith(("CONTENT_", "wsgi.", "HTTP_CONTENT"))
    }
    request.META["REQUEST_METHOD"] = method
    request.META["PATH_INFO"] = path
    body = body if body is not None else {}
    # DRF only asks the parser for request.data when the request has a body, so give
    # the sub-request its body's bytes (the EnvelopeParser then hands over env.body).
    raw = orjson.dumps(body) if method != "GET" else b""
    request._body = raw  # type: ignore[attr-defined]
    request._read_started = True  # type: ignore[attr-defined]
    request.META["CONTENT_TYPE"] = "application/json"
    request.META["CONTENT_LENGTH"] = str(len(raw))
    env = Envelope(
        method=method,
        body=body if method != "GET" else {},
        params=body if method == "GET" and isinstance(body, dict) else {},
    )
    request.bk_envelope = env  # type: ignore[attr-defined]
    request.bk_context = parent.bk_context  # type: ignore[attr-defined]
    request.bk_batch = True  # type: ignore[attr-defined]
    if hasattr(parent, "user"):
        request.user = parent.user  # type: ignore[attr-defined]
    if hasattr(parent, "session"):
        request.session = parent.session  # type: ignore[attr-defined]
    return request


def check_routable(prefix: str, item: dict[str, Any]) -> tuple[str, str, Any]:
    """Refuse the whole batch (107) before anything runs, as Parse does, when a
    sub-request has no endpoint or is itself a batch; else its method, path and match."""
    from ..views import not_found

    method = str(item.get("method") or "GET").upper()
    path = routable_path(prefix, item["path"])
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    func = getattr(match.func, "__wrapped__", match.func) if match is not None else None
    if method not in METHODS or func is None or func is not_found:
        raise ParseError(Code.INVALID_JSON, f"cannot route {method} {item['path']}")
    view_class = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    if view_class is BatchView and method == "POST":
        raise ParseError(Code.INVALID_JSON, "nested batch requests are not allowed")
    return method, path, match


def run_one(
    parent: HttpRequest,
    route: tuple[str, str, Any],
    item: dict[str, Any],
    request: HttpRequest | None = None,
) -> tuple[bool, Any]:
    """Run one sub-request routed by :func:`check_routable` through its endpoint's view
    (``request``: its sub-request, already built); (succeeded, answer)."""
    method, path, match = route
    view_class = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    if view_class is BatchView:
        return False, {"code": Code.INVALID_JSON, "error": "nested batch requests are not allowed"}
    if request is None:
        request = _sub_request(parent, method, path, item.get("body"))
    response = match.func(request, *match.args, **match.kwargs)
    data = getattr(response, "data", None)
    if response.status_code >= 400:
        if not isinstance(data, dict) or "code" not in data:
            data = {
                "code": Code.OPERATION_FORBIDDEN,
                "error": (data or {}).get("error", "unauthorized")
                if isinstance(data, dict)
                else "request failed",
            }
        return False, data
    return True, data


# --- runs of plain creates ---------------------------------------------------------------
# A run of consecutive creates into one class (``Parse.Object.saveAll`` sends them so)
# goes in with one multi-row INSERT in one transaction (``writes.create_group``). Each
# sub-request still passes the request guards and response observers one by one and
# gets the answer it would get alone; any create the group cannot take (a trigger, a
# relation, a new field, a failure of the group) runs through its endpoint as usual.
MAX_GROUP = 100


def _create_class(route: tuple[str, str, Any]) -> str | None:
    """The class a sub-request plainly creates in (``POST classes/<name>``), if it does."""
    from .views import ClassView

    method, _path, match = route
    view_class = getattr(match.func, "view_class", None)
    class_name = match.kwargs.get("class_name")
    if method != "POST" or view_class is not ClassView or not class_name:
        return None
    try:
        check_class_name(class_name)
    except ParseError:
        return None
    return class_name if handler_for(class_name) is None else None


def create_run_end(routes: list[tuple[str, str, Any]], start: int) -> int:
    """Where the run of creates into one class that starts at ``start`` ends."""
    class_name = _create_class(routes[start])
    end = start
    if class_name is not None:
        end += 1
        while (
            end < len(routes)
            and end - start < MAX_GROUP
            and _create_class(routes[end]) == class_name
        ):
            end += 1
    return end


class _SubCall:
    """One create of a run, as its endpoint would see it: guards, answer, observers."""

    def __init__(
        self, parent: HttpRequest, route: tuple[str, str, Any], item: dict[str, Any]
    ) -> None:
        from .views import ClassView

        method, path, match = route
        self.http = _sub_request(parent, method, path, item.get("body"))
        self.http.bk_started = time.perf_counter()  # type: ignore[attr-defined]
        self.request = Request(self.http, parsers=[EnvelopeParser()])
        self.request.bk = parent.bk_context  # type: ignore[attr-defined]
        self.view = ClassView()
        self.view.request = self.request
        self.view.args, self.view.kwargs = match.args, match.kwargs
        self.view.format_kwarg = None

    def guard(self) -> None:
        run_request_guards(self.view, self.request)
        self.http.bk_guarded = True  # type: ignore[attr-defined]

    def answer(self, result: Any) -> tuple[bool, Any]:
        if isinstance(result, ParseError):
            response = parse_exception_handler(result, {"view": self.view})
        else:
            response = Response(result.payload, status=result.status)
        notify_response_observers(self.view, self.request, response)
        return not isinstance(result, ParseError), response.data


def run_creates(
    parent: HttpRequest, routes: list[tuple[str, str, Any]], items: list[dict[str, Any]]
) -> list[tuple[bool, Any]]:
    """A run of creates into one class (see :func:`create_run_end`); answers in order."""
    ctx = parent.bk_context  # type: ignore[attr-defined]
    class_name = str(routes[0][2].kwargs["class_name"])
    bodies: list[Any] = [item.get("body") if item.get("body") is not None else {} for item in items]
    plans = writes.plan_creates(ctx, class_name, bodies)
    answers: list[tuple[bool, Any] | None] = [None] * len(items)
    calls: dict[int, _SubCall] = {}
    group: list[int] = []
    for position, plan in enumerate(plans):
        if plan is None:
            continue
        call = calls[position] = _SubCall(parent, routes[position], items[position])
        try:
            call.guard()
        except ParseError as exc:
            answers[position] = call.answer(exc)
            continue
        if isinstance(plan, ParseError):
            answers[position] = call.answer(plan)
        else:
            group.append(position)
    planned = [(plans[p], bodies[p]) for p in group]
    created = writes.create_group(ctx, class_name, planned) if planned else []  # type: ignore[arg-type]
    if created is not None:
        for position, result in zip(group, created, strict=True):
            answers[position] = calls[position].answer(result)
    out = []
    for position, answer in enumerate(answers):
        if answer is None:  # one by one through the endpoint (guards already run: skipped)
            guarded = calls[position].http if position in calls else None
            answer = run_one(parent, routes[position], items[position], guarded)
        out.append(answer)
    return out


class BatchView(ParseAPIView):
    @extend_schema(
        operation_id="batch",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        requests = body.get("requests")
        if not isinstance(requests, list):
            raise ParseError(Code.INVALID_JSON, "requests must be an array")
        limit = bk_settings.BATCH_REQUEST_LIMIT
        if (
            limit is not None
            and int(limit) > -1
            and not request.bk.is_master
            and len(requests) > int(limit)
        ):
            raise ParseError(
                Code.INVALID_JSON,
                f"Batch request contains {len(requests)} sub-requests, which exceeds the limit of {limit}.",
            )
        for item in requests:
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                raise ParseError(Code.INVALID_JSON, "batch request path must be a string")
        parent = request._request
        prefix = mount_prefix(parent.path)
        routes = [check_routable(prefix, item) for item in requests]
        if body.get("transaction") is True:
            return Response(self._transactional(parent, routes, requests))
        answers: list[tuple[bool, Any]] = []
        start = 0
        while start < len(requests):
            end = create_run_end(routes, start)
            if end - start >= 2:
                answers += run_creates(parent, routes[start:end], requests[start:end])
                start = end
            else:
                answers.append(run_one(parent, routes[start], requests[start]))
                start += 1
        return Response([{"success": data} if ok else {"error": data} for ok, data in answers])

    def _transactional(
        self,
        parent: HttpRequest,
        routes: list[tuple[str, str, Any]],
        requests: list[dict[str, Any]],
    ) -> list[Any]:
        results = []
        try:
            with transaction.atomic(using=db_alias(write=True)):
                for route, item in zip(routes, requests, strict=True):
                    ok, data = run_one(parent, route, item)
                    if not ok:
                        raise _Rollback(data)
                    results.append({"success": data})
        except _Rollback as failed:
            raise ParseError(
                int(failed.error.get("code", Code.INTERNAL_SERVER_ERROR)),
                str(failed.error.get("error", "batch failed")),
            )
        return results
