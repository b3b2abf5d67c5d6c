"""Settings of the jobs app: keys of ``BACKEND_KIT`` (defaults in ``backend_kit.conf``).

``JOBS_RUNNER``
    ``"auto"`` (default): Celery when its app has a broker configured, otherwise a
    thread in the web process. ``"celery"`` or ``"thread"`` to force one.
``JOBS_CELERY_APP``
    Dotted path of the host's Celery app (``"myproject.celery.app"``); None uses
    Celery's current app.
``JOBS_QUEUE``
    Queue the job tasks are sent to; None sends them to Celery's default queue.
``JOBS_TIME_LIMIT``
    Seconds a job may run when its ``@job`` declares no ``time_limit``.
``JOBS_TIME_LIMIT_GRACE``
    Seconds between the soft limit (the job gets an exception and its status says
    why) and the hard one (the worker kills the process running it).
``JOBS_MAX_WORKER_LOSSES``
    How often a job may lose its worker (killed, out of memory) before it is failed
    instead of being run again.
``JOBS_REDISPATCH_AFTER``
    Seconds a job sent to Celery may stay pending with no run claiming it before the
    sweep (scheduled by every beat) sends its run message again: its first message may
    have died with the process that was about to send it. An extra message is harmless
    (only one runs the job); None turns the sweep off.
"""

from __future__ import annotations

from typing import Any

from ..conf import bk_settings

RUNNERS = ("auto", "celery", "thread")


def get(name: str) -> Any:
    """The value of a jobs setting (``BACKEND_KIT[name]`` or its default in conf.py)."""
    return getattr(bk_settings, name)


def time_limit_of(options: dict[str, Any]) -> int:
    """The soft time limit of a job, from its ``@job`` options or the default."""
    return int(options.get("time_limit") or get("JOBS_TIME_LIMIT"))
