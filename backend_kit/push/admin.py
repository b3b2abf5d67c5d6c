"""Admin for push: installations, push statuses, and a page to send a push.

Installations and statuses are objects of ``_Installation`` / ``_PushStatus``, listed
through proxy models of the objects table; deletes go through the write path (so
device records follow). "Send a push" validates exactly like ``POST /push`` and
previews the audience (how many installations of each type) before sending.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import ParseError
from ..objects import writes
from ..objects.admin import where_subquery
from ..objects.models import ParseObject
from . import devices, service
from .devices import device_of
from .forms import SendPushForm
from .models import InstallationObject, PushBatch, PushStatusObject


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def _pretty(value: Any) -> str:
    return format_html(
        "<pre style='white-space:pre-wrap'>{}</pre>",
        orjson.dumps(value, option=orjson.OPT_INDENT_2).decode(),
    )


def _visible(data: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (data or {}).items() if not k.startswith("_")}


class DeviceTypeFilter(admin.SimpleListFilter):
    title = "device type"
    parameter_name = "device_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        kinds = (
            InstallationObject.objects.filter(class_name="_Installation")
            .values_list("data__deviceType", flat=True)
            .distinct()
        )
        return [(str(k), str(k)) for k in sorted({k for k in kinds if k})]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(data__deviceType=self.value())
        return queryset


class TokenFilter(admin.SimpleListFilter):
    title = "device token"
    parameter_name = "token"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "has a token"), ("no", "no token (never set, or pruned)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(data__has_key="deviceToken")
        if self.value() == "no":
            return queryset.exclude(data__has_key="deviceToken")
        return queryset


@admin.register(InstallationObject)
class InstallationAdmin(admin.ModelAdmin):
    list_display = (
        "object_id",
        "installation_id",
        "device_type",
        "channels",
        "badge",
        "token",
        "device_record",
        "updated_at",
    )
    list_filter = (DeviceTypeFilter, TokenFilter)
    search_fields = ("object_id",)
    readonly_fields = (
        "object_id",
        "created_at",
        "updated_at",
        "fields_view",
        "device_view",
        "sessions",
    )
    fields = readonly_fields
    actions = ["resync_devices"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(class_name="_Installation")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, term: str) -> Any:
        if not term:
            return queryset, False
        # a channel is matched by the Parse query compiler (array containment differs
        # between PostgreSQL and SQLite)
        in_channel = where_subquery("_Installation", {"channels": term})
        return (
            queryset.filter(
                Q(object_id=term)
                | Q(data__installationId=term.lower())
                | Q(data__deviceToken=term)
                | Q(pk__in=in_channel)
            ),
            False,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # devices register themselves through /installations

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="installationId")
    def installation_id(self, obj: ParseObject) -> str:
        return (obj.data or {}).get("installationId", "")

    @admin.display(description="type")
    def device_type(self, obj: ParseObject) -> str:
        return (obj.data or {}).get("deviceType", "")

    @admin.display(description="channels")
    def channels(self, obj: ParseObject) -> str:
        value = (obj.data or {}).get("channels")
        return ", ".join(map(str, value)) if isinstance(value, list) else ""

    @admin.display(description="badge")
    def badge(self, obj: ParseObject) -> Any:
        return (obj.data or {}).get("badge", "")

    @admin.display(description="token")
    def token(self, obj: ParseObject) -> str:
        token = (obj.data or {}).get("deviceToken")
        if not isinstance(token, str):
            return "pruned" if (obj.data or {}).get("_prunedToken") else "-"
        return token if len(token) <= 24 else token[:20] + "…"

    @admin.display(description="device record")
    def device_record(self, obj: ParseObject) -> str:
        device = device_of(obj.object_id)
        if device is None:
            return "-"
        label = f"{device._meta.verbose_name} #{device.pk}"
        return label if device.active else f"{label} (inactive)"

    @admin.display(description="fields")
    def fields_view(self, obj: ParseObject) -> str:
        return _pretty({"fields": _visible(obj.data), "ACL": obj.acl})

    @admin.display(description="django-push-notifications record")
    def device_view(self, obj: ParseObject) -> str:
        device = device_of(obj.object_id)
        if device is None:
            return "-"
        url = reverse(
            f"admin:{device._meta.app_label}_{device._meta.model_name}_change", args=[device.pk]
        )
        state = "active" if device.active else "inactive"
        return format_html(
            '<a href="{}">{} #{}</a> ({})', url, device._meta.verbose_name, device.pk, state
        )

    @admin.display(description="sessions on this installation")
    def sessions(self, obj: ParseObject) -> str:
        installation_id = (obj.data or {}).get("installationId")
        if not installation_id:
            return "-"
        rows = ParseObject.objects.filter(
            class_name="_Session", data__installationId=installation_id
        ).order_by("-created_at")[:50]
        return (
            format_html_join(
                "\n",
                "<div>{} — user {}</div>",
                (
                    (s.object_id, ((s.data or {}).get("user") or {}).get("objectId", ""))
                    for s in rows
                ),
            )
            or "-"
        )

    @admin.action(description="Re-sync the device records of the selected installations")
    def resync_devices(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows = [(obj.object_id, obj.data) for obj in queryset]
        devices.sync_rows(rows)
        self.message_user(request, f"Synced {len(rows)} installation(s).")

    def delete_model(self, request: HttpRequest, obj: ParseObject) -> None:
        writes.delete(_master(), "_Installation", obj.object_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in list(queryset):
                writes.delete(_master(), "_Installation", obj.object_id)


@admin.register(PushStatusObject)
class PushStatusAdmin(admin.ModelAdmin):
    change_list_template = "backend_kit_push/admin/pushstatus_change_list.html"
    list_display = (
        "object_id",
        "status",
        "push_time",
        "source",
        "audience",
        "num_sent",
        "num_failed",
        "created_at",
    )
    search_fields = ("object_id",)
    readonly_fields = ("object_id", "created_at", "updated_at", "summary", "batches")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(class_name="_PushStatus")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # pushes are sent from the "Send a push" page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _d(self, obj: ParseObject) -> dict[str, Any]:
        return obj.data or {}

    @admin.display(description="status")
    def status(self, obj: ParseObject) -> str:
        return self._d(obj).get("status", "")

    @admin.display(description="push time")
    def push_time(self, obj: ParseObject) -> str:
        return self._d(obj).get("pushTime", "")

    @admin.display(description="source")
    def source(self, obj: ParseObject) -> str:
        return self._d(obj).get("source", "")

    @admin.display(description="audience")
    def audience(self, obj: ParseObject) -> str:
        query = str(self._d(obj).get("query", ""))
        return query if len(query) <= 60 else query[:57] + "…"

    @admin.display(description="sent")
    def num_sent(self, obj: ParseObject) -> Any:
        return self._d(obj).get("numSent", 0)

    @admin.display(description="failed")
    def num_failed(self, obj: ParseObject) -> Any:
        return self._d(obj).get("numFailed", 0)

    @admin.display(description="push")
    def summary(self, obj: ParseObject) -> str:
        data = _visible(obj.data)
        for key in ("query", "payload"):
            try:
                data[key] = orjson.loads(data[key])
            except (KeyError, orjson.JSONDecodeError, TypeError):
                pass
        return _pretty(data)

    @admin.display(description="batches")
    def batches(self, obj: ParseObject) -> str:
        rows = PushBatch.objects.filter(status_id=obj.object_id).order_by("seq")[:200]
        return (
            format_html_join(
                "\n",
                "<div>#{} {} — sent {}, failed {}, attempts {} {}</div>",
                ((b.seq, b.state, b.sent, b.failed, b.attempts, b.error) for b in rows),
            )
            or "-"
        )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.send_view)
        return [path("send/", view, name="backend_kit_push_send"), *super().get_urls()]

    def send_view(self, request: HttpRequest) -> HttpResponse:
        """Preview the audience of a push, then send it."""
        if not request.user.has_perm("backend_kit_push.add_pushstatusobject"):
            raise PermissionDenied
        form = SendPushForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            body = form.body()
            try:
                if "_send" in request.POST:
                    status_id = service.send(
                        body, source="admin", title=form.cleaned_data.get("campaign") or None
                    )
                    self.message_user(request, f"Push started: _PushStatus {status_id}.")
                    return HttpResponseRedirect(
                        reverse("admin:backend_kit_push_pushstatusobject_change", args=[status_id])
                    )
                _, types = service.prepare(body)
                preview = {"total": sum(types.values()), "types": sorted(types.items())}
            except ParseError as exc:
                form.add_error(None, f"{exc.message} (code {exc.code})")
                messages.error(request, exc.message)
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a push",
            "form": form,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "backend_kit_push/admin/send_push.html", context)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # the change page is addressed by the push's objectId (what the API shows)
        queryset = self.get_queryset(request)
        return queryset.filter(object_id=object_id).first() or super().get_object(
            request, object_id, from_field
        )
