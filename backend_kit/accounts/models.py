"""The link between Django users and Parse ``_User`` objects.

A Parse user is a Django user (``AUTH_USER_MODEL``: the admin, ``authenticate()``,
password hashers and validators all apply) plus a ``_User`` object in the objects
table holding its Parse fields and ACL. :class:`UserLink` ties the two; the
``_User`` objectId is the link's ``object_id``. Sessions and roles are ordinary
objects of ``_Session`` and ``_Role`` (session tokens stored only as hashes).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserLink(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="parse_link"
    )
    object_id = models.CharField("Parse objectId", max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Parse user"
        verbose_name_plural = "Parse users"

    def __str__(self) -> str:
        return f"{self.user} ({self.object_id})"


class AuthIdentity(models.Model):
    """One linked third-party identity (``authData.<provider>``) of a Parse user."""

    link = models.ForeignKey(UserLink, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=64)
    uid = models.CharField(max_length=255)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "linked identity"
        verbose_name_plural = "linked identities"
        constraints = [
            models.UniqueConstraint(fields=["provider", "uid"], name="bk_identity_provider_uid"),
            models.UniqueConstraint(fields=["link", "provider"], name="bk_identity_link_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.uid}"
