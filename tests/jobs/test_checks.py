"""System checks of the jobs app, and its migrations."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command


def ids(include_deployment_checks: bool = False) -> set[str]:
    return {m.id for m in run_checks(include_deployment_checks=include_deployment_checks)}


def jobs_settings(settings: Any, **values: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, **values}


def test_the_test_project_passes() -> None:
    assert not {i for i in ids() if i.startswith(("backend_kit.E06", "backend_kit.W06"))}


def test_unknown_runner(settings: Any) -> None:
    jobs_settings(settings, JOBS_RUNNER="cron")
    assert "backend_kit.E061" in ids()


def test_celery_app_that_cannot_be_imported(settings: Any) -> None:
    jobs_settings(settings, JOBS_CELERY_APP="no_such_module.app")
    assert "backend_kit.E062" in ids()


@pytest.mark.usefixtures("sample_jobs")
def test_jobs_longer_than_the_visibility_timeout(settings: Any) -> None:
    # The tests' Celery app redelivers after 5 s; the default time limit is an hour.
    jobs_settings(
        settings, JOBS_CELERY_APP="tests.projects.celery.app.app", JOBS_TIME_LIMIT_GRACE=1
    )
    (warning,) = [m for m in run_checks() if m.id == "backend_kit.W060"]
    assert "probeEcho" in warning.msg and "probeSlow" not in warning.msg
    jobs_settings(
        settings,
        JOBS_CELERY_APP="tests.projects.celery.app.app",
        JOBS_TIME_LIMIT=3,
        JOBS_TIME_LIMIT_GRACE=1,
    )
    assert "backend_kit.W060" not in ids()


def test_in_process_jobs_are_flagged_for_deployment(settings: Any) -> None:
    jobs_settings(settings, JOBS_RUNNER="thread")
    assert "backend_kit.W061" in ids(include_deployment_checks=True)
    jobs_settings(settings, JOBS_RUNNER="celery")
    assert "backend_kit.W061" not in ids(include_deployment_checks=True)


def test_migrations_are_complete(db: Any) -> None:
    out = StringIO()
    call_command("makemigrations", "backend_kit_jobs", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
