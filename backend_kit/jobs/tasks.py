"""The Celery tasks behind jobs (found by ``app.autodiscover_tasks()``).

All of them acknowledge their message only when done (``acks_late``) and give it
back when their worker process dies (``reject_on_worker_lost``): a job whose worker
is killed runs again on another worker. The status row stops a finished job from
running twice when its message comes back after all, and its dispatch ids stop two
copies of one start's message from both running it (see :mod:`.status`).

Every beat also schedules the sweep (:data:`REDISPATCH_TASK`), which sends again the
run messages of starts whose process died before sending them.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import beat_init
from django.db import close_old_connections

from ..errors import Code, ParseError
from . import (
    MAIL_TASK,
    REDISPATCH_TASK,
    RUN_TASK,
    SCHEDULE_TASK,
    app_settings,
    dispatch,
    mail,
    runner,
    status,
)

log = logging.getLogger("backend_kit.jobs")

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


class JobTask(Task):
    """Records on the status what the runner could not: a hard time limit, a crash."""

    def on_failure(self, exc: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # After a hard time limit this runs in the worker's main process: the
        # process that ran the job was killed and cannot say so itself.
        status_id = args[0] if args else kwargs.get("status_id")
        if not status_id:
            return
        try:
            if isinstance(exc, TimeLimitExceeded):
                runner.record_time_limit(status_id)
            else:
                status.fail(
                    status_id,
                    f"Internal error while running the job: {exc}",
                    Code.INTERNAL_SERVER_ERROR,
                )
        except Exception:
            log.exception("job status %s: could not record the failure", status_id)
        finally:
            close_old_connections()


@shared_task(bind=True, base=JobTask, name=RUN_TASK, **RELIABLE)
def run_job(self: Task, status_id: str) -> None:
    """Run one job; a failure with retries left comes back after its backoff.

    The task id is the dispatch id the status expects: a redelivery and a retry keep
    it (Celery's retry sends the same task id), another copy of the start has its own.
    """
    outcome = runner.execute(status_id, attempt=self.request.retries, dispatch_id=self.request.id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in, max_retries=None)


def scheduled_status_id(task_id: str) -> str:
    """The status id of one firing of a schedule: the same if its message is redelivered."""
    return hashlib.sha256(f"schedule:{task_id}".encode()).hexdigest()[:20]


@shared_task(bind=True, name=SCHEDULE_TASK, **RELIABLE)
def start_scheduled(self: Task, job: str, params: dict[str, Any] | None = None) -> None:
    """What a recurring job's periodic task runs: start the job with source "schedule"."""
    try:
        dispatch.start_job(
            job, params or {}, source="schedule", status_id=scheduled_status_id(self.request.id)
        )
    except ParseError as exc:
        if exc.code == Code.DUPLICATE_VALUE:
            # A redelivery: this firing's status was written before, maybe by a worker
            # that died before sending its run message. Send one if no run claimed it.
            dispatch.redispatch(scheduled_status_id(self.request.id))
            return
        log.error("recurring job %s could not start: %s", job, exc.message)


@shared_task(name=REDISPATCH_TASK, ignore_result=True)
def redispatch_stalled() -> None:
    """The sweep: send again the starts no run claimed within JOBS_REDISPATCH_AFTER s.

    Not acks_late: a sweep lost with its worker is simply the next one's work.
    """
    sent = dispatch.redispatch_stalled()
    if sent:
        log.warning(
            "sent the run messages of %d job statuses again (pending, claimed by no run): %s",
            len(sent),
            ", ".join(sent),
        )


SWEEP_ENTRY = "backend_kit.jobs: send lost job starts again"


def sweep_entry(idle_for: float) -> dict[str, Any]:
    """The beat schedule entry of the sweep: twice per ``idle_for``, on the jobs queue."""
    queue = app_settings.get("JOBS_QUEUE")
    return {
        "task": REDISPATCH_TASK,
        "schedule": timedelta(seconds=max(idle_for / 2, 1.0)),
        "options": {"queue": queue} if queue else {},
    }


@beat_init.connect
def schedule_the_sweep(sender: Any, **kwargs: Any) -> None:
    """Every beat schedules the sweep, so a host needs no entry of its own for it.

    Written again at each start (a database scheduler's row included), from
    ``JOBS_REDISPATCH_AFTER``; None schedules nothing.
    """
    idle_for = app_settings.get("JOBS_REDISPATCH_AFTER")
    if idle_for:
        sender.scheduler.update_from_dict({SWEEP_ENTRY: sweep_entry(float(idle_for))})


@shared_task(
    name=MAIL_TASK,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=5,
    **RELIABLE,
)
def send_account_mail(kind: str, to: str, subject: str, body: str, link: str | None = None) -> None:
    """Deliver one account mail; network and SMTP errors are retried with backoff."""
    mail.deliver(kind=kind, to=to, subject=subject, body=body, link=link)
