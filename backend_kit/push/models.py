"""The push app's own tables: the installation -> device record links, and the
batches a push is cut into.

Installations and push statuses are Parse objects (``_Installation``,
``_PushStatus`` in the objects table); device records are django-push-notifications'
models. :class:`InstallationDevice` ties the two together so a token change moves
the same device record. :class:`PushBatch` is one slice of a push's audience (an
objectId range): its state makes a batch count once even when Celery delivers its
task twice, and it remembers which devices still wait for a retry.
"""

from __future__ import annotations

from django.db import models
from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice

from ..objects.models import ParseObject


class InstallationDevice(models.Model):
    """The django-push-notifications device record of one installation."""

    installation = models.CharField(
        max_length=64, unique=True, help_text="objectId of the _Installation"
    )
    apns = models.OneToOneField(
        APNSDevice, null=True, blank=True, on_delete=models.CASCADE, related_name="bk_installation"
    )
    fcm = models.OneToOneField(
        GCMDevice, null=True, blank=True, on_delete=models.CASCADE, related_name="bk_installation"
    )
    webpush = models.OneToOneField(
        WebPushDevice,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="bk_installation",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "installation device"

    def __str__(self) -> str:
        return f"{self.installation} -> {self.kind or 'none'}"

    @property
    def kind(self) -> str | None:
        for kind in ("apns", "fcm", "webpush"):
            if getattr(self, f"{kind}_id"):
                return kind
        return None

    @property
    def device(self) -> APNSDevice | GCMDevice | WebPushDevice | None:
        kind = self.kind
        return getattr(self, kind) if kind else None


class PushBatch(models.Model):
    """Installations ``after < objectId <= upto`` of one push (``upto`` empty: no end)."""

    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATES = [(PENDING, "pending"), (DONE, "done"), (FAILED, "failed")]

    status_id = models.CharField(max_length=64, help_text="objectId of the _PushStatus")
    seq = models.PositiveIntegerField()
    after = models.CharField(max_length=64, blank=True)
    upto = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=8, choices=STATES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # objectIds still to send after a passing failure (None: the whole range)
    retry_ids = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "push batch"
        verbose_name_plural = "push batches"
        ordering = ["status_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["status_id", "seq"], name="bk_push_batch_uniq"),
        ]
        indexes = [models.Index(fields=["status_id", "state"], name="bk_push_batch_state")]

    def __str__(self) -> str:
        return f"{self.status_id} #{self.seq} ({self.state})"


class InstallationObject(ParseObject):
    """``_Installation`` objects, for the admin."""

    class Meta:
        proxy = True
        verbose_name = "installation"
        verbose_name_plural = "installations"


class PushStatusObject(ParseObject):
    """``_PushStatus`` objects, for the admin (and its send-a-push page)."""

    class Meta:
        proxy = True
        verbose_name = "push status"
        verbose_name_plural = "push statuses"
