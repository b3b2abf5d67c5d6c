"""Where work goes: Celery when a broker is configured, otherwise threads in this process.

Both take the same two kinds of work: a job run (a ``_JobStatus`` id) and a plain
task (an account mail). Sending happens after the surrounding transaction commits,
so a worker never looks for a status row that is not visible yet. A run message's
task id is its dispatch id, which the status records (see :mod:`.status`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

from ..cloud.registry import Entry
from ..errors import Code
from ..objects.sql import db_alias
from . import RUN_TASK, app_settings, status

log = logging.getLogger("backend_kit.jobs")


def celery_app() -> Any:
    """The Celery app jobs are sent with (``JOBS_CELERY_APP`` or Celery's current app)."""
    path = app_settings.get("JOBS_CELERY_APP")
    if path:
        return import_string(path)
    from celery import current_app

    return current_app._get_current_object()


def uses_celery() -> bool:
    """Whether work goes to Celery workers (else to threads of this process)."""
    runner = app_settings.get("JOBS_RUNNER")
    if runner in ("celery", "thread"):
        return runner == "celery"
    try:
        conf = celery_app().conf
    except ImportError:
        return False
    return bool(conf.broker_url) or bool(conf.task_always_eager)


def _send(name: str, **options: Any) -> None:
    # A signature, not send_task(): it honours task_always_eager (a host's tests).
    queue = app_settings.get("JOBS_QUEUE")
    if queue:
        options["queue"] = queue
    celery_app().signature(name, **options).apply_async()


def new_dispatch_id() -> str:
    """A task id for a run message (the form Celery gives its own)."""
    return str(uuid.uuid4())


def submit_job(status_id: str, entry: Entry, dispatch_id: str | None = None) -> None:
    """Run ``status_id`` once the current transaction commits: in a thread, or as a
    Celery message whose task id is ``dispatch_id`` (recorded on the status)."""
    transaction.on_commit(
        partial(_submit_job, status_id, entry, dispatch_id), using=db_alias(write=True)
    )


def _submit_job(status_id: str, entry: Entry, dispatch_id: str | None) -> None:
    limit = app_settings.time_limit_of(entry.options)
    if not uses_celery():
        from . import inprocess

        inprocess.start(status_id, limit)
        return
    try:
        _send_run(status_id, limit, dispatch_id)
    except Exception as exc:
        # The API already answered with the status id: it must not stay pending forever.
        log.exception("could not queue job %s (%s)", entry.name, status_id)
        status.fail(status_id, f"The job could not be queued: {exc}", Code.INTERNAL_SERVER_ERROR)


def resubmit_job(status_id: str, options: dict[str, Any], dispatch_id: str) -> None:
    """Send another run message for ``status_id`` once the current transaction commits.

    ``options``: the job's ``@job`` options (for its time limit). A failure to send is
    only logged: the messages sent before stay valid, and the next redispatch tries
    again.
    """
    transaction.on_commit(
        partial(_resubmit_job, status_id, options, dispatch_id), using=db_alias(write=True)
    )


def _resubmit_job(status_id: str, options: dict[str, Any], dispatch_id: str) -> None:
    try:
        _send_run(status_id, app_settings.time_limit_of(options), dispatch_id)
    except Exception:
        log.exception("could not send job status %s again (%s)", status_id, dispatch_id)


def _send_run(status_id: str, limit: int, dispatch_id: str | None) -> None:
    _send(
        RUN_TASK,
        args=[status_id],
        task_id=dispatch_id,
        soft_time_limit=limit,
        time_limit=limit + int(app_settings.get("JOBS_TIME_LIMIT_GRACE")),
    )


def submit_task(name: str, kwargs: dict[str, Any], run_here: Callable[..., Any]) -> None:
    """Send task ``name`` after commit, or call ``run_here(**kwargs)`` in a thread."""
    transaction.on_commit(partial(_submit_task, name, kwargs, run_here), using=db_alias(write=True))


def _submit_task(name: str, kwargs: dict[str, Any], run_here: Callable[..., Any]) -> None:
    if uses_celery():
        _send(name, kwargs=kwargs)
        return
    from . import inprocess

    inprocess.call(run_here, kwargs)
