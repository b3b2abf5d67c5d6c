"""Cloud code of the HA tests' servers and workers (``CLOUD_MODULES``)."""

from __future__ import annotations

import os
import time
from typing import Any

from backend_kit import cloud
from backend_kit.cloud import Object


@cloud.job("haWork")
def ha_work(request: Any) -> str:
    """Says which worker runs it (the pid of the worker's main process), works a
    while, then records that it finished. Safe to run again after a lost worker."""
    request.message(f"worker {os.getppid()}")
    time.sleep(float(request.params.get("seconds", 0.5)))
    Object("HAJobDone", {"marker": request.params["marker"], "jobId": request.job_id}).save(
        master=True
    )
    return "done"


@cloud.job("haTick")
def ha_tick(request: Any) -> str:
    """What the recurring schedule starts: proof that some beat scheduled it."""
    return f"tick on {os.getppid()}"
