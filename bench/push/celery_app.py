"""The benchmark's Celery app: Redis database 12, a queue of the run's own."""

import os

from celery import Celery

app = Celery("backend_kit_push_bench", set_as_current=False)
app.conf.update(
    broker_url=os.environ.get("BENCH_PUSH_REDIS", "redis://127.0.0.1:6379/12"),
    task_default_queue=os.environ.get("BENCH_PUSH_QUEUE", "bk-push-bench"),
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
)
