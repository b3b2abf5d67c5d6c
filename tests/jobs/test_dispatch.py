"""Dispatch ids: however many copies of a start's run message exist, one runs the job.

A start sent to Celery records its run message's task id on the status; a message
sent again (a redelivered schedule firing, the sweep) adds its own id, and the first
claim makes every other copy stale. Here the broker is a list of the run messages
sent, and a test delivers one by applying the run task with its task id, as a worker
does. Runs on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db.models import F

from backend_kit.context import RequestContext
from backend_kit.errors import Code, ParseError
from backend_kit.jobs import REDISPATCH_TASK, RUN_TASK, backends, dispatch, status, tasks
from backend_kit.objects import reads
from backend_kit.objects.models import ParseObject


@dataclass(frozen=True)
class Message:
    status_id: str
    task_id: str | None


@dataclass
class Broker:
    """Keeps the run messages sent; while ``losing``, a message is lost instead, as when
    the process sending it dies after its status committed."""

    sent: list[Message] = field(default_factory=list)
    losing: bool = False

    def send(self, name: str, **options: Any) -> None:
        assert name == RUN_TASK
        if not self.losing:
            self.sent.append(Message(options["args"][0], options.get("task_id")))


@pytest.fixture
def broker(settings: Any, transactional_db: Any, sample_jobs: None, monkeypatch: Any) -> Broker:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_RUNNER": "celery"}
    broker = Broker()
    monkeypatch.setattr(backends, "_send", broker.send)
    return broker


def deliver(message: Message) -> None:
    """What a worker does with a run message."""
    tasks.run_job.apply(args=[message.status_id], task_id=message.task_id)


def fire(task_id: str, marker: str = "tick") -> str:
    """One delivery of a schedule firing (``task_id``: its message's); its status id."""
    tasks.start_scheduled.apply(args=["probeEcho", {"marker": marker}], task_id=task_id)
    return tasks.scheduled_status_id(task_id)


def probes(marker: str) -> list[dict[str, Any]]:
    where = {"marker": marker}
    return reads.find(RequestContext.master(), "JobProbe", {"where": where})["results"]


def stored(status_id: str) -> dict[str, Any]:
    data = status.read(status_id)
    assert data is not None, f"no job status {status_id}"
    return data


def idle(status_id: str, seconds: float) -> None:
    """Make the status look as if nothing wrote it for ``seconds`` more."""
    ParseObject.objects.filter(class_name=status.CLASS_NAME, object_id=status_id).update(
        updated_at=F("updated_at") - timedelta(seconds=seconds)
    )


def test_a_start_records_the_task_id_of_its_run_message(broker: Broker) -> None:
    status_id = dispatch.start_job("probeEcho", {"marker": "sent"})
    (message,) = broker.sent
    assert message.status_id == status_id
    assert stored(status_id)[status.DISPATCH_FIELD] == [message.task_id]
    deliver(message)
    assert stored(status_id)["status"] == "succeeded"


def test_a_scheduled_firing_whose_run_message_was_lost_runs_once_when_redelivered(
    broker: Broker,
) -> None:
    broker.losing = True
    status_id = fire("tick-lost")  # its worker dies before sending the run message
    broker.losing = False
    assert (stored(status_id)["status"], broker.sent) == ("pending", [])
    fire("tick-lost")  # the broker hands the unacknowledged firing out again
    (message,) = broker.sent
    deliver(message)
    done = stored(status_id)
    assert (done["status"], done["message"], done[status.RUNS_FIELD]) == (
        "succeeded",
        "echo tick",
        1,
    )
    assert [p["jobId"] for p in probes("tick")] == [status_id]


def test_a_stale_run_message_does_not_run_the_job(broker: Broker) -> None:
    status_id = dispatch.start_job("probeEcho", {"marker": "stale"})
    (message,) = broker.sent
    deliver(Message(status_id, "a-message-the-status-never-knew"))
    pending = stored(status_id)
    assert pending["status"] == "pending" and status.RUNS_FIELD not in pending
    assert probes("stale") == []
    deliver(message)
    assert stored(status_id)["status"] == "succeeded"
    assert len(probes("stale")) == 1


@pytest.mark.parametrize("winner", [0, 1])
def test_two_copies_of_a_start_run_the_job_once(broker: Broker, winner: int) -> None:
    status_id = fire("tick-twice", "twice")
    fire("tick-twice", "twice")  # redelivered, although its run message was sent
    assert len(broker.sent) == 2 and broker.sent[0].task_id != broker.sent[1].task_id
    first, other = broker.sent[winner], broker.sent[1 - winner]
    # A worker takes one copy and is still running it when the other copy comes to
    # another worker: a claim of a running row is a re-run after a lost worker, and
    # only the message that claimed the row may make it.
    assert status.claim(status_id, first.task_id) is not None
    deliver(other)
    running = stored(status_id)
    assert (running["status"], running[status.RUNS_FIELD]) == ("running", 1)
    assert running[status.DISPATCH_FIELD] == [first.task_id]
    assert probes("twice") == []


@pytest.mark.parametrize("state", ["running", "retrying", "succeeded", "failed"])
def test_a_redelivered_firing_of_a_claimed_job_sends_nothing(broker: Broker, state: str) -> None:
    status_id = fire("tick-claimed")
    (message,) = broker.sent
    if state == "succeeded":
        deliver(message)
    else:
        assert status.claim(status_id, message.task_id) is not None
    if state == "retrying":  # its retry message will come (with the same task id)
        assert status.retrying(status_id, "retry soon", ParseError(Code.SCRIPT_FAILED, "x"))
    if state == "failed":
        assert status.fail(status_id, "it failed")
    fire("tick-claimed")
    assert broker.sent == [message]
    assert stored(status_id)[status.DISPATCH_FIELD] == [message.task_id]


def test_a_retry_claims_with_the_task_id_of_its_first_run(broker: Broker) -> None:
    status_id = dispatch.start_job("probeFlaky", {"fail_times": 2})
    (message,) = broker.sent
    # Applied locally, the task's retries run at once, sent by Celery's own retry.
    deliver(message)
    done = stored(status_id)
    assert (done["status"], done["message"]) == ("succeeded", "succeeded after retries")
    assert (done[status.RUNS_FIELD], done[status.DISPATCH_FIELD]) == (3, [message.task_id])


def test_the_sweep_sends_again_a_start_no_run_claimed(broker: Broker) -> None:
    broker.losing = True
    status_id = dispatch.start_job("probeEcho", {"marker": "swept"})  # its server dies
    broker.losing = False
    assert dispatch.redispatch_stalled(60) == []  # not idle long enough yet
    idle(status_id, 61)
    assert dispatch.redispatch_stalled(60) == [status_id]
    (message,) = broker.sent
    deliver(message)
    assert stored(status_id)["status"] == "succeeded"
    assert len(probes("swept")) == 1
    idle(status_id, 61)
    assert dispatch.redispatch_stalled(60) == []


def test_the_sweep_backs_off_and_a_late_first_message_still_runs_the_job(broker: Broker) -> None:
    status_id = dispatch.start_job("probeEcho", {"marker": "slow queue"})
    idle(status_id, 61)
    assert dispatch.redispatch_stalled(60) == [status_id]
    idle(status_id, 61)
    assert dispatch.redispatch_stalled(60) == []  # two ids: the next one waits 120 s
    idle(status_id, 60)
    assert dispatch.redispatch_stalled(60) == [status_id]
    first, *copies = broker.sent
    assert len(stored(status_id)[status.DISPATCH_FIELD]) == 3
    deliver(first)  # the first message, late behind a long queue, runs the job
    for copy in copies:
        deliver(copy)
    done = stored(status_id)
    assert (done["status"], done[status.RUNS_FIELD]) == ("succeeded", 1)
    assert len(probes("slow queue")) == 1


def test_the_sweep_leaves_claimed_and_older_starts_alone(broker: Broker, settings: Any) -> None:
    running = dispatch.start_job("probeEcho", {"marker": "running"})
    assert status.claim(running, broker.sent[0].task_id) is not None
    retrying = dispatch.start_job("probeEcho", {"marker": "retrying"})
    assert status.claim(retrying, broker.sent[1].task_id) is not None
    assert status.retrying(retrying, "retry in an hour", ParseError(Code.SCRIPT_FAILED, "x"))
    # written before dispatch ids: an older worker might still run its message
    older = status.create("probeEcho", {"marker": "older"}, "api")
    for status_id in (running, retrying, older):
        idle(status_id, 3600)
    assert dispatch.redispatch_stalled(60) == []
    assert len(broker.sent) == 2


def test_the_sweep_is_off_without_its_setting(broker: Broker, settings: Any) -> None:
    broker.losing = True
    status_id = dispatch.start_job("probeEcho", {"marker": "unswept"})
    idle(status_id, 3600)
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_REDISPATCH_AFTER": None}
    assert dispatch.redispatch_stalled() == []
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_REDISPATCH_AFTER": 60}
    assert dispatch.redispatch_stalled() == [status_id]


@dataclass
class Scheduler:
    entries: dict[str, Any] = field(default_factory=dict)

    def update_from_dict(self, entries: dict[str, Any]) -> None:
        self.entries.update(entries)


def test_every_beat_schedules_the_sweep(settings: Any) -> None:
    beat = SimpleNamespace(scheduler=Scheduler())
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_QUEUE": "jobs"}
    tasks.schedule_the_sweep(sender=beat)
    assert beat.scheduler.entries == {
        tasks.SWEEP_ENTRY: {
            "task": REDISPATCH_TASK,
            "schedule": timedelta(seconds=150),  # twice per JOBS_REDISPATCH_AFTER
            "options": {"queue": "jobs"},
        }
    }
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_REDISPATCH_AFTER": None}
    beat = SimpleNamespace(scheduler=Scheduler())
    tasks.schedule_the_sweep(sender=beat)
    assert beat.scheduler.entries == {}
