"""Pushes sent by real Celery workers (Redis database 12) sharing the PostgreSQL test
database, through the real transports to the stand-ins in the test process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from backend_kit.objects.models import ParseObject
from backend_kit.push import DUE_TASK, status
from backend_kit.push.models import PushBatch
from tests.conftest import ParseClient
from tests.jobs.celery_harness import redis_reachable
from tests.stand_ins.apns import APNsStandIn
from tests.stand_ins.fcm import FCMStandIn
from tests.stand_ins.webpush import WebPushStandIn

from .conftest import android_token, ios_token
from .worker_app import app
from .worker_harness import PushWorkers

if not redis_reachable():
    pytest.skip("Redis is not reachable on 127.0.0.1:6379", allow_module_level=True)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def workers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[PushWorkers]:
    processes = PushWorkers(connection.settings_dict["NAME"])
    yield processes
    processes.clean_up()


@pytest.fixture
def on_workers(
    workers: PushWorkers, settings: Any, transactional_db: Any, providers: dict[str, Any]
) -> Iterator[tuple[PushWorkers, dict[str, Any]]]:
    push = {"TRANSPORTS": providers, "BATCH_SIZE": 7, "RETRY_BACKOFF": 0.2, "QUEUE": workers.queue}
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "JOBS_RUNNER": "celery",
        "JOBS_CELERY_APP": "tests.push.worker_app.app",
        "PUSH": push,
    }
    yield workers, push
    workers.stop_all()


def finished(workers: PushWorkers, status_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = status.read(status_id)
        if data and data.get("status") in status.FINAL:
            return data
        if time.monotonic() > deadline:
            print(workers.logs())
            pytest.fail(f"push {status_id} did not finish: {data}")
        time.sleep(0.2)


def register(api: ParseClient, webpush: WebPushStandIn, count: int) -> dict[str, str]:
    tokens = {}
    for n in range(count):
        kind = ("ios", "android", "web")[n % 3]
        token = {"ios": ios_token, "android": android_token}.get(
            kind, lambda: webpush.subscribe().token()
        )()
        body = {
            "installationId": f"dev-{n}",
            "deviceType": kind,
            "deviceToken": token,
            "channels": ["all"],
        }
        assert api.post("installations", body).status_code == 201
        tokens[f"dev-{n}"] = token
    return tokens


def test_workers_send_every_batch_once(
    on_workers: tuple[PushWorkers, dict[str, Any]],
    api: ParseClient,
    master: ParseClient,
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    workers, push = on_workers
    workers.start(push, concurrency=2)
    workers.start(push, concurrency=1)
    register(api, webpush_server, 45)
    response = master.post(
        "push", {"channels": ["all"], "data": {"alert": "to all", "badge": "Increment"}}
    )
    status_id = response.headers["X-Parse-Push-Status-Id"]
    data = finished(workers, status_id)
    assert data["status"] == "succeeded", data
    assert data["numSent"] == 45 and data["sentPerType"] == {"ios": 15, "android": 15, "web": 15}
    assert len(apns_server.delivered) == len(apns_server.tokens()) == 15
    assert len(fcm_server.delivered) == len(fcm_server.tokens()) == 15
    assert sum(len(v) for v in webpush_server.received().values()) == 15
    batches = PushBatch.objects.filter(status_id=status_id)
    assert batches.count() == 7 and set(batches.values_list("state", flat=True)) == {"done"}
    badges = {
        row.data.get("badge") for row in ParseObject.objects.filter(class_name="_Installation")
    }
    assert badges == {1}


def test_a_scheduled_push_waits_for_its_time_on_the_worker(
    on_workers: tuple[PushWorkers, dict[str, Any]],
    api: ParseClient,
    master: ParseClient,
    apns_server: APNsStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    workers, push = on_workers
    workers.start(push)
    register(api, webpush_server, 1)  # one iPhone
    at = datetime.now(UTC) + timedelta(seconds=3)
    response = master.post(
        "push", {"where": {}, "data": {"alert": "at 3"}, "push_time": at.isoformat()}
    )
    status_id = response.headers["X-Parse-Push-Status-Id"]
    assert status.read(status_id)["status"] == "scheduled"
    data = finished(workers, status_id)
    assert data["status"] == "succeeded" and data["numSent"] == 1
    assert apns_server.delivered[0].at >= at.timestamp()


def test_a_far_scheduled_push_is_started_by_the_due_sweep(
    on_workers: tuple[PushWorkers, dict[str, Any]],
    settings: Any,
    api: ParseClient,
    master: ParseClient,
    apns_server: APNsStandIn,
    webpush_server: WebPushStandIn,
) -> None:
    workers, push = on_workers
    push = {**push, "SCHEDULE_ETA_LIMIT": 1}
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "PUSH": push}
    workers.start(push)
    register(api, webpush_server, 1)
    at = datetime.now(UTC) + timedelta(seconds=3)
    response = master.post(
        "push", {"where": {}, "data": {"alert": "swept"}, "push_time": at.isoformat()}
    )
    status_id = response.headers["X-Parse-Push-Status-Id"]
    time.sleep(max(0.0, at.timestamp() - time.time()) + 1.0)
    # no countdown was queued (further ahead than SCHEDULE_ETA_LIMIT): nothing yet
    assert status.read(status_id)["status"] == "scheduled" and apns_server.delivered == []
    app.signature(DUE_TASK, queue=workers.queue).apply_async()  # what beat runs every minute
    data = finished(workers, status_id)
    assert data["status"] == "succeeded" and data["numSent"] == 1
