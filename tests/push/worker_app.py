"""The Celery app of the push worker tests: real workers on Redis database 12.

Started by the tests as ``celery -A tests.push.worker_app worker`` with
``DJANGO_SETTINGS_MODULE=tests.push.worker_settings``; the test process sends to the
same broker and queue through ``BACKEND_KIT["JOBS_CELERY_APP"]``.
"""

from __future__ import annotations

import os

from celery import Celery

REDIS_DB = 12  # the push tests' own: they never meet another app's messages
BROKER_URL = os.environ.get("BK_PUSH_TEST_REDIS", f"redis://127.0.0.1:6379/{REDIS_DB}")

app = Celery("backend_kit_push_tests", set_as_current=False)
app.conf.update(
    broker_url=BROKER_URL,
    task_default_queue=os.environ.get("BK_PUSH_TEST_QUEUE", "bk-push-tests"),
    broker_transport_options={"visibility_timeout": 30},
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    timezone="UTC",
)
