"""One row per stored file: what the storage does not know (owner, visibility, rules).

The stored ``name`` is what clients hold (``<32 hex>_<sanitized name>``) and is never
reused, so a file's bytes never change under a URL and a CDN can cache forever.
"""

from __future__ import annotations

from django.db import models


class StoredFile(models.Model):
    class Status(models.TextChoices):
        READY = "ready", "ready"
        # A presigned direct upload was handed out; the bytes may not be there yet.
        PENDING = "pending", "pending upload"

    name = models.CharField(max_length=255, unique=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    # "sha256:<hex>" for uploads through the app, "etag:<etag>" for direct uploads.
    checksum = models.CharField(max_length=100, blank=True)
    private = models.BooleanField(default=False)
    # The uploader's Parse user objectId (empty for the public and the master key).
    owner_id = models.CharField(max_length=64, blank=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # The STORAGES alias written to, so a changed setting does not lose older files.
    storage_alias = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "file"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
