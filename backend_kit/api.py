"""DRF plumbing shared by every Parse endpoint.

:class:`ParseAPIView` decodes the envelope before DRF picks the handler (the JS SDK
tunnels GET/PUT/DELETE through POST), authenticates from the Parse keys, answers every
error as ``{code, error}``, adds CORS headers and renders JSON with orjson. Endpoints
subclass it and read ``request.bk`` (the :class:`RequestContext`), ``request.data``
(the body without envelope keys) and ``self.params`` (decoded query parameters).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .conf import bk_settings
from .context import RequestContext
from .envelope import Envelope, build_context, read_envelope
from .errors import Code, ParseError, Unauthorized, master_key_required, permission_denied

logger = logging.getLogger("backend_kit")

CORS_ALLOW_HEADERS = (
    "X-Parse-Master-Key, X-Parse-REST-API-Key, X-Parse-Javascript-Key, X-Parse-Application-Id, "
    "X-Parse-Client-Version, X-Parse-Session-Token, X-Requested-With, X-Parse-Revocable-Session, "
    "X-Parse-Request-Id, X-Parse-Installation-Id, X-Parse-Cloud-Context, X-Parse-Client-Key, "
    "X-Parse-Windows-Key, Content-Type, Pragma, Cache-Control"
)
CORS_EXPOSE_HEADERS = "X-Parse-Job-Status-Id, X-Parse-Push-Status-Id"

# Hooks other apps register in their ready() (rate limits, quotas, audit, metrics):
# the core calls them without knowing who they are.
RequestGuard = Callable[[Any, Any], None]
ResponseObserver = Callable[[Any, Any, Any], None]
_request_guards: list[RequestGuard] = []
_response_observers: list[ResponseObserver] = []


def add_request_guard(guard: RequestGuard) -> None:
    """Call ``guard(view, request)`` in every Parse endpoint once the caller is known.

    It runs after authentication (``request.bk`` is the context) and before the
    idempotency claim and the master-only check; raising a :class:`ParseError` refuses
    the request with that error. Batch sub-requests pass through one by one
    (``request._request.bk_batch`` is true for them). Registering twice is a no-op.
    """
    if guard not in _request_guards:
        _request_guards.append(guard)


def run_request_guards(view: Any, request: Any) -> None:
    """Call every request guard for ``request`` (a DRF request with ``bk`` set)."""
    for guard in _request_guards:
        guard(view, request)


def notify_response_observers(view: Any, request: Any, response: Any) -> None:
    """Hand ``response`` to every response observer; one that raises is logged."""
    for observer in _response_observers:
        try:
            observer(view, request, response)
        except Exception:
            logger.exception("A response observer failed")


def add_response_observer(observer: ResponseObserver) -> None:
    """Call ``observer(view, request, response)`` for every Parse endpoint's response.

    Every response passes, errors included (``request.bk`` is missing when the keys
    were refused); ``request._request.bk_started`` is the ``time.perf_counter()`` at
    which the view began. An observer that raises is logged and the response still goes.
    """
    if observer not in _response_observers:
        _response_observers.append(observer)


class ParseJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class EnvelopeParser(BaseParser):
    """Hands DRF the body the envelope already decoded (whatever the Content-Type)."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = parser_context["request"]
        env: Envelope | None = getattr(request, "bk_envelope", None)
        if env is None:
            return {}
        return env.body if env.body is not None else {}


class EnvelopeAuthentication(BaseAuthentication):
    """Authenticates from Parse keys and session tokens (see :mod:`backend_kit.envelope`)."""

    def authenticate(self, request: Any) -> tuple[Any, RequestContext] | None:
        django_request = request._request
        ctx = getattr(django_request, "bk_context", None)
        if ctx is not None:
            return (getattr(django_request, "user", None), ctx)
        if getattr(django_request, "bk_auth_error", None) is not None:
            # The error is being answered; the browsable renderer asks for the
            # user again while drawing the page: anonymous, not a second error.
            return None
        try:
            return self._authenticate(request, django_request)
        except (ParseError, Unauthorized) as exc:
            django_request.bk_auth_error = exc
            raise

    def _authenticate(self, request: Any, django_request: Any) -> tuple[Any, RequestContext]:
        env: Envelope = django_request.bk_envelope
        if not env.app_id and bk_settings.BROWSABLE_API_SUPERUSER_IS_MASTER:
            ctx = _superuser_context(django_request)
            if ctx is not None:
                django_request.bk_context = ctx
                return (django_request.user, ctx)
        view = getattr(request, "parser_context", {}).get("view")
        if env.session_token and getattr(view, "ignore_session_token", False):
            # /login must work with a stale token still stored by the client
            env.session_token = None
        ctx = build_context(env, django_request)
        django_request.bk_context = ctx
        return (getattr(django_request, "user", None), ctx)

    def authenticate_header(self, request: Any) -> str:
        return "X-Parse-Application-Id"


