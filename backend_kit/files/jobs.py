"""The clean-up as a cloud job (``FILES["CLEANUP_JOB"]``: the name to register it under)."""

from __future__ import annotations

from typing import Any

from . import cleanup
from . import settings as files_settings


def cleanup_job(request: Any) -> str:
    """Params: ``delete`` (default false: a dry run), ``grace`` (seconds)."""
    params = getattr(request, "params", None) or {}
    grace = int(params.get("grace", files_settings.get("CLEANUP_GRACE")))
    report = cleanup.run(grace, delete=bool(params.get("delete", False)))
    if params.get("delete"):
        return (
            f"{len(report.deleted)} orphan files deleted ({report.freed_bytes} bytes), "
            f"{len(report.kept)} kept, {len(report.failed)} failed"
        )
    return f"{len(report.orphans)} orphan files found (dry run)"


def register_cleanup_job() -> None:
    from django.apps import apps

    name = files_settings.get("CLEANUP_JOB")
    if not name or not apps.is_installed("backend_kit.cloud"):
        return
    from ..cloud import job

    job(str(name))(cleanup_job)
