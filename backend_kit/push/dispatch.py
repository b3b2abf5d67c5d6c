"""Where push work runs: Celery when the jobs app has a broker, else threads here.

The jobs app decides (``JOBS_RUNNER``, its Celery app); push tasks go to
``PUSH["QUEUE"]`` or the jobs queue. Everything is handed over after the current
transaction commits, so a worker never looks for a row it cannot see yet.

Without a broker, a push runs in one background thread of this process: its
batches one after the other (SQLite takes one writer at a time anyway), retries
in threads of their own after their delay. Those threads are the jobs app's
(:func:`backend_kit.jobs.inprocess.join` waits for them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

from ..jobs import backends, inprocess
from ..jobs.app_settings import get as jobs_setting
from ..objects.sql import db_alias
from . import BATCH_TASK, START_TASK, app_settings

log = logging.getLogger("backend_kit.push")


def uses_celery() -> bool:
    return backends.uses_celery()


def _send(name: str, args: list[Any], delay: float, **options: Any) -> None:
    queue = app_settings.get("QUEUE") or jobs_setting("JOBS_QUEUE")
    if queue:
        options["queue"] = queue
    if delay > 0:
        options["countdown"] = delay
    backends.celery_app().signature(name, args=args, **options).apply_async()


def _in_thread(fn: Callable[..., Any], delay: float, *args: Any) -> None:
    def target() -> None:
        if delay > 0:
            time.sleep(delay)
        fn(*args)

    target.__name__ = getattr(fn, "__name__", "push")
    inprocess.call(target, {})


def start(status_id: str, delay: float = 0.0) -> None:
    """Start sending ``status_id`` (after ``delay`` seconds) once this transaction commits.

    A Celery countdown longer than ``SCHEDULE_ETA_LIMIT`` is not sent: the ``due``
    sweep starts such a push when its time comes.
    """
    transaction.on_commit(partial(_start, status_id, delay), using=db_alias(write=True))


def _start(status_id: str, delay: float) -> None:
    from . import runner

    if not uses_celery():
        _in_thread(runner.start_push, delay, status_id)
        return
    if delay > float(app_settings.get("SCHEDULE_ETA_LIMIT")):
        log.info("push %s waits for the due sweep (in %.0f s)", status_id, delay)
        return
    try:
        _send(START_TASK, [status_id], delay)
    except Exception:
        # The client has its status id: the sweep picks a pending push up again.
        log.exception("could not queue push %s; the due sweep will retry", status_id)


def batch(batch_id: int, delay: float = 0.0) -> None:
    """Send batch ``batch_id`` (after ``delay`` seconds) once this transaction commits."""
    transaction.on_commit(partial(_batch, batch_id, delay), using=db_alias(write=True))


def _batch(batch_id: int, delay: float) -> None:
    from . import runner

    if not uses_celery():
        _in_thread(runner.run_batch_safely, delay, batch_id)
        return
    limit = int(app_settings.get("BATCH_TIME_LIMIT"))
    try:
        _send(BATCH_TASK, [batch_id], delay, soft_time_limit=limit, time_limit=limit + 30)
    except Exception:
        log.exception("could not queue push batch %s; the due sweep will retry", batch_id)
