"""Starting a job: find it, check its params, write its status, hand it to a runner.

Every way of starting a job comes through :func:`start_job`: the REST API, a
recurring schedule, ``bk_runjob`` and the admin's "run now".
"""

from __future__ import annotations

from typing import Any

from ..cloud.registry import Entry, registry
from ..cloud.validators import run_validator
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from . import backends, status
from .request import JobRequest


def job_entry(name: Any) -> Entry:
    """The registered job called ``name``, or 141 ``Invalid job.`` (Parse's answer)."""
    entry = registry.jobs.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ParseError(Code.SCRIPT_FAILED, "Invalid job.")
    return entry


def validate_params(entry: Entry, params: Any) -> dict[str, Any]:
    """Run the job's validator on ``params``: 142 with the reason when they fail.

    Jobs always act with the master key, and the cloud validators skip their checks
    for master callers unless told otherwise; for a job the checks are the point.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParseError(Code.INVALID_JSON, "Job params must be a JSON object.")
    params = dict(params)
    validator = entry.validator
    if isinstance(validator, dict):
        validator = {**validator, "validate_master_key": True}
    request = JobRequest(
        ctx=RequestContext.master(app_id=bk_settings.APP_ID), params=params, job_name=entry.name
    )
    run_validator(validator, request)
    return request.params


def start_job(
    name: Any,
    params: Any = None,
    *,
    source: str = "api",
    status_id: str | None = None,
) -> str:
    """Start job ``name``; returns the ``_JobStatus`` id at once.

    ``status_id`` fixes the status objectId, which makes a start idempotent: a second
    start with the same id fails with 137 instead of running the job twice.
    """
    if source not in status.SOURCES:
        raise ValueError(f"unknown job source {source!r}")
    entry = job_entry(name)
    params = validate_params(entry, params)
    # Threads start at once, so their status is running from the first read on
    # (the Parse SDK checks that); a queued job is pending until a worker takes it.
    initial = status.PENDING if backends.uses_celery() else status.RUNNING
    status_id = status.create(entry.name, params, source, status=initial, object_id=status_id)
    backends.submit_job(status_id, entry)
    return status_id
