"""Usage counted from object writes: objects stored (cap), job runs, pushes sent.

Jobs and pushes keep their state in ``_JobStatus`` and ``_PushStatus`` objects, so
their starts and outcomes are seen here, inside the write's transaction, without the
jobs or push apps knowing about quotas.
"""

from __future__ import annotations

from typing import Any

from ..objects.writes import WriteEvent
from . import levels, metrics, quotas

JOB_STATUS = "_JobStatus"
PUSH_STATUS = "_PushStatus"
FINAL = ("succeeded", "failed")


def acts_on(class_name: str, ctx: Any, action: str) -> bool:
    """Whether :func:`object_written` may refuse or count anything for this write."""
    if class_name in (JOB_STATUS, PUSH_STATUS):
        return True
    return (
        action == "create" and "max" in quotas.limits("objects_stored") and not quotas.exempt(ctx)
    )


def object_written(event: WriteEvent) -> None:
    if event.action == "create":
        quotas.check_level("objects_stored", event.ctx, using=levels.alias_for("objects_stored"))
    if event.class_name == JOB_STATUS:
        _job(event)
    elif event.class_name == PUSH_STATUS:
        _push(event)


def _job(event: WriteEvent) -> None:
    name = str((event.object or {}).get("jobName", ""))
    body = event.body if isinstance(event.body, dict) else {}
    if event.action == "create":
        # every start (API, schedule, admin, command) writes its status first; jobs
        # and pushes are master work by nature, so their caps bind everyone
        quotas.consume("job_runs", 1)
        metrics.job_outcome(name, "started")
    elif event.action == "update" and body.get("status") in FINAL:
        metrics.job_outcome(name, str(body["status"]))


def _push(event: WriteEvent) -> None:
    body = event.body if isinstance(event.body, dict) else {}
    if event.action == "create":
        quotas.check_flow("pushes_sent", None)
        metrics.push_outcome("started")
        return
    if event.action != "update":
        return
    if body.get("status") in FINAL:
        metrics.push_outcome(str(body["status"]))
    sent = _increment(body.get("numSent"))
    failed = _increment(body.get("numFailed"))
    if sent:
        quotas.consume("pushes_sent", sent, enforce=False)  # already delivered
        metrics.push_deliveries("sent", sent)
    if failed:
        metrics.push_deliveries("failed", failed)


def _increment(value: Any) -> int:
    if isinstance(value, dict) and value.get("__op") == "Increment":
        amount = value.get("amount")
        return int(amount) if isinstance(amount, int) and amount > 0 else 0
    return 0
