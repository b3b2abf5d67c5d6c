"""Settings of the processes the HA tests start: the example project plus guardrails.

Every ASGI server, Celery worker and beat of one test shares a PostgreSQL database and
a Redis; what differs between tests comes from the environment the harness sets:

``DATABASE_URL``, ``REDIS_URL`` (cache, channel layer and Celery broker, as in the
example project), ``CELERY_BROKER_URL`` (another broker), ``BK_HA_PREFIX`` (the cache's key prefix and the Celery queue, so two
clusters on one Redis never meet), ``BK_HA_GUARDRAILS`` (``BACKEND_KIT["GUARDRAILS"]``
as JSON) and ``BK_HA_TICK`` (seconds between the runs of a recurring job that beat
starts; unset: none).
"""

from __future__ import annotations

import json
import os

from example_project.settings import *  # noqa: F403
from example_project.settings import BACKEND_KIT, CACHES, INSTALLED_APPS, MIDDLEWARE

PREFIX = os.environ["BK_HA_PREFIX"]

# The example project installs guardrails already; a host project may not.
if "backend_kit.guardrails" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "backend_kit.guardrails"]
    MIDDLEWARE = [*MIDDLEWARE, "backend_kit.guardrails.middleware.GuardrailsMiddleware"]
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": PREFIX}}

BACKEND_KIT["GUARDRAILS"] = json.loads(os.environ.get("BK_HA_GUARDRAILS") or "{}")
BACKEND_KIT["CLOUD_MODULES"] = ["tests.ha.cloud"]
BACKEND_KIT["JOBS_RUNNER"] = "celery"
BACKEND_KIT["JOBS_QUEUE"] = PREFIX
# time limit + grace below the visibility timeout: a running job is never handed out twice
BACKEND_KIT["JOBS_TIME_LIMIT"] = 5
BACKEND_KIT["JOBS_TIME_LIMIT_GRACE"] = 1

CELERY_TASK_DEFAULT_QUEUE = PREFIX
# With Redis as broker, a message whose worker died is handed out again after 8 s
# (hours in production, see docs/howto/high-availability.md); every job of the tests
# finishes well within it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 8,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULER = "backend_kit.guardrails.beat:LockedDatabaseScheduler"
CELERY_BEAT_SCHEDULE = {}
if os.environ.get("BK_HA_TICK"):
    CELERY_BEAT_SCHEDULE["ha-tick"] = {
        "task": "backend_kit.jobs.start_scheduled",
        "schedule": float(os.environ["BK_HA_TICK"]),
        "kwargs": {"job": "haTick", "params": {}},
    }
