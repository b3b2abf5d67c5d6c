"""The example project's Celery app: workers and beat for backend_kit.jobs.

    celery -A example_project worker -l info
    celery -A example_project beat -l info

Settings come from Django's, prefixed ``CELERY_`` (see settings.py); beat keeps its
schedule in the database (django-celery-beat), edited in the admin.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
