"""``POST /functions/<name>``: run a cloud function."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..errors import Code, ParseError
from ..objects.openapi import OBJECT_BODY, error_responses, object_response
from .registry import registry
from .request import CloudRequest
from .runner import run
from .server import encode_result


def call_function(ctx: Any, name: str, params: Any) -> Any:
    entry = registry.functions.get(name)
    if entry is None:
        raise ParseError(Code.SCRIPT_FAILED, f'Invalid function: "{name}"')
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParseError(Code.INVALID_JSON, "function params must be a JSON object")
    return run(entry, CloudRequest(ctx=ctx, params=params, function_name=name))


def _response(result: Any) -> Response:
    if result is None:
        return Response({})
    return Response({"result": encode_result(result)})


class FunctionView(ParseAPIView):
    @extend_schema(
        operation_id="functions_run",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any, name: str) -> Response:
        return _response(call_function(request.bk, name, request.data))

    @extend_schema(
        operation_id="functions_run_get", responses={200: object_response, **error_responses}
    )
    def get(self, request: Any, name: str) -> Response:
        return _response(call_function(request.bk, name, dict(self.params)))
