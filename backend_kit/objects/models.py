"""Storage of Parse classes in the host project's database.

One table holds the documents of every class. Field values are kept in ``data``
(JSON/JSONB) in the normalised wire encoding; the ACL is kept twice: as written
(``acl``) and as two principal sets (``read_principals``, ``write_principals``:
``{"*": true, "<userId>": true, "role:Admins": true}``) so that access is a plain
``has_any_keys`` test inside the SQL ``WHERE`` on every backend.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ClassSchema(models.Model):
    class_name = models.CharField(max_length=128, unique=True)
    fields = models.JSONField(default=dict, blank=True)
    class_level_permissions = models.JSONField(default=dict, blank=True)
    indexes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "class schema"
        ordering = ["class_name"]

    def __str__(self) -> str:
        return self.class_name


class ParseObjectQuerySet(models.QuerySet["ParseObject"]):
    def row(self, class_name: str, object_id: str, *, for_update: bool = False) -> Any:
        """The row of one object, or None; ``for_update`` locks it until the transaction ends.

        For the server's own rows (job and push statuses) that bypass the API: no ACL,
        no trigger, no schema.
        """
        rows = self.filter(class_name=class_name, object_id=object_id)
        return (rows.select_for_update() if for_update else rows).first()


class ParseObject(models.Model):
    class_name = models.CharField(max_length=128)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    acl = models.JSONField(null=True, blank=True)
    read_principals = models.JSONField(default=dict, blank=True)
    write_principals = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ParseObjectQuerySet.as_manager()

    class Meta:
        verbose_name = "object"
        constraints = [
            models.UniqueConstraint(
                fields=["class_name", "object_id"], name="bk_object_class_id_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["class_name", "created_at"], name="bk_object_class_created"),
            models.Index(fields=["class_name", "updated_at"], name="bk_object_class_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.class_name}/{self.object_id}"


class RelationEntry(models.Model):
    """One member of a Relation field: ``owner.key`` contains ``related``."""

    owner_class = models.CharField(max_length=128)
    owner_id = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    related_class = models.CharField(max_length=128)
    related_id = models.CharField(max_length=64)

    class Meta:
        verbose_name = "relation entry"
        verbose_name_plural = "relation entries"
        constraints = [
            models.UniqueConstraint(
                fields=["owner_class", "key", "owner_id", "related_id"], name="bk_relation_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["owner_class", "key", "related_id"], name="bk_relation_related"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_class}/{self.owner_id}.{self.key} -> {self.related_class}/{self.related_id}"


class GlobalConfig(models.Model):
    """Parse Config (``/config``): one row per parameter."""

    name = models.CharField(max_length=255, unique=True)
    value = models.JSONField(null=True, blank=True)
    master_key_only = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "config parameter"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
