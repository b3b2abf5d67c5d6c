"""The Celery app of the jobs tests: real workers and beat on Redis (see tests/jobs).

Started by the tests as ``celery -A tests.projects.celery.app worker|beat`` with
``DJANGO_SETTINGS_MODULE=tests.projects.celery.settings``; the test process sends
to the same broker and queue through ``BACKEND_KIT["JOBS_CELERY_APP"]``.
"""

from __future__ import annotations

import os

from celery import Celery

# A Redis database of their own, so the tests never meet another app's messages.
REDIS_DB = 11
BROKER_URL = os.environ.get("BK_JOBS_TEST_REDIS", f"redis://127.0.0.1:6379/{REDIS_DB}")

# The workers' cache, and the test process's while it talks to them: schema caches
# are invalidated through it, across processes.
SHARED_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": BROKER_URL,
        "KEY_PREFIX": "bk-jobs-tests",
    }
}

app = Celery("backend_kit_tests", set_as_current=False)
app.conf.update(
    broker_url=BROKER_URL,
    task_default_queue=os.environ.get("BK_JOBS_TEST_QUEUE", "bk-jobs-tests"),
    # A message whose worker died comes back after 5 s (1 h in production): the
    # tests kill workers and wait for that. Their jobs all finish well within it.
    broker_transport_options={
        "visibility_timeout": 5,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    timezone="UTC",
)
app.autodiscover_tasks(["backend_kit.jobs"])

# Runs every task in the sending process, at once (a host project's unit tests).
eager_app = Celery("backend_kit_tests_eager", set_as_current=False)
eager_app.conf.update(task_always_eager=True, task_eager_propagates=True)
