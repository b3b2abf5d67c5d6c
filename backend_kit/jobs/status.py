"""``_JobStatus`` objects: what a job is doing, readable with the master key.

Fields: ``jobName``, ``source`` (api, schedule, command, admin), ``status`` (pending,
running, succeeded, failed), ``message``, ``params``, ``startedAt``, ``finishedAt``,
``error`` (``{code, message}``). Rows are locked ACL-less objects (master only), as in
Parse Server. Every transition locks the row first, so a redelivered or timed-out
run can never turn a finished status back into a running one.

A status sent to Celery records the ids of the run messages that may claim it (its
dispatch ids): a start records one, a redispatch adds another, and the first claim
keeps only its own. Every other copy of the message is then stale, so two messages
for one start never both run it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction

from ..codec import encode_date
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError
from ..objects import writes
from ..objects.models import ParseObject
from ..objects.sql import db_alias

log = logging.getLogger("backend_kit.jobs")

CLASS_NAME = "_JobStatus"
PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
SOURCES = ("api", "schedule", "command", "admin")
# Stored with the row but never returned: how many runs claimed it (worker losses).
RUNS_FIELD = "_runs"
# Stored but never returned: the Celery task ids of the run messages that may claim
# the row (see claim()). Absent on rows of the in-process runner and older rows.
DISPATCH_FIELD = "_dispatch"


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
    dispatch_id: str | None = None,
) -> str:
    """Write a new status row; returns its objectId (137 if ``object_id`` is taken).

    ``dispatch_id``: the task id of the run message about to be sent, recorded in the
    same insert, so that only that message may run the job.
    """
    body: dict[str, Any] = {
        "jobName": job_name,
        "source": source,
        "status": status,
        "params": params,
        "ACL": {},
    }
    internal: dict[str, Any] = {}
    if status == RUNNING:
        # Created already claimed by the run that starts right away (see claim()).
        body["startedAt"] = _now()
        internal[RUNS_FIELD] = 1
    if dispatch_id is not None:
        internal[DISPATCH_FIELD] = [dispatch_id]
    result = writes.create(
        _master(), CLASS_NAME, body, object_id=object_id, internal=internal or None
    )
    return str(result.payload["objectId"])


def _locked(status_id: str) -> ParseObject | None:
    return ParseObject.objects.using(db_alias(write=True)).row(
        CLASS_NAME, status_id, for_update=True
    )


def read(status_id: str) -> dict[str, Any] | None:
    """The stored data of a status row (internal fields included), or None."""
    row = ParseObject.objects.using(db_alias()).only("data").row(CLASS_NAME, status_id)
    return dict(row.data) if row is not None else None


def dispatch_ids(data: dict[str, Any]) -> list[str]:
    """The ids of the run messages that may claim a row; empty: any run may."""
    recorded = data.get(DISPATCH_FIELD)
    return [str(i) for i in recorded] if isinstance(recorded, list) else []


def unclaimed(data: dict[str, Any]) -> bool:
    """Pending and never claimed: no run has taken it, nor is a retry of one due."""
    return data.get("status") == PENDING and not data.get(RUNS_FIELD)


def claim(status_id: str, dispatch_id: str | None = None) -> Claim | None:
    """Mark the row running for a new run; None if it is gone, finished, or not for
    the run message ``dispatch_id`` to run.

    A claim of a running row is a run again after its worker was lost: only the
    message that claimed it first (redelivered, or its own retry, both keep their
    task id) may do that. Any other copy of the start is stale.
    """
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") in FINAL:
            return None
        recorded = dispatch_ids(row.data)
        if recorded and dispatch_id not in recorded:
            log.info(
                "job status %s: run message %s is stale (the status expects %s); not running it",
                status_id,
                dispatch_id,
                ", ".join(recorded),
            )
            return None
        runs = int(row.data.get(RUNS_FIELD) or 0) + 1
        internal: dict[str, Any] = {RUNS_FIELD: runs}
        if dispatch_id is not None and recorded != [dispatch_id]:
            # This message won: every other copy of the start is stale from now on.
            internal[DISPATCH_FIELD] = [dispatch_id]
        writes.update(
            _master(),
            CLASS_NAME,
            status_id,
            {"status": RUNNING, "startedAt": _now()},
            internal=internal,
        )
        return Claim(dict(row.data), runs)


def add_dispatch(
    status_id: str, dispatch_id: str, *, backoff: float = 0.0
) -> dict[str, Any] | None:
    """Let run message ``dispatch_id`` claim the row too, if no run has claimed it yet.

    For a start whose first message may never have been sent. The ids recorded before
    stay valid: if that message was sent after all (and waits in a busy queue), it
    still runs the job in its turn, and whichever message comes first makes the other
    stale. A row from before dispatch ids records none: it becomes this message's.

    ``backoff``: only a row left alone that many seconds, doubled for each dispatch id
    it has beyond the first (a queue that is merely slow gets one more message per
    start now and then, not one per sweep). Returns the row's data when the id was
    added (the caller sends the message after commit), else None.
    """
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or not unclaimed(row.data):
            return None
        recorded = dispatch_ids(row.data)
        if backoff and _idle_seconds(row) < backoff * 2 ** max(len(recorded) - 1, 0):
            return None
        writes.update(
            _master(),
            CLASS_NAME,
            status_id,
            {},
            internal={DISPATCH_FIELD: [*recorded, dispatch_id]},
        )
        return dict(row.data)


def _idle_seconds(row: ParseObject) -> float:
    return (writes.now() - row.updated_at).total_seconds()


def stalled(idle_for: float, look_back: float) -> list[str]:
    """Ids of the statuses sent to Celery that no run has claimed and that nothing
    wrote for ``idle_for`` seconds, among those written in the last ``look_back``
    seconds (which keeps the query on the recent end of the updated-at index)."""
    now = writes.now()
    rows = (
        ParseObject.objects.using(db_alias())
        .filter(
            class_name=CLASS_NAME,
            updated_at__lt=now - timedelta(seconds=idle_for),
            updated_at__gte=now - timedelta(seconds=look_back),
            data__status=PENDING,
        )
        .values_list("object_id", "data")
    )
    # Rows without a dispatch id predate dispatch ids: a message sent by an older
    # version could still be run by an older worker, which checks none.
    return [oid for oid, data in rows if unclaimed(data) and dispatch_ids(data)]


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
