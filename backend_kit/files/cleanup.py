"""Deleting files no object references, once they are older than a grace period.

A file is an orphan when it was created more than ``grace`` seconds ago and no object
(nor a config parameter) references it; an unfinished direct upload is one once its
upload request expired more than ``grace`` seconds ago. Before each batch is
deleted, the references are looked up again, so an object saved during the scan keeps
its file. Files in the storage without a record are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from . import references, service
from .models import StoredFile

# (description, total or None, unit) -> a progress bar (tqdm in the command).
ProgressFactory = Callable[[str, "int | None", str], Any]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(desc: str, total: int | None, unit: str) -> Any:
    return _NoProgress()


@dataclass
class Report:
    orphans: list[StoredFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # referenced again by the time of deletion
    failed: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        deleted = set(self.deleted)
        return sum(f.size or 0 for f in self.orphans if f.name in deleted)


def find_orphans(
    grace: int, *, now: datetime | None = None, progress: ProgressFactory = no_progress
) -> list[StoredFile]:
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    bar = progress("scanning objects", None, "objects")
    try:
        referenced = references.referenced_names(progress=bar.update)
    finally:
        bar.close()
    ready = StoredFile.objects.filter(status=StoredFile.Status.READY, created_at__lt=cutoff)
    pending = StoredFile.objects.filter(
        status=StoredFile.Status.PENDING, upload_expires_at__lt=cutoff
    )
    orphans = [f for f in ready.order_by("created_at").iterator() if f.name not in referenced]
    return orphans + list(pending.order_by("created_at"))


def run(
    grace: int,
    *,
    delete: bool = False,
    now: datetime | None = None,
    progress: ProgressFactory = no_progress,
) -> Report:
    """Find orphans; with ``delete`` remove them (a dry run otherwise)."""
    report = Report(orphans=find_orphans(grace, now=now, progress=progress))
    if not delete or not report.orphans:
        return report
    bar = progress("deleting files", len(report.orphans), "files")
    try:
        for start in range(0, len(report.orphans), references.BATCH):
            batch = report.orphans[start : start + references.BATCH]
            still = references.referencing(f.name for f in batch)
            for record in batch:
                if still.get(record.name):
                    report.kept.append(record.name)
                else:
                    try:
                        service.remove(record, record.name)
                        report.deleted.append(record.name)
                    except Exception:
                        report.failed.append(record.name)
                bar.update(1)
    finally:
        bar.close()
    return report
