"""The embedded runner: jobs in background threads of the web process (no broker).

Good for the demo and development: nothing to start. It is not durable (a job in
flight dies with its process), and Python cannot kill a thread, so the time limit
works like Celery's soft limit: the status is failed at once and the job gets a
:class:`~backend_kit.jobs.runner.TimeLimitExceeded` raised at its next Python line.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

from ..errors import Code
from . import runner, status

log = logging.getLogger("backend_kit.jobs")

_live: set[threading.Thread] = set()
_live_lock = threading.Lock()


def _spawn(target: Callable[[], None], name: str, delay: float = 0.0) -> threading.Thread:
    def body() -> None:
        try:
            if delay:
                time.sleep(delay)
            target()
        except runner.TimeLimitExceeded:
            pass  # landed after the run had ended; the watchdog recorded the failure
        finally:
            # Each thread has its own database connection; give it back.
            connections.close_all()
            with _live_lock:
                _live.discard(threading.current_thread())

    thread = threading.Thread(target=body, name=name, daemon=True)
    with _live_lock:
        _live.add(thread)
    thread.start()
    return thread


class _Run:
    """One run of a job in a thread, with the watchdog that enforces its time limit."""

    def __init__(self, status_id: str, limit: int, attempt: int, claimed: bool = False) -> None:
        self.status_id = status_id
        self.limit = limit
        self.attempt = attempt
        self.claimed = claimed
        self.lock = threading.Lock()
        self.done = False
        self.thread: threading.Thread | None = None

    def start(self, delay: float = 0.0) -> None:
        self.thread = _spawn(self.work, f"bk-job-{self.status_id}", delay)

    def work(self) -> None:
        watchdog = threading.Timer(self.limit, self.expire)
        watchdog.daemon = True
        watchdog.start()
        outcome = runner.Outcome()
        try:
            outcome = runner.execute(self.status_id, attempt=self.attempt, claimed=self.claimed)
        except runner.TimeLimitExceeded:
            # Raised outside the handler (the runner records it when inside).
            runner.record_time_limit(self.status_id)
        except Exception:
            log.exception("job status %s: the in-process runner failed", self.status_id)
            status.fail(
                self.status_id, "Internal error while running the job.", Code.INTERNAL_SERVER_ERROR
            )
        finally:
            with self.lock:
                self.done = True
            watchdog.cancel()
        if outcome.retry_in is not None:
            _Run(self.status_id, self.limit, self.attempt + 1).start(delay=outcome.retry_in)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
        try:
            recorded = runner.record_time_limit(self.status_id)
        except Exception:
            log.exception("job status %s: could not record its time limit", self.status_id)
            recorded = True
        finally:
            connections.close_all()
        if recorded:
            with self.lock:
                if not self.done and self.thread is not None and self.thread.ident:
                    _raise_in(self.thread.ident, runner.TimeLimitExceeded)


def _raise_in(thread_id: int, exc_type: type[BaseException]) -> None:
    # The only way to stop a Python thread from outside: ask the interpreter to raise
    # in it. It takes effect at the thread's next bytecode (a sleep loop, not a C call).
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type)
    )


def start(status_id: str, limit: int) -> None:
    """Run the job behind ``status_id`` (created running) now, in a new thread."""
    _Run(status_id, limit, 0, claimed=True).start()


def call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Call ``fn(**kwargs)`` in a new thread, logging what it raises."""

    def target() -> None:
        try:
            fn(**kwargs)
        except Exception:
            log.exception("background task %s failed", getattr(fn, "__name__", fn))

    _spawn(target, f"bk-task-{getattr(fn, '__name__', 'task')}")


def join(timeout: float | None = None) -> bool:
    """Wait until no job thread (nor pending retry) is left; False on timeout.

    For tests and ``bk_runjob``: a process that exits takes its job threads with it.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _live_lock:
            pending = [t for t in _live if t is not threading.current_thread()]
        if not pending:
            return True
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        pending[0].join(left)
