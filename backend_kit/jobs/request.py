"""The request a job receives: a cloud request with the job's identity and ``message()``."""

from __future__ import annotations

from dataclasses import dataclass

from ..cloud.request import CloudRequest


@dataclass
class JobRequest(CloudRequest):
    """What ``@cloud.job`` handlers get; always acting with the master key.

    ``job_id`` is the ``_JobStatus`` objectId: the same on every rerun and retry of
    this run, so a job can key its writes on it to stay safe to run twice.
    """

    job_name: str = ""
    job_id: str = ""
    source: str = "api"
    attempt: int = 0

    def message(self, text: str) -> None:
        """Show progress on the job's status (its ``message`` field)."""
        if not self.job_id or not isinstance(text, str):
            return
        from . import status

        status.set_message(self.job_id, text)
