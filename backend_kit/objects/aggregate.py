"""``GET /aggregate/<class>``: aggregation pipelines and ``distinct`` (master key only).

The work is done in :mod:`backend_kit.objects.aggregation`; this module is the view.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from ..api import ParseAPIView
from ..codec import check_class_name
from .aggregation import aggregate
from .openapi import CLASS_NAME, error_responses

AGGREGATE_PARAMETERS = [
    OpenApiParameter(
        "pipeline",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description=(
            'JSON array of stages, e.g. [{"$match":{"score":{"$gt":1}}},'
            '{"$group":{"_id":"$name","total":{"$sum":"$score"}}}], or an object of stages. '
            "Stages may also be given as parameters of their own ($group, $match, $project, "
            "$sort, $limit, $skip, $unwind, $count)."
        ),
    ),
    OpenApiParameter(
        "distinct",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="a field name: answer its distinct values instead of running a pipeline",
    ),
    OpenApiParameter(
        "where",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="JSON query constraints for distinct",
    ),
]

# The security requirement of this endpoint: the master key, never a client key alone.
MASTER_KEY_AUTH: Any = [{"ParseApplicationId": [], "ParseMasterKey": []}]

aggregate_response = OpenApiResponse(
    inline_serializer(
        "AggregateResults",
        {"results": serializers.ListField(child=serializers.JSONField())},
    ),
    description="pipeline output rows (group keys as objectId), or the distinct values",
)


class AggregateView(ParseAPIView):
    """Run an aggregation pipeline or a distinct query on one class."""

    master_only = True

    @extend_schema(
        operation_id="aggregate",
        parameters=[CLASS_NAME, *AGGREGATE_PARAMETERS],
        responses={200: aggregate_response, **error_responses},
        auth=MASTER_KEY_AUTH,
    )
    def get(self, request: Any, class_name: str) -> Response:
        check_class_name(class_name)
        return Response(aggregate(request.bk, class_name, self.params))
