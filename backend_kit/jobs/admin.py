"""Admin for recurring jobs: create and edit schedules, run one now.

Each run, scheduled or not, leaves a ``_JobStatus`` object (browse it under the
objects admin, class ``_JobStatus``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ..errors import ParseError
from .dispatch import start_job
from .forms import RecurringJobForm
from .models import RecurringJob


@admin.register(RecurringJob)
class RecurringJobAdmin(admin.ModelAdmin):
    form = RecurringJobForm
    list_display = ("name", "job_name", "schedule", "enabled", "last_run_at", "total_run_count")
    list_filter = ("enabled",)
    search_fields = ("name", "kwargs", "description")
    readonly_fields = ("last_run_at", "total_run_count")
    fieldsets = (
        (None, {"fields": ("name", "job", "params", "enabled", "description")}),
        ("Schedule", {"fields": ("schedule_type", ("every", "period"), "cron")}),
        ("Runs", {"fields": ("last_run_at", "total_run_count")}),
    )
    actions = ["run_now", "enable", "disable"]

    @admin.display(description="job")
    def job_name(self, obj: RecurringJob) -> str:
        return obj.job_name

    @admin.display(description="schedule")
    def schedule(self, obj: RecurringJob) -> str:
        return str(obj.interval or obj.crontab or obj.solar or obj.clocked or "-")

    @admin.action(description="Run the selected jobs now")
    def run_now(self, request: HttpRequest, queryset: QuerySet[RecurringJob]) -> None:
        for job in queryset:
            try:
                status_id = start_job(job.job_name, job.params, source="admin")
            except ParseError as exc:
                self.message_user(request, f"{job.name}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{job.name}: started, _JobStatus {status_id}.")

    @admin.action(description="Enable the selected recurring jobs")
    def enable(self, request: HttpRequest, queryset: QuerySet[RecurringJob]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected recurring jobs")
    def disable(self, request: HttpRequest, queryset: QuerySet[RecurringJob]) -> None:
        self._set_enabled(request, queryset, False)

    def _set_enabled(self, request: HttpRequest, queryset: Any, enabled: bool) -> None:
        # save() per row, not update(): beat notices changes through PeriodicTask.save.
        for job in queryset:
            job.enabled = enabled
            job.save()
        self.message_user(request, f"{queryset.count()} recurring job(s) updated.")
