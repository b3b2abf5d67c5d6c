"""OpenAPI descriptions (drf-spectacular) shared by the objects endpoints."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

CLASS_NAME = OpenApiParameter(
    "class_name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Parse class name, e.g. GameScore or _User",
    pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
)
OBJECT_ID = OpenApiParameter(
    "object_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="objectId"
)


def _json_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


FIND_PARAMETERS = [
    _json_param("where", 'JSON query constraints, e.g. {"score":{"$gt":10}}'),
    _json_param("order", "comma-separated keys; prefix - for descending"),
    OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="default 100"),
    OpenApiParameter("skip", OpenApiTypes.INT, OpenApiParameter.QUERY),
    OpenApiParameter("count", OpenApiTypes.INT, OpenApiParameter.QUERY, enum=[0, 1]),
    _json_param("keys", "comma-separated keys to return"),
    _json_param("excludeKeys", "comma-separated keys to leave out"),
    _json_param("include", "comma-separated pointer paths to include"),
]
GET_PARAMETERS = [
    _json_param("keys", "comma-separated keys to return"),
    _json_param("excludeKeys", "comma-separated keys to leave out"),
    _json_param("include", "comma-separated pointer paths to include"),
]

ParseErrorSerializer = inline_serializer(
    "ParseError", {"code": serializers.IntegerField(), "error": serializers.CharField()}
)
UnauthorizedSerializer = inline_serializer("Unauthorized", {"error": serializers.CharField()})

error_responses = {
    400: OpenApiResponse(ParseErrorSerializer, description="Parse error {code, error}"),
    403: OpenApiResponse(UnauthorizedSerializer, description="wrong application id or key"),
    404: OpenApiResponse(ParseErrorSerializer, description="object not found (code 101)"),
    413: OpenApiResponse(ParseErrorSerializer, description="body too large"),
    429: OpenApiResponse(ParseErrorSerializer, description="rate limited (code 155)"),
}

object_response = OpenApiResponse(
    OpenApiTypes.OBJECT, description="a Parse object (or the fields a write changed)"
)
results_response = OpenApiResponse(
    inline_serializer(
        "Results",
        {
            "results": serializers.ListField(child=serializers.DictField()),
            "count": serializers.IntegerField(required=False),
        },
    ),
    description="query results",
)
OBJECT_BODY = OpenApiTypes.OBJECT