def _superuser_context(request: HttpRequest) -> RequestContext | None:
    """A logged-in Django superuser browsing the API acts with the master key."""
    user = getattr(request, "user", None)
    if not (user is not None and user.is_authenticated and user.is_superuser):
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        check = CSRFCheck(lambda req: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise drf_exceptions.PermissionDenied(f"CSRF Failed: {reason}")
    return RequestContext(
        app_id=bk_settings.APP_ID, is_master=True, ip=request.META.get("REMOTE_ADDR")
    )


def parse_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ParseError):
        return Response(exc.as_dict(), status=exc.status, headers=exc.headers)
    if isinstance(exc, Unauthorized):
        return Response({"error": exc.message}, status=403)
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return Response({"code": Code.OPERATION_FORBIDDEN, "error": str(exc.detail)}, status=405)
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return Response({"code": Code.OPERATION_FORBIDDEN, "error": str(exc.detail)}, status=403)
    if isinstance(exc, drf_exceptions.NotAcceptable):
        return Response({"code": Code.INVALID_QUERY, "error": str(exc.detail)}, status=406)
    if isinstance(exc, drf_exceptions.APIException):
        return Response(
            {"code": Code.INVALID_JSON, "error": str(exc.detail)}, status=exc.status_code
        )
    logger.exception("Unhandled error in a Parse endpoint", exc_info=exc)
    return Response(
        {"code": Code.INTERNAL_SERVER_ERROR, "error": "Internal server error."}, status=500
    )


def may_ask_for_a_page(meta: dict[str, Any]) -> bool:
    """Whether a request may want the browsable API rather than JSON: HTML in its
    ``Accept``, or a ``format`` in its query string."""
    return "html" in meta.get("HTTP_ACCEPT", "") or "format" in meta.get("QUERY_STRING", "")


def cors_headers(request: HttpRequest) -> dict[str, str]:
    return cors_headers_for(request.META.get("HTTP_ORIGIN"), preflight=request.method == "OPTIONS")


def cors_headers_for(origin: str | None, *, preflight: bool = False) -> dict[str, str]:
    """The CORS headers answering a request from ``origin`` (None: no Origin header).

    The methods and headers a browser may use are the answer to its preflight
    (``OPTIONS``) only: on any other response browsers ignore them, so they are not
    sent there (the header list is long, and every response would carry it).
    """
    allowed = bk_settings.CORS_ALLOWED_ORIGINS or []
    if not allowed:
        return {}
    if "*" in allowed:
        allow_origin = "*"
    elif origin and origin in allowed:
        allow_origin = origin
    else:
        return {}
    headers = {"Access-Control-Allow-Origin": allow_origin}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET,PUT,POST,DELETE,OPTIONS"
        headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    if allow_origin != "*":
        headers["Vary"] = "Origin"
    return headers


