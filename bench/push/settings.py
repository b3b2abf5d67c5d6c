"""Settings of the push benchmark's Celery worker and of the process driving it.

The database (``BENCH_PUSH_DATABASE_URL``), queue and transports (``BENCH_PUSH_PUSH``,
JSON) come from the environment that ``bench.py`` sets.
"""

import json
import os

import dj_database_url

from tests.projects.base import *  # noqa: F403
from tests.projects.base import BACKEND_KIT as _BASE_KIT

DATABASES = {
    "default": dj_database_url.parse(os.environ["BENCH_PUSH_DATABASE_URL"], conn_max_age=600)
}
BACKEND_KIT = {
    **_BASE_KIT,
    "JOBS_RUNNER": "celery",
    "JOBS_CELERY_APP": "bench.push.celery_app.app",
    "PUSH": json.loads(os.environ.get("BENCH_PUSH_PUSH", "{}")),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"backend_kit": {"handlers": ["console"], "level": "WARNING"}},
}
