"""Jobs the tests run, in-process and on real Celery workers (a cloud module).

They talk to the test through files (``params.log``, ``params.gate``) rather than
the database, so a test can follow a job on another process without racing it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from backend_kit import cloud
from backend_kit.cloud import Object
from backend_kit.context import RequestContext
from backend_kit.errors import Code, ParseError
from backend_kit.objects import writes


def _log_run(request: Any) -> None:
    if request.params.get("log"):
        with open(request.params["log"], "a") as log:
            log.write(f"{request.job_id} attempt={request.attempt}\n")


def _wait_for_gate(request: Any) -> None:
    gate = request.params.get("gate")
    while gate and not Path(gate).exists():
        time.sleep(0.05)


@cloud.job("probeEcho", validator={"fields": {"marker": {"type": str, "required": True}}})
def probe_echo(request: Any) -> str:
    request.message("working")
    Object("JobProbe", {"marker": request.params["marker"], "jobId": request.job_id}).save(
        master=True
    )
    return f"echo {request.params['marker']}"


@cloud.job("probeGate")
def probe_gate(request: Any) -> str:
    """Writes its side effect once per status (safe to rerun), then waits for the gate."""
    try:
        writes.create(
            RequestContext.master(),
            "JobSideEffect",
            {"jobId": request.job_id},
            object_id=request.job_id,
        )
    except ParseError as exc:
        if exc.code != Code.DUPLICATE_VALUE:
            raise
    request.message("waiting at the gate")
    _log_run(request)
    _wait_for_gate(request)
    return "through the gate"


@cloud.job("probeFlaky", retries=2, retry_backoff=1)
def probe_flaky(request: Any) -> str:
    Object("JobAttempt", {"jobId": request.job_id, "attempt": request.attempt}).save(master=True)
    if request.attempt < int(request.params.get("fail_times", 2)):
        raise cloud.CloudError(f"flaky failure {request.attempt + 1}")
    return "succeeded after retries"


@cloud.job("probeSlow", time_limit=1)
def probe_slow(request: Any) -> str:
    _log_run(request)
    while True:
        time.sleep(0.05)


@cloud.job("probeStubborn", time_limit=1)
def probe_stubborn(request: Any) -> str:
    """Swallows the soft time limit: only killing its process stops it."""
    _log_run(request)
    while True:
        try:
            time.sleep(0.05)
        except BaseException:  # swallowing it is the point of this job
            pass
