"""Settings of the Celery workers the push tests start (never imported by pytest).

The test database's name, the queue and the transports (pointed at the stand-ins
in the test process) come from the environment.
"""

import copy
import json
import os

from tests.projects.postgres import settings as _postgres
from tests.projects.postgres.settings import *  # noqa: F403

DATABASES = copy.deepcopy(_postgres.DATABASES)
DATABASES["default"]["NAME"] = os.environ["BK_PUSH_TEST_DB"]
BACKEND_KIT = {
    **_postgres.BACKEND_KIT,
    "JOBS_RUNNER": "celery",
    "JOBS_CELERY_APP": "tests.push.worker_app.app",
    "PUSH": json.loads(os.environ["BK_PUSH_TEST_PUSH"]),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"backend_kit": {"handlers": ["console"], "level": "INFO"}},
}
