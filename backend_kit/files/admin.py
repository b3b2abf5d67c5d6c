"""Admin for files: size, type, owner, references, a preview link; deleting removes the bytes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from . import references, service
from .models import StoredFile


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


def _object_link(pk: int, class_name: str, object_id: str) -> str:
    if pk:
        try:
            url = reverse("admin:backend_kit_objects_parseobject_change", args=[pk])
            return format_html('<a href="{}">{}/{}</a>', url, class_name, object_id)
        except NoReverseMatch:
            pass
    return format_html("{}/{}", class_name, object_id)


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "size_display",
        "content_type",
        "owner_id",
        "private",
        "status",
        "reference_count",
        "preview_link",
        "created_at",
    )
    list_filter = ("private", "status", "content_type", "storage_alias")
    search_fields = ("name", "original_name", "owner_id", "content_type")
    date_hierarchy = "created_at"
    actions = ["delete_with_bytes"]
    readonly_fields = (
        "name",
        "original_name",
        "content_type",
        "size_display",
        "checksum",
        "private",
        "owner_id",
        "metadata",
        "tags",
        "storage_alias",
        "status",
        "upload_expires_at",
        "created_at",
        "referenced_by",
        "preview",
    )
    fields = readonly_fields

    # Files are created by uploads and never edited: names and bytes are immutable.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # the stock bulk delete would leave the bytes behind in the storage
        actions.pop("delete_selected", None)
        return actions

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)  # the page, evaluated once and kept
        found = references.referencing(r.name for r in rows)
        for row in rows:
            row._bk_references = found.get(row.name, [])
        return changelist

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: StoredFile) -> str:
        return human_size(obj.size)

    @admin.display(description="references")
    def reference_count(self, obj: StoredFile) -> int:
        found = getattr(obj, "_bk_references", None)
        if found is None:
            found = references.referencing([obj.name])[obj.name]
        return len(found)

    @admin.display(description="referenced by")
    def referenced_by(self, obj: StoredFile) -> str:
        found = references.referencing([obj.name])[obj.name]
        if not found:
            return "no object (an orphan: bk_files_cleanup will delete it after the grace period)"
        return format_html_join(", ", "{}", ((_object_link(*ref),) for ref in found))

    @admin.display(description="preview")
    def preview_link(self, obj: StoredFile) -> str:
        if obj.status != StoredFile.Status.READY:
            return "—"
        url = service.describe_saved(obj)["url"]
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', url)

    @admin.display(description="preview")
    def preview(self, obj: StoredFile) -> str:
        if obj.status != StoredFile.Status.READY:
            return "not uploaded yet"
        url = service.describe_saved(obj)["url"]
        if obj.content_type.startswith("image/") and obj.content_type != "image/svg+xml":
            return format_html(
                '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" '
                'style="max-width:320px;max-height:240px"></a>',
                url,
                url,
            )
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def delete_model(self, request: HttpRequest, obj: StoredFile) -> None:
        service.remove(obj, obj.name)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> None:
        for obj in queryset:
            service.remove(obj, obj.name)

    @admin.action(description="Delete selected files (and their bytes)", permissions=["delete"])
    def delete_with_bytes(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> None:
        count = 0
        for obj in queryset:
            service.remove(obj, obj.name)
            count += 1
        self.message_user(request, f"{count} files deleted.", messages.SUCCESS)
