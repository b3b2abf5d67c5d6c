"""Recurring jobs: django-celery-beat periodic tasks that start a cloud job.

A recurring job is a ``PeriodicTask`` whose task is :data:`SCHEDULE_TASK` and whose
kwargs name the job and its params. ``celery beat`` with the DatabaseScheduler
reads them from the database, so edits in the admin take effect without a restart.
This proxy model gives them their own admin page.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django_celery_beat.models import PeriodicTask

from . import SCHEDULE_TASK


class RecurringJobManager(models.Manager["RecurringJob"]):
    def get_queryset(self) -> models.QuerySet[RecurringJob]:
        return super().get_queryset().filter(task=SCHEDULE_TASK)


class RecurringJob(PeriodicTask):
    objects = RecurringJobManager()

    class Meta:
        proxy = True
        verbose_name = "recurring job"
        verbose_name_plural = "recurring jobs"

    def _kwargs(self) -> dict[str, Any]:
        try:
            value = json.loads(self.kwargs or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def job_name(self) -> str:
        return str(self._kwargs().get("job", ""))

    @property
    def params(self) -> dict[str, Any]:
        params = self._kwargs().get("params")
        return params if isinstance(params, dict) else {}

    def set_job(self, job_name: str, params: dict[str, Any]) -> None:
        """Point this periodic task at a cloud job (takes effect on save)."""
        self.task = SCHEDULE_TASK
        self.args = "[]"
        self.kwargs = json.dumps({"job": job_name, "params": params})


def jobs_in_use() -> list[str]:
    """Names of the jobs that enabled recurring jobs start (``in_use`` in Parse terms)."""
    names = {job.job_name for job in RecurringJob.objects.filter(enabled=True)}
    return sorted(name for name in names if name)
