"""``_JobStatus`` objects: what a job is doing, readable with the master key.

Fields: ``jobName``, ``source`` (api, schedule, command, admin), ``status`` (pending,
running, succeeded, failed), ``message``, ``params``, ``startedAt``, ``finishedAt``,
``error`` (``{code, message}``). Rows are locked ACL-less objects (master only), as in
Parse Server. Every transition locks the row first, so a redelivered or timed-out
run can never turn a finished status back into a running one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ..codec import encode_date
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from ..objects import writes
from ..objects.models import ParseObject
from ..objects.sql import db_alias

CLASS_NAME = "_JobStatus"
PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
SOURCES = ("api", "schedule", "command", "admin")
# Stored with the row but never returned: how many runs claimed it (worker losses).
RUNS_FIELD = "_runs"


@dataclass
class Claim:
    """A status row a run has just taken: its stored data and the count of runs so far."""

    data: dict[str, Any]
    runs: int


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def _now() -> dict[str, str]:
    return encode_date(writes.now())


def create(
    job_name: str,
    params: dict[str, Any],
    source: str,
    *,
    status: str = PENDING,
    object_id: str | None = None,
) -> str:
    """Write a new status row; returns its objectId (137 if ``object_id`` is taken)."""
    body: dict[str, Any] = {
        "jobName": job_name,
        "source": source,
        "status": status,
        "params": params,
        "ACL": {},
    }
    internal = None
    if status == RUNNING:
        # Created already claimed by the run that starts right away (see claim()).
        body["startedAt"] = _now()
        internal = {RUNS_FIELD: 1}
    result = writes.create(_master(), CLASS_NAME, body, object_id=object_id, internal=internal)
    return str(result.payload["objectId"])


def _locked(status_id: str) -> ParseObject | None:
    return ParseObject.objects.using(db_alias(write=True)).row(
        CLASS_NAME, status_id, for_update=True
    )


def read(status_id: str) -> dict[str, Any] | None:
    """The stored data of a status row (internal fields included), or None."""
    row = ParseObject.objects.using(db_alias()).only("data").row(CLASS_NAME, status_id)
    return dict(row.data) if row is not None else None


def claim(status_id: str) -> Claim | None:
    """Mark the row running for a new run; None if it is gone or already finished."""
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") in FINAL:
            return None
        runs = int(row.data.get(RUNS_FIELD) or 0) + 1
        writes.update(
            _master(),
            CLASS_NAME,
            status_id,
            {"status": RUNNING, "startedAt": _now()},
            internal={RUNS_FIELD: runs},
        )
        return Claim(dict(row.data), runs)


def claimed(status_id: str) -> Claim | None:
    """The row of a run that was created running (see create()); None if finished."""
    data = read(status_id)
    if data is None or data.get("status") in FINAL:
        return None
    return Claim(data, int(data.get(RUNS_FIELD) or 1))


def _update_unfinished(status_id: str, body: dict[str, Any]) -> bool:
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") in FINAL:
            return False
        writes.update(_master(), CLASS_NAME, status_id, body)
        return True


def set_message(status_id: str, message: str) -> bool:
    """Show ``message`` on a running job's status (ignored once it has finished)."""
    return _update_unfinished(status_id, {"message": message})


def finish(
    status_id: str, status: str, message: str | None = None, error: ParseError | None = None
) -> bool:
    """Record the outcome; False if another run (or the watchdog) recorded one first."""
    body: dict[str, Any] = {"status": status, "finishedAt": _now()}
    if message is not None:
        body["message"] = message
    if error is not None:
        body["error"] = {"code": error.code, "message": error.message}
    elif status == SUCCEEDED:
        body["error"] = {"__op": "Delete"}  # left by a failed attempt that was retried
    return _update_unfinished(status_id, body)


def retrying(status_id: str, message: str, error: ParseError) -> bool:
    """Back to pending until the retry starts, with the failure that caused it."""
    return _update_unfinished(
        status_id,
        {
            "status": PENDING,
            "message": message,
            "error": {"code": error.code, "message": error.message},
        },
    )


def fail(status_id: str, message: str, code: int = Code.SCRIPT_FAILED) -> bool:
    """Shorthand: finish as failed with ``message`` as both message and error."""
    return finish(status_id, FAILED, message, ParseError(code, message))
