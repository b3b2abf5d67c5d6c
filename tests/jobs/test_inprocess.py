"""The embedded runner (no broker): jobs in threads, on SQLite as on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from backend_kit.jobs import dispatch, inprocess, runner, status, tasks
from backend_kit.objects import reads
from tests.conftest import ParseClient

from .conftest import after_threads, lines, wait_for

pytestmark = pytest.mark.usefixtures("thread_runner", "sample_jobs")


def objects(class_name: str, **where: Any) -> list[dict[str, Any]]:
    from backend_kit.context import RequestContext

    found = reads.find(RequestContext.master(), class_name, {"where": where, "limit": 1000})
    return found["results"]


def test_a_job_shows_its_messages_while_running(tmp_path: Path) -> None:
    gate, log = tmp_path / "gate", tmp_path / "runs.log"
    status_id = dispatch.start_job("probeGate", {"gate": str(gate), "log": str(log)})
    # The job writes its log line after its last database write, then only waits.
    wait_for(lambda: lines(log), "the job to reach its gate")
    running = status.read(status_id)
    assert running is not None
    assert (running["status"], running["message"]) == ("running", "waiting at the gate")
    gate.touch()
    done = after_threads(status_id)
    assert (done["status"], done["message"]) == ("succeeded", "through the gate")
    assert done["finishedAt"]["__type"] == "Date"


def test_a_failing_job_is_retried_with_backoff_until_it_succeeds() -> None:
    status_id = dispatch.start_job("probeFlaky", {"fail_times": 2})
    done = after_threads(status_id)
    assert (done["status"], done["message"]) == ("succeeded", "succeeded after retries")
    assert "error" not in done
    attempts = objects("JobAttempt", jobId=status_id)
    assert sorted(a["attempt"] for a in attempts) == [0, 1, 2]


def test_a_job_that_keeps_failing_fails_after_its_retries() -> None:
    status_id = dispatch.start_job("probeFlaky", {"fail_times": 5})
    done = after_threads(status_id)
    assert done["status"] == "failed"
    assert done["message"] == "flaky failure 3"
    assert done["error"] == {"code": 141, "message": "flaky failure 3"}
    assert len(objects("JobAttempt", jobId=status_id)) == 3  # 1 run + 2 retries


def test_a_job_over_its_time_limit_fails_and_the_next_job_runs() -> None:
    slow = dispatch.start_job("probeSlow", {})
    done = after_threads(slow)
    assert done["status"] == "failed"
    assert done["message"] == "Job probeSlow exceeded its time limit of 1 s and was stopped."
    assert done["error"]["code"] == 124
    echo = dispatch.start_job("probeEcho", {"marker": "after"})
    assert after_threads(echo)["status"] == "succeeded"


def test_a_finished_job_is_never_run_again() -> None:
    status_id = status.create("probeEcho", {"marker": "once"}, "api")
    assert status.finish(status_id, status.SUCCEEDED, "done before")
    # what a redelivered message does: nothing
    assert runner.execute(status_id) == runner.Outcome()
    assert objects("JobProbe") == []
    assert status.read(status_id)["message"] == "done before"


def test_a_deleted_status_is_skipped() -> None:
    status_id = status.create("probeEcho", {"marker": "gone"}, "api")
    assert ParseClient(master=True).delete(f"classes/_JobStatus/{status_id}").status_code == 200
    assert runner.execute(status_id) == runner.Outcome()
    assert objects("JobProbe") == []


def test_a_job_that_keeps_losing_its_worker_is_given_up(settings: Any) -> None:
    status_id = status.create("probeEcho", {"marker": "lost"}, "api")
    for _ in range(4):  # four deliveries that died with their worker
        assert status.claim(status_id) is not None
    runner.execute(status_id)
    done = status.read(status_id)
    assert done["status"] == "failed"
    assert done["message"] == "Job probeEcho lost its worker 4 times and was given up."
    assert objects("JobProbe") == []


def test_a_redelivered_schedule_firing_starts_its_job_once() -> None:
    for _ in range(2):  # the same message twice, as after a lost worker
        tasks.start_scheduled.apply(args=["probeEcho", {"marker": "tick"}], task_id="tick-1")
    assert inprocess.join(timeout=60)
    started = objects("_JobStatus", source="schedule")
    assert [s["objectId"] for s in started] == [tasks.scheduled_status_id("tick-1")]
    assert started[0]["status"] == "succeeded"
    assert len(objects("JobProbe")) == 1


def test_a_job_in_a_thread_has_no_message_to_send_again() -> None:
    status_id = dispatch.start_job("probeEcho", {"marker": "thread"})
    done = after_threads(status_id)
    assert done["status"] == "succeeded" and status.DISPATCH_FIELD not in done
    assert dispatch.redispatch(status_id) is False
    assert dispatch.redispatch_stalled(0.001) == []
    assert len(objects("JobProbe")) == 1


def test_bk_runjob_runs_a_job_and_reports_it(capsys: Any) -> None:
    call_command("bk_runjob", "probeEcho", "--params", '{"marker": "cmd"}')
    out = capsys.readouterr().out
    assert "Started probeEcho: _JobStatus " in out
    assert "succeeded: echo cmd" in out
    assert [s["source"] for s in objects("_JobStatus")] == ["command"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["noSuchJob"], "Invalid job. (code 141)"),
        (["probeEcho", "--params", "{}"], "Please specify data for marker."),
        (["probeEcho", "--params", "{oops"], "--params is not JSON"),
        (["probeSlow"], "Job failed: Job probeSlow exceeded its time limit of 1 s"),
    ],
)
def test_bk_runjob_errors(args: list[str], error: str) -> None:
    with pytest.raises(CommandError, match=error.replace("(", r"\(").replace(")", r"\)")):
        call_command("bk_runjob", *args)


def test_account_mail_is_sent_by_a_background_job(mailoutbox: list[Any]) -> None:
    client = ParseClient()
    signup = client.post(
        "users", {"username": "mia", "password": "a-long-password", "email": "mia@example.com"}
    )
    assert signup.status_code == 201, signup.json_body
    assert client.post("requestPasswordReset", {"email": "mia@example.com"}).status_code == 200
    assert inprocess.join(timeout=60)
    assert [m.to for m in mailoutbox] == [["mia@example.com"]]
    assert "/apps/test-app/reset_password?" in mail.outbox[0].body


def test_conformance_mails_are_still_recorded_by_the_adapter(
    settings: Any, mailoutbox: list[Any]
) -> None:
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "ACCOUNT_ADAPTER": "example_project.mail.RecordingAdapter",
    }
    client = ParseClient()
    signup = client.post(
        "users", {"username": "leo", "password": "a-long-password", "email": "leo@example.com"}
    )
    assert signup.status_code == 201, signup.json_body
    assert client.post("requestPasswordReset", {"email": "leo@example.com"}).status_code == 200
    assert inprocess.join(timeout=60)
    recorded = objects("ConformanceMail")
    assert [(m["kind"], m["to"]) for m in recorded] == [("passwordReset", "leo@example.com")]
    assert mailoutbox == []
