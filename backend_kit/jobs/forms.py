"""The admin form of a recurring job: which job, its params, and when it runs.

The schedule is typed in directly (every N minutes, or a crontab line) rather than
picked from django-celery-beat's schedule rows; the form finds or creates the row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django_celery_beat.models import PERIOD_CHOICES, CrontabSchedule, IntervalSchedule

from ..cloud.registry import registry
from ..errors import ParseError
from .dispatch import job_entry, validate_params
from .models import RecurringJob

INTERVAL, CRONTAB = "interval", "crontab"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
# Sub-second periods make no sense for jobs.
PERIODS = [(value, label) for value, label in PERIOD_CHOICES if value != "microseconds"]


def _job_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(registry.jobs)]


def _cron_line(crontab: CrontabSchedule) -> str:
    return " ".join(str(getattr(crontab, field)) for field in CRON_FIELDS)


class RecurringJobForm(forms.ModelForm):
    job = forms.ChoiceField(choices=_job_choices, help_text="A job registered with @cloud.job.")
    params = forms.JSONField(
        initial=dict,
        required=False,
        help_text='A JSON object passed to the job as request.params, e.g. {"days": 7}.',
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
    schedule_type = forms.ChoiceField(
        choices=[(INTERVAL, "Every …"), (CRONTAB, "Crontab")],
        initial=INTERVAL,
        widget=forms.RadioSelect,
    )
    every = forms.IntegerField(min_value=1, required=False)
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="minutes")
    cron = forms.CharField(
        required=False,
        label="Crontab",
        help_text="minute hour day-of-month month day-of-week, e.g. '30 3 * * 1-5'.",
    )

    class Meta:
        model = RecurringJob
        fields = ("name", "enabled", "description")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        job: RecurringJob = self.instance
        if job.pk:
            self.initial.setdefault("job", job.job_name)
            self.initial.setdefault("params", job.params)
            if job.crontab_id:
                self.initial.setdefault("schedule_type", CRONTAB)
                self.initial.setdefault("cron", _cron_line(job.crontab))
            elif job.interval_id:
                self.initial.setdefault("every", job.interval.every)
                self.initial.setdefault("period", job.interval.period)

    def clean_params(self) -> dict[str, Any]:
        params = self.cleaned_data.get("params")
        if params in (None, ""):
            return {}
        if not isinstance(params, dict):
            raise forms.ValidationError("Params must be a JSON object.")
        return params

    def clean_cron(self) -> str:
        line = " ".join((self.cleaned_data.get("cron") or "").split())
        if line and len(line.split(" ")) != len(CRON_FIELDS):
            raise forms.ValidationError("A crontab line has five fields.")
        return line

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "job" in data and "params" in data:
            try:
                data["params"] = validate_params(job_entry(data["job"]), data["params"])
            except ParseError as exc:
                self.add_error("params", exc.message)
        if data.get("schedule_type") == CRONTAB:
            if not data.get("cron"):
                self.add_error("cron", "Enter a crontab line.")
            elif self._check_cron(_cron(data)):
                self._schedule(crontab=CrontabSchedule(timezone=settings.TIME_ZONE, **_cron(data)))
        elif data.get("every") and data.get("period"):
            self._schedule(interval=IntervalSchedule(every=data["every"], period=data["period"]))
        else:
            self.add_error("every", "Enter how often the job runs.")
        return data

    def _schedule(self, **schedule: Any) -> None:
        # An unsaved schedule row, so that the model's own clean() (exactly one
        # schedule) passes; save() swaps it for a stored one.
        job: RecurringJob = self.instance
        job.interval = schedule.get("interval")
        job.crontab = schedule.get("crontab")
        job.solar = job.clocked = None

    def _check_cron(self, fields: dict[str, str]) -> bool:
        from celery.schedules import crontab

        try:
            crontab(**fields)
        except (ValueError, TypeError) as exc:
            self.add_error("cron", f"Invalid crontab line: {exc}")
            return False
        return True

    def save(self, commit: bool = True) -> RecurringJob:
        job: RecurringJob = super().save(commit=False)
        job.set_job(self.cleaned_data["job"], self.cleaned_data["params"])
        if job.crontab is not None:
            job.crontab = _find_or_create(
                CrontabSchedule,
                timezone=job.crontab.timezone,
                **{field: getattr(job.crontab, field) for field in CRON_FIELDS},
            )
        if job.interval is not None:
            job.interval = _find_or_create(
                IntervalSchedule, every=job.interval.every, period=job.interval.period
            )
        if commit:
            job.save()
        return job


def _cron(data: dict[str, Any]) -> dict[str, str]:
    return dict(zip(CRON_FIELDS, data["cron"].split(" "), strict=True))


def _find_or_create(model: Any, **fields: Any) -> Any:
    # get_or_create would fail on the duplicates django-celery-beat's own admin allows.
    return model.objects.filter(**fields).first() or model.objects.create(**fields)
