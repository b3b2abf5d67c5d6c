"""The audit trail, the level counters behind usage caps, and quota notices."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """An audit entry was about to be changed or deleted outside the retention clean-up."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are deleted only by the retention clean-up")


class AuditEntry(models.Model):
    """One recorded change: who, when, what, before and after, from where.

    Rows are only ever inserted. The model refuses updates and deletes; on PostgreSQL
    a trigger refuses them too (deletes pass only inside the retention clean-up).
    """

    class Origin(models.TextChoices):
        API = "api", "API (master key)"
        ADMIN = "admin", "admin"
        CLOUD = "cloud", "cloud code as master"
        JOB = "job", "job"
        COMMAND = "command", "command"
        SYSTEM = "system", "system"

    class Target(models.TextChoices):
        OBJECT = "object", "object"
        SCHEMA = "schema", "schema"
        CLP = "clp", "class-level permissions"
        CONFIG = "config", "config"
        MODEL = "model", "model (admin)"
        REQUEST = "request", "request"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, db_index=True)
    target = models.CharField(max_length=16, choices=Target.choices, db_index=True)
    action = models.CharField(max_length=16, db_index=True)  # create, update, delete, POST...
    class_name = models.CharField(max_length=200, blank=True, db_index=True)
    object_id = models.CharField(max_length=255, blank=True, db_index=True)
    master = models.BooleanField(default=False)
    user_id = models.CharField("Parse user", max_length=64, blank=True, db_index=True)
    username = models.CharField(max_length=255, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    installation_id = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=255, blank=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changes = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["class_name", "object_id", "at"], name="bk_audit_target")]

    def __str__(self) -> str:
        what = "/".join(filter(None, [self.class_name, self.object_id])) or self.path
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.origin} {self.action} {what}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are deleted only by the retention clean-up")


class UsageLevel(models.Model):
    """A share of a level (objects stored, file bytes stored), kept by database triggers.

    The level is the sum of a metric's rows. Each PostgreSQL connection adds to its own
    stripe, so concurrent writers never wait on one hot row.
    """

    metric = models.CharField(max_length=32)
    stripe = models.SmallIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "usage level"
        constraints = [
            models.UniqueConstraint(fields=["metric", "stripe"], name="bk_usage_level_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.metric}[{self.stripe}] = {self.value}"


class QuotaNotice(models.Model):
    """A quota's warning threshold or hard cap was reached (once per period)."""

    class Kind(models.TextChoices):
        WARNING = "warning", "warning threshold reached"
        CAP = "cap", "hard cap reached"

    metric = models.CharField(max_length=32)
    period = models.CharField(max_length=8)  # day, month, max
    period_key = models.CharField(max_length=16)  # 20260501, 202605, or the day of a level
    kind = models.CharField(max_length=8, choices=Kind.choices)
    used = models.BigIntegerField()
    limit = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "quota notice"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "period", "period_key", "kind"], name="bk_quota_notice_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period} {self.period_key}: {self.get_kind_display()}"


class UsageReport(models.Model):
    """No table: the admin's "Usage" page (current usage against the quotas)."""

    class Meta:
        managed = False
        verbose_name = "usage"
        verbose_name_plural = "usage"
        default_permissions = ("view",)

    def __str__(self) -> str:
        return "usage"
