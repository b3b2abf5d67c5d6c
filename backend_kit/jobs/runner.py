"""One run of a job, the same on a Celery worker and in an in-process thread.

The runner claims the status row, calls the handler and records the outcome. It
never lets the job's own exceptions out: a failure either asks for a retry (the
caller schedules it, with the delay returned) or ends the status as failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..cloud.registry import Entry, registry
from ..cloud.runner import script_error
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from . import app_settings, status
from .request import JobRequest

log = logging.getLogger("backend_kit.jobs")

# Retry delays grow exponentially from the job's retry_backoff, up to this.
MAX_RETRY_DELAY = 3600


class TimeLimitExceeded(Exception):
    """Raised inside an in-process job when its time limit is up."""


try:  # Celery's soft limit, raised inside a job on a worker
    from celery.exceptions import SoftTimeLimitExceeded

    TIME_LIMIT_ERRORS: tuple[type[BaseException], ...] = (
        TimeLimitExceeded,
        SoftTimeLimitExceeded,
    )
except ImportError:  # pragma: no cover - the jobs extra brings Celery
    TIME_LIMIT_ERRORS = (TimeLimitExceeded,)


@dataclass
class Outcome:
    """What the caller must do next: nothing, or run it again after ``retry_in`` s."""

    retry_in: float | None = None


def time_limit_message(job_name: str, seconds: int) -> str:
    return f"Job {job_name} exceeded its time limit of {seconds} s and was stopped."


def retry_delay(entry: Entry, attempt: int) -> float:
    """Exponential backoff: ``retry_backoff * 2**attempt`` seconds (attempt 0 first)."""
    base = float(entry.options.get("retry_backoff") or 0)
    return float(min(base * (2**attempt), MAX_RETRY_DELAY))


def record_time_limit(status_id: str) -> bool:
    """Fail a status because its run hit the time limit (from outside the run)."""
    data = status.read(status_id) or {}
    name = str(data.get("jobName", ""))
    entry = registry.jobs.get(name)
    seconds = app_settings.time_limit_of(entry.options if entry else {})
    return status.fail(status_id, time_limit_message(name, seconds), Code.TIMEOUT)


def execute(
    status_id: str, *, attempt: int = 0, claimed: bool = False, dispatch_id: str | None = None
) -> Outcome:
    """Run the job behind ``status_id`` once (``attempt`` counts earlier retries).

    ``claimed``: the status was created running for this very run, so it needs no
    second write (the in-process runner starts that way). ``dispatch_id``: the task id
    of the Celery message asking for the run (see :func:`status.claim`).
    """
    claim = status.claimed(status_id) if claimed else status.claim(status_id, dispatch_id)
    if claim is None:
        # Deleted, finished by an earlier delivery of the same message, or run by
        # another copy of it (status.claim logs that).
        log.info("job status %s is not this run's to run; not running it", status_id)
        return Outcome()
    name = str(claim.data.get("jobName", ""))
    entry = registry.jobs.get(name)
    if entry is None:
        status.fail(status_id, "Invalid job.")
        return Outcome()
    losses = claim.runs - 1 - attempt
    if losses > int(app_settings.get("JOBS_MAX_WORKER_LOSSES")):
        status.fail(
            status_id,
            f"Job {name} lost its worker {losses} times and was given up.",
            Code.INTERNAL_SERVER_ERROR,
        )
        return Outcome()
    request = JobRequest(
        ctx=RequestContext.master(app_id=bk_settings.APP_ID, origin="job"),
        params=dict(claim.data.get("params") or {}),
        job_name=name,
        job_id=status_id,
        source=str(claim.data.get("source", "api")),
        attempt=attempt,
    )
    try:
        result = entry.handler(request)
    except TIME_LIMIT_ERRORS:
        seconds = app_settings.time_limit_of(entry.options)
        status.fail(status_id, time_limit_message(name, seconds), Code.TIMEOUT)
        return Outcome()
    except Exception as exc:
        return _failed(status_id, entry, attempt, script_error(exc), exc)
    status.finish(status_id, status.SUCCEEDED, result if isinstance(result, str) else None)
    return Outcome()


def _failed(
    status_id: str, entry: Entry, attempt: int, error: ParseError, exc: Exception
) -> Outcome:
    retries = int(entry.options.get("retries") or 0)
    if attempt < retries:
        delay = retry_delay(entry, attempt)
        log.info(
            "job %s failed (attempt %d), retrying in %gs: %s", entry.name, attempt + 1, delay, exc
        )
        message = (
            f"Attempt {attempt + 1} of {retries + 1} failed: {error.message}. "
            f"Retrying in {delay:g} s."
        )
        if status.retrying(status_id, message, error):
            return Outcome(retry_in=delay)
        return Outcome()
    log.warning("job %s failed: %s", entry.name, exc, exc_info=not isinstance(exc, ParseError))
    status.finish(status_id, status.FAILED, error.message, error)
    return Outcome()