class ParseAPIView(APIView):
    """Base class of every Parse endpoint."""

    authentication_classes = [EnvelopeAuthentication]
    permission_classes: list[Any] = []
    parser_classes = [EnvelopeParser]
    renderer_classes = [ParseJSONRenderer, BrowsableAPIRenderer]
    #: True for endpoints that take raw bytes (file uploads).
    raw_body = False

    def max_body_size(self) -> int | None:
        """Largest body the envelope reads for this endpoint (None: ``MAX_BODY_SIZE``)."""
        return None

    #: True for endpoints only the master key may call (403 otherwise).
    master_only = False
    #: Allow the read-only master key on a master-only GET.
    read_only_master_allowed = True
    #: What a master-only endpoint answers (119) to the read-only master key on a
    #: write, by HTTP method (Parse Server's wording, e.g. "... to create a schema.").
    read_only_refusals: dict[str, str] = {}

    def get_exception_handler(self):  # type: ignore[override]
        return parse_exception_handler

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=200)
            for key, value in cors_headers(request).items():
                response[key] = value
            response["Access-Control-Max-Age"] = str(bk_settings.CORS_MAX_AGE)
            return response
        return super().dispatch(request, *args, **kwargs)

    @property
    def default_response_headers(self) -> dict[str, str]:
        # DRF sends ``Allow`` with every answer, for its browsable API. HTTP asks for it
        # on a 405 only (finalize_response adds it there), and an SDK never reads it:
        # each header costs every response its validation by Django and the ASGI server.
        request = getattr(self, "request", None)
        if request is not None and not may_ask_for_a_page(request.META):
            return {"Vary": "Accept"}  # the browsable API answers the same URLs
        return super().default_response_headers

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        # SDKs and scripts never ask for HTML: skip DRF's Accept parsing and matching
        # (a few percent of a small request); a browser still gets the browsable API.
        if (
            self.renderer_classes[0] is ParseJSONRenderer
            and not may_ask_for_a_page(request.META)
            and not getattr(self, "format_kwarg", None)
        ):
            return (ParseJSONRenderer(), ParseJSONRenderer.media_type)
        return super().perform_content_negotiation(request, force)

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self._envelope_error: Exception | None = None
        request.bk_started = time.perf_counter()  # type: ignore[attr-defined]
        if getattr(request, "bk_envelope", None) is None:
            try:
                env = read_envelope(
                    request, raw_body=self.raw_body, body_limit=self.max_body_size()
                )
            except (ParseError, Unauthorized) as exc:
                self._envelope_error = exc
                request.bk_auth_error = exc  # type: ignore[attr-defined]
                env = Envelope(method=request.method or "GET")
            request.bk_envelope = env  # type: ignore[attr-defined]
        request.method = request.bk_envelope.method  # type: ignore[attr-defined]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if self._envelope_error is not None:
            raise self._envelope_error
        super().initial(request, *args, **kwargs)
        request.bk = request.auth
        if not getattr(request._request, "bk_guarded", False):  # a batch may have run them
            run_request_guards(self, request)
        if not (bk_settings.SERVER_URL or bk_settings.PUBLIC_SERVER_URL):
            from . import serverurl

            self._server_url_token = serverurl.remember(request._request)
        ctx: RequestContext = request.auth
        if (
            ctx.request_id
            and request.method in ("POST", "PUT")
            and not getattr(request._request, "bk_batch", False)
            and bk_settings.IDEMPOTENCY_PATHS
        ):
            from . import idempotency

            if idempotency.applies(mount_relative_path(request._request)):
                idempotency.claim(ctx.request_id)
        if self.master_only:
            allowed = ctx.is_master or (
                ctx.is_read_only_master
                and self.read_only_master_allowed
                and request.method == "GET"
            )
            if not allowed and ctx.is_read_only_master and request.method != "GET":
                raise permission_denied(
                    self.read_only_refusals.get(
                        request.method, "read-only masterKey isn't allowed to write."
                    )
                )
            if not allowed:
                raise master_key_required()

    @property
    def params(self) -> dict[str, Any]:
        return self.request._request.bk_envelope.params

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 405 and "Allow" not in response:
            response["Allow"] = ", ".join(self.allowed_methods)
        token = getattr(self, "_server_url_token", None)
        if token is not None:
            from . import serverurl

            serverurl.forget(token)
        django_request = request._request if hasattr(request, "_request") else request
        for key, value in cors_headers(django_request).items():
            if key == "Vary":
                patch_vary_headers(response, [value])  # DRF's "Vary: Accept" stays
            else:
                response[key] = value
        notify_response_observers(self, request, response)
        return response


@functools.cache
def _inner_routes() -> tuple[str, ...]:
    """Every route of backend_kit's own URLconf, flattened (computed once)."""
    from . import urls as bk_urls

    return tuple(r for r in _flat_routes(bk_urls.urlpatterns) if r)


def _flat_routes(patterns: Any, prefix: str = "") -> list[str]:
    from django.urls import URLResolver

    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(_flat_routes(pattern.url_patterns, route))
        else:
            routes.append(route)
    return routes


def mount_relative_path(request: HttpRequest) -> str:
    """The request path below the host's mount: ``/parse/classes/X`` -> ``classes/X``."""
    match = getattr(request, "resolver_match", None)
    path = request.path.strip("/")
    if match is None or not match.route:
        return path
    depth = _mount_depth(match.route)
    return "/".join(path.split("/")[depth:]) if depth else path


@functools.lru_cache(maxsize=512)
def _mount_depth(route: str) -> int:
    """Path segments of the host's mount in a matched route (routes are few: cached)."""
    inner = max((r for r in _inner_routes() if route.endswith(r)), key=len, default="")
    prefix = route[: len(route) - len(inner)].strip("/")
    return len(prefix.split("/")) if prefix else 0


def require_master(ctx: RequestContext, *, allow_read_only: bool = False) -> None:
    if ctx.is_master or (allow_read_only and ctx.is_read_only_master):
        return
    raise master_key_required()


def require_writable(ctx: RequestContext, operation: str = "create") -> None:
    """The read-only master key may read anything and write nothing (119)."""
    if ctx.is_read_only_master:
        raise permission_denied(
            f"read-only masterKey isn't allowed to perform the {operation} operation."
        )
