"""Recurring jobs in the admin: create and edit them, refuse bad input, run one now."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule

from backend_kit.jobs import SCHEDULE_TASK
from backend_kit.jobs.models import RecurringJob
from tests.conftest import ParseClient

from .conftest import after_threads

ADD_URL = reverse("admin:backend_kit_jobs_recurringjob_add")
LIST_URL = reverse("admin:backend_kit_jobs_recurringjob_changelist")


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "nightly echo",
        "job": "probeEcho",
        "params": '{"marker": "nightly"}',
        "enabled": "on",
        "description": "",
        "schedule_type": "interval",
        "every": "5",
        "period": "minutes",
        "cron": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.usefixtures("sample_jobs")
class TestRecurringJobForm:
    def test_the_add_page_offers_the_registered_jobs(self, admin_client: Any) -> None:
        page = admin_client.get(ADD_URL)
        assert page.status_code == 200
        for name in ("probeEcho", "probeFlaky", "probeGate"):
            assert f'value="{name}"' in page.content.decode()

    def test_creating_an_interval_job(self, admin_client: Any) -> None:
        response = admin_client.post(ADD_URL, form())
        assert response.status_code == 302, response.context["adminform"].form.errors
        job = RecurringJob.objects.get(name="nightly echo")
        assert job.task == SCHEDULE_TASK
        assert json.loads(job.kwargs) == {"job": "probeEcho", "params": {"marker": "nightly"}}
        assert (job.interval.every, job.interval.period) == (5, "minutes")
        assert job.crontab is None and job.enabled
        data = ParseClient(master=True).get("cloud_code/jobs/data").json_body
        assert data["in_use"] == ["probeEcho"]

    def test_creating_a_crontab_job_and_editing_it(self, admin_client: Any) -> None:
        response = admin_client.post(
            ADD_URL, form(schedule_type="crontab", cron="30  3 * * 1-5", every="")
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        job = RecurringJob.objects.get()
        crontab = job.crontab
        assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "3", "1-5")
        assert job.interval is None

        change_url = reverse("admin:backend_kit_jobs_recurringjob_change", args=[job.pk])
        page = admin_client.get(change_url).content.decode()
        assert "30 3 * * 1-5" in page and "nightly" in page
        edited = admin_client.post(
            change_url,
            form(
                schedule_type="interval", every="2", period="hours", params='{"marker": "edited"}'
            ),
        )
        assert edited.status_code == 302, edited.context["adminform"].form.errors
        job.refresh_from_db()
        assert (job.interval.every, job.interval.period, job.crontab) == (2, "hours", None)
        assert job.params == {"marker": "edited"}

    @pytest.mark.parametrize(
        ("changes", "field", "error"),
        [
            ({"params": '{"marker": 3}'}, "params", "Invalid type for marker"),
            ({"params": "{}"}, "params", "Please specify data for marker."),
            ({"params": "[1, 2]"}, "params", "Params must be a JSON object."),
            ({"params": "{oops"}, "params", "Enter a valid JSON."),
            ({"job": "noSuchJob"}, "job", "Select a valid choice."),
            ({"every": ""}, "every", "Enter how often the job runs."),
            ({"schedule_type": "crontab", "cron": ""}, "cron", "Enter a crontab line."),
            ({"schedule_type": "crontab", "cron": "* * *"}, "cron", "five fields"),
            ({"schedule_type": "crontab", "cron": "61 * * * *"}, "cron", "Invalid crontab"),
        ],
    )
    def test_bad_input_is_refused(
        self, admin_client: Any, changes: dict[str, str], field: str, error: str
    ) -> None:
        response = admin_client.post(ADD_URL, form(**changes))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert error in " ".join(errors.get(field, [])), errors
        assert not RecurringJob.objects.exists()
        assert not IntervalSchedule.objects.exists() and not CrontabSchedule.objects.exists()


@pytest.mark.usefixtures("thread_runner")
def test_run_now_starts_the_selected_jobs(admin_client: Any) -> None:
    interval = IntervalSchedule.objects.create(every=1, period="days")
    job = RecurringJob(name="daily echo", interval=interval)
    job.set_job("probeEcho", {"marker": "now"})
    job.save()
    response = admin_client.post(
        LIST_URL, {"action": "run_now", "_selected_action": [job.pk]}, follow=True
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("daily echo: started, _JobStatus ")
    status_id = message.rsplit(" ", 1)[1].rstrip(".")
    done = after_threads(status_id)
    assert (done["source"], done["status"], done["message"]) == ("admin", "succeeded", "echo now")


@pytest.mark.usefixtures("sample_jobs")
def test_other_periodic_tasks_are_not_recurring_jobs(db: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    interval = IntervalSchedule.objects.create(every=1, period="days")
    PeriodicTask.objects.create(name="someone else's", task="app.cleanup", interval=interval)
    assert not RecurringJob.objects.exists()
