"""Starting a job: find it, check its params, write its status, hand it to a runner.

Every way of starting a job comes through :func:`start_job`: the REST API, a
recurring schedule, ``bk_runjob`` and the admin's "run now".

A start writes its status, then sends the run message after commit; a process that
dies between the two leaves a pending status with no message. :func:`redispatch`
sends it again, safely (see :mod:`.status` on dispatch ids): a redelivered schedule
firing does it at once, and the sweep (:func:`redispatch_stalled`, run by beat) does
it for any start that no run claimed within ``JOBS_REDISPATCH_AFTER`` seconds.
"""

from __future__ import annotations

from typing import Any

from ..cloud.registry import Entry, registry
from ..cloud.validators import run_validator
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from . import app_settings, backends, status
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
    queued = backends.uses_celery()
    # Threads start at once, so their status is running from the first read on
    # (the Parse SDK checks that); a queued job is pending until a worker takes it.
    initial = status.PENDING if queued else status.RUNNING
    # The run message's task id goes into the status's own insert: no extra write.
    dispatch_id = backends.new_dispatch_id() if queued else None
    status_id = status.create(
        entry.name, params, source, status=initial, object_id=status_id, dispatch_id=dispatch_id
    )
    backends.submit_job(status_id, entry, dispatch_id)
    return status_id


def redispatch(status_id: str, *, backoff: float = 0.0) -> bool:
    """Send a pending status's run message again, in case the first was never sent.

    Only a status that no run has claimed is sent again: a running one is being run
    (or will be, by its own redelivered message), a final one is done, and a pending
    one that ran before waits for its retry message. The new message has a dispatch
    id of its own; ``backoff`` as in :func:`status.add_dispatch`. True when a message
    goes out (after commit).
    """
    if not backends.uses_celery():
        return False  # a thread starts with its status, in the process that wrote it
    dispatch_id = backends.new_dispatch_id()
    data = status.add_dispatch(status_id, dispatch_id, backoff=backoff)
    if data is None:
        return False
    entry = registry.jobs.get(str(data.get("jobName", "")))
    # An unknown job still gets its message: the run fails the status ("Invalid job.").
    backends.resubmit_job(status_id, entry.options if entry else {}, dispatch_id)
    return True


# The sweep looks at statuses written within this many seconds (or four times its
# idle time, if longer): a start its doubling backoff has not reached by then is
# left alone.
SWEEP_LOOK_BACK = 24 * 3600


def redispatch_stalled(idle_for: float | None = None) -> list[str]:
    """Send again every start that no run claimed within ``idle_for`` seconds
    (default ``JOBS_REDISPATCH_AFTER``; None: none); returns their status ids."""
    if idle_for is None:
        idle_for = app_settings.get("JOBS_REDISPATCH_AFTER")
    if not idle_for:
        return []
    idle_for = float(idle_for)
    look_back = max(SWEEP_LOOK_BACK, 4 * idle_for)
    return [
        status_id
        for status_id in status.stalled(idle_for, look_back)
        if redispatch(status_id, backoff=idle_for)
    ]
