"""Settings of the Celery worker and beat processes the jobs tests start.

They share the test process's PostgreSQL test database (its name comes in
``BK_JOBS_TEST_DB``) and a Redis cache, so schema caches agree across processes.
Never imported by the test process itself.
"""

import copy
import os

from ..postgres import settings as _postgres
from ..postgres.settings import *  # noqa: F403
from .app import SHARED_CACHES

# A copy: the postgres settings' dicts must stay as they are.
DATABASES = copy.deepcopy(_postgres.DATABASES)
DATABASES["default"]["NAME"] = os.environ["BK_JOBS_TEST_DB"]
CACHES = SHARED_CACHES
BACKEND_KIT = {
    **_postgres.BACKEND_KIT,
    "CLOUD_MODULES": ["tests.jobs.sample_jobs"],
    "JOBS_RUNNER": "celery",
    "JOBS_CELERY_APP": "tests.projects.celery.app.app",
    "JOBS_QUEUE": os.environ["BK_JOBS_TEST_QUEUE"],
    "JOBS_TIME_LIMIT_GRACE": 1,
    # The beat's sweep sends a start nobody claimed again after 2 s (minutes in
    # production): a test loses a run message and waits for that.
    "JOBS_REDISPATCH_AFTER": 2,
}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["BK_JOBS_TEST_MAIL_DIR"]
