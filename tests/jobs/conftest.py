"""Fixtures of the jobs tests: registered sample jobs, the in-process runner, helpers."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend_kit.cloud import registry
from backend_kit.jobs import inprocess, status
from tests.processes import poll_until

SAMPLE_MODULES = ("tests.jobs.sample_jobs",)


def load_cloud(*modules: str) -> None:
    """(Re)import cloud modules so that their decorators register again."""
    for module in modules:
        sys.modules.pop(module, None)
        importlib.import_module(module)


@pytest.fixture
def cloud_modules() -> Iterator[Callable[..., None]]:
    """Register cloud modules for one test; the registry is restored afterwards."""
    snap = registry.snapshot()
    registry.clear()
    yield load_cloud
    registry.restore(snap)


@pytest.fixture
def sample_jobs(cloud_modules: Callable[..., None]) -> None:
    cloud_modules(*SAMPLE_MODULES)


@pytest.fixture
def thread_runner(settings: Any, transactional_db: Any, sample_jobs: None) -> Iterator[None]:
    """Jobs in threads of the test process, on a database the threads can see.

    The test database must be committed for the job threads (``transactional_db``);
    every thread is joined before the database is flushed.
    """
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_RUNNER": "thread"}
    yield
    assert inprocess.join(timeout=60), "job threads still running after the test"


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll until ``predicate()`` is truthy; fail (not hang) if it never is."""
    return poll_until(predicate, what, timeout)


def final_status(status_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The status row once it has succeeded or failed."""

    def finished() -> dict[str, Any] | None:
        data = status.read(status_id)
        return data if data and data.get("status") in status.FINAL else None

    return wait_for(finished, f"job status {status_id} to finish", timeout)


def after_threads(status_id: str) -> dict[str, Any]:
    """The status row once every job thread is done (threads first: SQLite's shared
    in-memory test database refuses a read while another connection writes)."""
    assert inprocess.join(timeout=60), "job threads still running"
    data = status.read(status_id)
    assert data is not None, f"no job status {status_id}"
    return data


def lines(path: Any) -> list[str]:
    try:
        with open(path) as file:
            return file.read().splitlines()
    except FileNotFoundError:
        return []
