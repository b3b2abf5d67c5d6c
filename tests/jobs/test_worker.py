"""Jobs on real Celery workers (Redis broker) sharing the PostgreSQL test database.

The workers are subprocesses; the test process starts jobs the way the web does and
follows them through the database. Needs PostgreSQL (a SQLite test database lives in
the test process only) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from backend_kit.context import RequestContext
from backend_kit.jobs import SCHEDULE_TASK, backends, dispatch, status, tasks
from backend_kit.jobs.mail import send_account_mail
from backend_kit.jobs.models import RecurringJob
from backend_kit.objects import reads
from tests.conftest import ParseClient
from tests.projects.celery.app import SHARED_CACHES

from .celery_harness import CeleryProcesses, redis_reachable
from .conftest import final_status, lines, wait_for

if not redis_reachable():
    pytest.skip("Redis is not reachable on 127.0.0.1:6379", allow_module_level=True)

# The workers share the test database, which only PostgreSQL can offer another process.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def celery(django_db_setup: Any, django_db_blocker: Any) -> Iterator[CeleryProcesses]:
    processes = CeleryProcesses(connection.settings_dict["NAME"])
    yield processes
    processes.clean_up()


@pytest.fixture
def jobs_on_workers(
    celery: CeleryProcesses, settings: Any, transactional_db: Any, sample_jobs: None
) -> Iterator[CeleryProcesses]:
    """The test process sends jobs to the workers; one worker is always running."""
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "JOBS_RUNNER": "celery",
        "JOBS_CELERY_APP": "tests.projects.celery.app.app",
        "JOBS_QUEUE": celery.queue,
        "JOBS_TIME_LIMIT_GRACE": 1,
    }
    settings.CACHES = SHARED_CACHES  # schema caches shared with the workers
    if not celery.live_workers():
        celery.start_worker()
    yield celery
    celery.stop_beat()


def master_find(class_name: str, **where: Any) -> list[dict[str, Any]]:
    found = reads.find(RequestContext.master(), class_name, {"where": where, "limit": 1000})
    return found["results"]


def finished(celery: CeleryProcesses, status_id: str) -> dict[str, Any]:
    try:
        return final_status(status_id, timeout=90)
    except BaseException:
        print(celery.logs())
        raise


def test_a_job_runs_on_a_worker_and_succeeds(jobs_on_workers: CeleryProcesses) -> None:
    response = ParseClient(master=True).post("jobs/probeEcho", {"marker": "w-1"})
    assert response.status_code == 200 and response.json_body == {}
    status_id = response["X-Parse-Job-Status-Id"]
    # queued, not run by the web process
    assert status.read(status_id)["status"] in ("pending", "running", "succeeded")
    done = finished(jobs_on_workers, status_id)
    assert (done["status"], done["message"], done["source"]) == ("succeeded", "echo w-1", "api")
    assert [p["jobId"] for p in master_find("JobProbe", marker="w-1")] == [status_id]


def test_a_job_whose_worker_is_killed_finishes_once_on_another(
    jobs_on_workers: CeleryProcesses, tmp_path: Path
) -> None:
    celery = jobs_on_workers
    gate, log = tmp_path / "gate", tmp_path / "runs.log"
    status_id = dispatch.start_job("probeGate", {"gate": str(gate), "log": str(log)})
    wait_for(lambda: len(lines(log)) == 1, "the first worker to start the job")
    (first,) = celery.live_workers()
    celery.kill(first)
    assert status.read(status_id)["status"] == "running"  # nobody finished it

    celery.start_worker()
    # The broker hands the unacknowledged message out again after its visibility timeout.
    wait_for(lambda: len(lines(log)) == 2, "the job to be delivered again", timeout=90)
    gate.touch()
    done = finished(celery, status_id)
    assert (done["status"], done["message"]) == ("succeeded", "through the gate")
    assert done["_runs"] == 2
    assert len(master_find("JobSideEffect", jobId=status_id)) == 1
    assert [s["objectId"] for s in master_find("_JobStatus", jobName="probeGate")] == [status_id]


def test_a_failing_job_is_retried_on_the_worker(jobs_on_workers: CeleryProcesses) -> None:
    status_id = dispatch.start_job("probeFlaky", {"fail_times": 2})
    done = finished(jobs_on_workers, status_id)
    assert (done["status"], done["message"]) == ("succeeded", "succeeded after retries")
    attempts = master_find("JobAttempt", jobId=status_id)
    assert sorted(a["attempt"] for a in attempts) == [0, 1, 2]


@pytest.mark.parametrize("job", ["probeSlow", "probeStubborn"])
def test_a_job_over_its_time_limit_fails_and_the_worker_goes_on(
    jobs_on_workers: CeleryProcesses, job: str, tmp_path: Path
) -> None:
    # probeSlow stops at the soft limit; probeStubborn ignores it, so the worker
    # kills the process running it at the hard limit and starts a new one.
    status_id = dispatch.start_job(job, {"log": str(tmp_path / "runs.log")})
    done = finished(jobs_on_workers, status_id)
    assert done["status"] == "failed"
    assert done["message"] == f"Job {job} exceeded its time limit of 1 s and was stopped."
    assert done["error"]["code"] == 124
    assert len(lines(tmp_path / "runs.log")) == 1  # failed, not redelivered
    after = dispatch.start_job("probeEcho", {"marker": f"after-{job}"})
    assert finished(jobs_on_workers, after)["status"] == "succeeded"


def test_account_mail_is_delivered_by_a_worker(jobs_on_workers: CeleryProcesses) -> None:
    send_account_mail(
        "passwordReset", "ann@example.com", "Reset", "Follow the link", link="https://x/reset"
    )
    mail_dir = jobs_on_workers.mail_dir
    sent = wait_for(lambda: list(mail_dir.iterdir()), "the worker to send the mail")
    text = sent[0].read_text()
    assert "To: ann@example.com" in text and "Follow the link" in text


def test_beat_starts_a_recurring_job(jobs_on_workers: CeleryProcesses) -> None:
    from django_celery_beat.models import IntervalSchedule

    every_two_seconds = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    recurring = RecurringJob(name="echo every 2 s", interval=every_two_seconds)
    recurring.set_job("probeEcho", {"marker": "beat"})
    recurring.save()
    jobs_on_workers.start_beat()

    def two_scheduled_runs() -> list[dict[str, Any]]:
        runs = master_find("_JobStatus", source="schedule", status="succeeded")
        return runs if len(runs) >= 2 else []

    try:
        runs = wait_for(two_scheduled_runs, "beat to start the job twice", timeout=90)
    except BaseException:
        print(jobs_on_workers.logs())
        raise
    assert {r["jobName"] for r in runs} == {"probeEcho"}
    assert {json.dumps(r["params"]) for r in runs} == {json.dumps({"marker": "beat"})}
    assert len({r["objectId"] for r in runs}) == len(runs)
    jobs_on_workers.stop_beat()
    recurring.refresh_from_db()
    assert recurring.total_run_count >= 2


def test_a_scheduled_firing_whose_run_message_was_lost_runs_once_on_redelivery(
    jobs_on_workers: CeleryProcesses, monkeypatch: Any
) -> None:
    task_id = f"tick-{secrets.token_hex(4)}"
    firing = {"job": "probeEcho", "params": {"marker": "lost-send"}}
    # The firing's first delivery, here: it writes the status and dies before sending.
    with monkeypatch.context() as lost:
        lost.setattr(backends, "_send", lambda name, **options: None)
        tasks.start_scheduled.apply(kwargs=firing, task_id=task_id)
    status_id = tasks.scheduled_status_id(task_id)
    assert status.read(status_id)["status"] == "pending"
    # The broker hands the unacknowledged firing to a worker again.
    backends._send(SCHEDULE_TASK, kwargs=firing, task_id=task_id)
    done = finished(jobs_on_workers, status_id)
    assert (done["status"], done["message"], done["_runs"]) == ("succeeded", "echo lost-send", 1)
    assert [p["jobId"] for p in master_find("JobProbe", marker="lost-send")] == [status_id]


def test_beat_sends_again_a_start_whose_run_message_was_lost(
    jobs_on_workers: CeleryProcesses, monkeypatch: Any
) -> None:
    # The web process writes the status and dies before sending the run message.
    with monkeypatch.context() as lost:
        lost.setattr(backends, "_send", lambda name, **options: None)
        status_id = dispatch.start_job("probeEcho", {"marker": "swept"})
    assert status.read(status_id)["status"] == "pending"
    jobs_on_workers.start_beat()  # its sweep resends starts unclaimed for 2 s
    done = finished(jobs_on_workers, status_id)
    assert (done["status"], done["_runs"]) == ("succeeded", 1)
    assert len(done["_dispatch"]) == 1  # the claim kept the message that ran it
    assert [p["jobId"] for p in master_find("JobProbe", marker="swept")] == [status_id]
