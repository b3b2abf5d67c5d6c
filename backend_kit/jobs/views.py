"""``POST /jobs/<name>``, ``POST /jobs`` and ``GET /cloud_code/jobs/data`` (master key)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..cloud.registry import registry
from ..errors import Code, ParseError
from ..objects.openapi import OBJECT_BODY, error_responses, object_response
from .dispatch import start_job
from .models import jobs_in_use

STATUS_HEADER = "X-Parse-Job-Status-Id"


class JobView(ParseAPIView):
    """``POST /jobs/<name>``: start a job; the answer comes before the job runs."""

    master_only = True
    read_only_refusals = {"POST": "read-only masterKey isn't allowed to run a job."}

    def start(self, request: Any, name: Any) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ParseError(Code.INVALID_JSON, "Job params must be a JSON object.")
        # Parse merges the query string over the body.
        params = {**body, **self.params}
        if name is None:
            name = params.pop("jobName", None)
        status_id = start_job(name, params, source="api")
        return Response({}, headers={STATUS_HEADER: status_id})

    @extend_schema(
        operation_id="jobs_start",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any, name: str) -> Response:
        return self.start(request, name)


class JobByBodyView(JobView):
    """``POST /jobs`` with the job's name in ``jobName`` and its params beside it."""

    @extend_schema(
        operation_id="jobs_start_by_name",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:  # type: ignore[override]
        return self.start(request, None)


class JobsDataView(ParseAPIView):
    """The registered jobs, and those a recurring schedule uses (Parse dashboard data)."""

    master_only = True

    @extend_schema(operation_id="jobs_data", responses={200: object_response, **error_responses})
    def get(self, request: Any) -> Response:
        return Response({"in_use": jobs_in_use(), "jobs": sorted(registry.jobs)})
