"""The Celery tasks behind push (registered by the app's ``ready()``).

Like the jobs app's, they acknowledge their message only when done and give it
back when their worker dies; a batch's state row makes a second run harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import BATCH_TASK, DUE_TASK, START_TASK, runner, status

log = logging.getLogger("backend_kit.push")

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name=START_TASK, **RELIABLE)
def start_push(status_id: str) -> None:
    """Claim a push, apply its badge change, and queue its batches."""
    try:
        runner.start_push(status_id)
    except Exception as exc:
        log.exception("push %s could not start", status_id)
        status.fail(status_id, f"The push could not start: {exc}")


@shared_task(name=BATCH_TASK, **RELIABLE)
def send_batch(batch_id: int) -> None:
    """Send one batch; a passing failure queues its retry."""
    try:
        runner.run_batch_safely(batch_id)
    except SoftTimeLimitExceeded:
        runner.batch_crashed(batch_id, "the batch ran over its time limit")


@shared_task(name=DUE_TASK, **RELIABLE)
def start_due() -> None:
    """Start the scheduled pushes that are due (run every minute by beat)."""
    runner.start_due()
