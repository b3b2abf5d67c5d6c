"""The jobs REST API, with jobs running in threads of the test process (no broker)."""

from __future__ import annotations

from typing import Any

import pytest

from backend_kit.cloud import registry
from tests.conftest import ParseClient

from .conftest import after_threads

pytestmark = pytest.mark.usefixtures("thread_runner")


def job_statuses() -> list[dict[str, Any]]:
    return ParseClient(master=True).get("classes/_JobStatus").json_body["results"]


def finished(status_id: str) -> dict[str, Any]:
    """The status as a client reads it (REST, master key) once the job has finished."""
    after_threads(status_id)
    response = ParseClient(master=True).get(f"classes/_JobStatus/{status_id}")
    assert response.status_code == 200, response.json_body
    return response.json_body


def test_a_job_answers_empty_with_its_status_id_and_succeeds() -> None:
    response = ParseClient(master=True).post("jobs/probeEcho", {"marker": "m-1"})
    assert response.status_code == 200, response.json_body
    assert response.json_body == {}
    status_id = response["X-Parse-Job-Status-Id"]
    job = finished(status_id)
    assert job["jobName"] == "probeEcho"
    assert job["source"] == "api"
    assert job["status"] == "succeeded"
    assert job["message"] == "echo m-1"
    assert job["params"] == {"marker": "m-1"}
    assert job["startedAt"]["__type"] == "Date" and job["finishedAt"]["__type"] == "Date"
    assert "error" not in job
    probes = ParseClient(master=True).get("classes/JobProbe").json_body["results"]
    assert [(p["marker"], p["jobId"]) for p in probes] == [("m-1", status_id)]
    # nobody but the master key reads job statuses
    public = ParseClient().get(f"classes/_JobStatus/{status_id}")
    assert public.status_code >= 400 and "jobName" not in public.json_body


def test_post_jobs_takes_the_name_from_the_body() -> None:
    response = ParseClient(master=True).post("jobs", {"jobName": "probeEcho", "marker": "b"})
    assert response.status_code == 200, response.json_body
    job = finished(response["X-Parse-Job-Status-Id"])
    assert job["jobName"] == "probeEcho" and job["params"] == {"marker": "b"}


@pytest.mark.parametrize("path", ["jobs/probeEcho", "jobs"])
def test_a_job_needs_the_master_key(path: str) -> None:
    response = ParseClient().post(path, {"jobName": "probeEcho", "marker": "x"})
    assert response.status_code == 403
    assert job_statuses() == []


@pytest.mark.parametrize(
    ("sanitize", "message"),
    [(True, "Permission denied"), (False, "read-only masterKey isn't allowed to run a job.")],
)
def test_the_read_only_master_key_cannot_start_a_job(
    settings: Any, sanitize: bool, message: str
) -> None:
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "READ_ONLY_MASTER_KEY": "read-only-key",
        "SANITIZE_PERMISSION_ERRORS": sanitize,
    }
    response = ParseClient().post(
        "jobs/probeEcho", {"marker": "x"}, headers={"X-Parse-Master-Key": "read-only-key"}
    )
    assert response.status_code == 400
    assert response.json_body == {"code": 119, "error": message}
    assert job_statuses() == []


@pytest.mark.parametrize("path", ["jobs/noSuchJob", "jobs"])
def test_an_unknown_job_is_141(path: str) -> None:
    response = ParseClient(master=True).post(path, {"jobName": "noSuchJob"})
    assert response.status_code == 400
    assert response.json_body == {"code": 141, "error": "Invalid job."}
    assert job_statuses() == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Validation failed. Please specify data for marker."),
        ({"marker": 3}, "Validation failed. Invalid type for marker. Expected: string"),
    ],
)
def test_params_that_fail_the_validator_are_142(params: dict[str, Any], reason: str) -> None:
    response = ParseClient(master=True).post("jobs/probeEcho", params)
    assert response.status_code == 400
    assert response.json_body == {"code": 142, "error": reason}
    assert job_statuses() == []


def test_params_must_be_an_object() -> None:
    response = ParseClient(master=True).post("jobs/probeEcho", ["not", "an", "object"])
    assert response.status_code == 400 and response.json_body["code"] == 107
    assert job_statuses() == []


def test_jobs_data_lists_the_registered_jobs() -> None:
    response = ParseClient(master=True).get("cloud_code/jobs/data")
    assert response.status_code == 200
    assert response.json_body == {
        "in_use": [],
        "jobs": ["probeEcho", "probeFlaky", "probeGate", "probeSlow", "probeStubborn"],
    }
    assert ParseClient().get("cloud_code/jobs/data").status_code == 403


def test_sdk_mode_jobs(cloud_modules: Any) -> None:
    registry.clear()
    cloud_modules("example_project.cloud_sdk")
    master = ParseClient(master=True)
    data = master.get("cloud_code/jobs/data").json_body
    assert data == {"in_use": [], "jobs": ["CloudJob1", "CloudJob2", "CloudJobFailing"]}

    first = master.post("jobs/CloudJob1", {"startedBy": "Monty Python"})
    assert finished(first["X-Parse-Job-Status-Id"])["params"] == {"startedBy": "Monty Python"}

    # The SDK reads the status right after starting: it must already say running.
    second = master.post("jobs/CloudJob2")["X-Parse-Job-Status-Id"]
    assert master.get(f"classes/_JobStatus/{second}").json_body["status"] == "running"
    assert finished(second)["status"] == "succeeded"

    failing = finished(master.post("jobs/CloudJobFailing")["X-Parse-Job-Status-Id"])
    assert failing["status"] == "failed"
    assert failing["message"] == "cloud job failed"
    assert failing["error"] == {"code": 141, "message": "cloud job failed"}


def test_conformance_job(cloud_modules: Any) -> None:
    registry.clear()
    cloud_modules("example_project.cloud_conformance")
    master = ParseClient(master=True)
    response = master.post("jobs/conformanceJob", {"marker": "conf-1"})
    assert response.status_code == 200 and response.json_body == {}
    job = finished(response["X-Parse-Job-Status-Id"])
    assert {k: job[k] for k in ("jobName", "source", "status", "message")} == {
        "jobName": "conformanceJob",
        "source": "api",
        "status": "succeeded",
        "message": "job done",
    }
    assert job["finishedAt"]["__type"] == "Date"
    runs = master.get("classes/CCJobRun").json_body["results"]
    assert [r["marker"] for r in runs] == ["conf-1"]


def test_an_eager_celery_app_runs_the_job_before_answering(settings: Any) -> None:
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "JOBS_RUNNER": "auto",
        "JOBS_CELERY_APP": "tests.projects.celery.app.eager_app",
    }
    response = ParseClient(master=True).post("jobs/probeEcho", {"marker": "eager"})
    status_id = response["X-Parse-Job-Status-Id"]
    job = ParseClient(master=True).get(f"classes/_JobStatus/{status_id}").json_body
    assert (job["status"], job["message"]) == ("succeeded", "echo eager")


def test_a_repeated_request_id_starts_the_job_once(settings: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "IDEMPOTENCY_PATHS": ["jobs/probeEcho"]}
    master = ParseClient(master=True)
    headers = {"X-Parse-Request-Id": "job-request-1"}
    first = master.post("jobs/probeEcho", {"marker": "once"}, headers=headers)
    assert first.status_code == 200, first.json_body
    again = master.post("jobs/probeEcho", {"marker": "once"}, headers=headers)
    assert again.json_body == {"code": 159, "error": "Duplicate request"}
    after_threads(first["X-Parse-Job-Status-Id"])
    assert len(job_statuses()) == 1
