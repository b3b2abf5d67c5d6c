"""Admin: the audit trail (read-only, filterable, exportable), quota notices, usage."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from . import quotas
from .export import COLUMNS, lines
from .models import AuditEntry, QuotaNotice, UsageReport

PRETTY_COLUMNS = ("before", "after", "changes")  # JSON, shown indented (``*_pretty``)


def _pretty(value: Any) -> str:
    if value is None:
        return "-"
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _export(fmt: str, content_type: str) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: Any) -> StreamingHttpResponse:
        entries = queryset.order_by("at", "id").iterator(chunk_size=2000)
        response = StreamingHttpResponse(lines(entries, fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="audit-trail.{fmt}"'
        return response

    action.__name__ = f"export_{fmt}"
    return action


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "origin", "target", "action", "class_name", "object_id", "who", "ip")
    list_filter = ("origin", "target", "action", "master", "at")
    search_fields = ("class_name", "object_id", "user_id", "username", "ip", "path", "request_id")
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False
    actions = [
        admin.action(description="Export selected entries as JSON Lines")(
            _export("jsonl", "application/x-ndjson")
        ),
        admin.action(description="Export selected entries as CSV")(_export("csv", "text/csv")),
    ]
    # the export's columns, in its order
    fields = tuple(
        f"{name}_pretty" if name in PRETTY_COLUMNS else name for name in COLUMNS if name != "id"
    )
    readonly_fields = fields

    @admin.display(description="who")
    def who(self, entry: AuditEntry) -> str:
        return entry.username or entry.user_id or ("master key" if entry.master else "-")

    @admin.display(description="before")
    def before_pretty(self, entry: AuditEntry) -> str:
        return _pretty(entry.before)

    @admin.display(description="after")
    def after_pretty(self, entry: AuditEntry) -> str:
        return _pretty(entry.after)

    @admin.display(description="request body / operations")
    def changes_pretty(self, entry: AuditEntry) -> str:
        return _pretty(entry.changes)


@admin.register(QuotaNotice)
class QuotaNoticeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "metric", "period", "period_key", "kind", "used", "limit")
    list_filter = ("kind", "metric", "period")


@admin.register(UsageReport)
class UsageAdmin(ReadOnlyAdmin):
    """One page: usage today, this month and now, against the caps."""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> TemplateResponse:
        rows = []
        for row in quotas.report():
            caps = row.caps or {}
            cells = []
            for name, used in (("day", row.day), ("month", row.month), ("max", row.level)):
                if (name == "max") != (row.kind == "level"):
                    continue
                cap = caps.get(name)
                share = f"{100 * used / cap:.0f}%" if cap and used is not None else ""
                cells.append(
                    {
                        "period": "now" if name == "max" else name,
                        "used": used,
                        "cap": cap,
                        "share": share,
                    }
                )
            rows.append(
                {"metric": row.metric, "kind": row.kind, "cells": cells, "state": row.state()}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage and quotas",
            "opts": self.model._meta,
            "rows": rows,
            "notices": QuotaNotice.objects.all()[:20],
            "warning_share": int(quotas.warning_share() * 100),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/backend_kit_guardrails/usage.html", context)
