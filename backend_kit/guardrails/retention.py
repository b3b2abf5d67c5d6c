"""The audit trail's retention clean-up: the only way entries are ever deleted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from . import app_settings
from .models import AuditEntry

BATCH = 5000


def cutoff(days: int | None = None, *, now: datetime | None = None) -> datetime | None:
    days = app_settings.get("AUDIT_RETENTION_DAYS") if days is None else days
    if days is None:
        return None
    return (now or timezone.now()) - timedelta(days=int(days))


def expired(days: int | None = None) -> Any:
    before = cutoff(days)
    if before is None:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(at__lt=before)


def clean_up(days: int | None = None, *, dry_run: bool = False) -> int:
    """Delete entries older than the retention (in batches); returns how many."""
    queryset = expired(days)
    if dry_run:
        return queryset.count()
    alias = router.db_for_write(AuditEntry) or "default"
    conn = connections[alias]
    table = conn.ops.quote_name(AuditEntry._meta.db_table)
    total = 0
    while True:
        ids = list(queryset.order_by("id").values_list("id", flat=True)[:BATCH])
        if not ids:
            return total
        with transaction.atomic(using=alias), conn.cursor() as cursor:
            if conn.vendor == "postgresql":
                # the append-only trigger lets deletes through only with this set
                cursor.execute("SET LOCAL backend_kit.audit_cleanup = 'on'")
            marks = ",".join(["%s"] * len(ids))
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)
            total += cursor.rowcount


def cleanup_job(request: Any) -> str:
    """The clean-up as a cloud job; params: ``days`` (default: the setting), ``dry_run``."""
    params = getattr(request, "params", None) or {}
    days = params.get("days")
    count = clean_up(int(days) if days is not None else None, dry_run=bool(params.get("dry_run")))
    verb = "would delete" if params.get("dry_run") else "deleted"
    return f"{verb} {count} audit entries"


def register_cleanup_job() -> None:
    from django.apps import apps

    name = app_settings.get("AUDIT_CLEANUP_JOB")
    if not name or not apps.is_installed("backend_kit.cloud"):
        return
    from ..cloud import job

    job(str(name))(cleanup_job)
