"""The Prometheus endpoint (protected) and the deep health check."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.test import Client

from backend_kit.cloud import job
from backend_kit.guardrails import metrics
from tests.conftest import APP_ID, MASTER_KEY, ParseClient

TOKEN = "a-long-scrape-token-0123456789"
pytest.importorskip("prometheus_client")


def scrape(headers: dict[str, str] | None = None) -> Any:
    return Client().get("/parse/metrics", headers=headers or {})


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_need_the_token_or_the_master_key(db: Any, guardrails: Any) -> None:
    guardrails(METRICS_TOKEN=TOKEN)
    assert scrape().status_code == 403
    assert scrape({"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 403
    assert scrape({"X-Parse-Master-Key": MASTER_KEY}).status_code == 403  # no app id
    assert scrape({"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    master = {"X-Parse-Application-Id": APP_ID, "X-Parse-Master-Key": MASTER_KEY}
    assert scrape(master).status_code == 200


def test_request_rates_latencies_and_error_codes(classes: None, guardrails: Any) -> None:
    guardrails(METRICS_TOKEN=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(auth).content.decode()
    route = "parse/classes/<str:class_name>/<str:object_id>"
    client = ParseClient()
    for _ in range(3):
        assert client.get("classes/Item/nope").status_code == 404
    assert client.post("classes/Item", {"n": "text"}).status_code == 400
    text = scrape(auth).content.decode()
    assert (
        sample(text, "bk_http_requests_total", route=route, method="GET", status="404")
        - sample(before, "bk_http_requests_total", route=route, method="GET", status="404")
        == 3
    )
    assert (
        sample(text, "bk_parse_errors_total", route=route, code="101")
        - sample(before, "bk_parse_errors_total", route=route, code="101")
        == 3
    )
    assert sample(text, "bk_parse_errors_total", code="111") >= 1
    assert sample(text, "bk_http_request_duration_seconds_count", route=route, method="GET") >= 3
    assert "bk_queue_depth" in text and 'bk_usage{metric="requests",period="day"}' in text


def test_rate_limits_and_job_outcomes_are_counted(
    transactional_db: Any, classes: None, guardrails: Any, cloud_code: Any, settings: Any
) -> None:
    @job("tick")
    def tick(request: Any) -> str:
        return "ok"

    guardrails(METRICS_TOKEN=TOKEN, RATE_LIMITS={"reads": {"ip": [1, 3600]}})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(auth).content.decode()
    client = ParseClient()
    client.get("classes/Item")
    client.get("classes/Item")
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_RUNNER": "thread"}
    guardrails(METRICS_TOKEN=TOKEN, RATE_LIMITS={"reads": {"ip": [1, 3600]}})
    status_id = ParseClient(master=True).post("jobs/tick")["X-Parse-Job-Status-Id"]
    from tests.jobs.conftest import after_threads

    assert after_threads(status_id)["status"] == "succeeded"
    text = scrape(auth).content.decode()

    def grew(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert grew("bk_rate_limited_total", group="reads", scope="ip") == 1
    assert grew("bk_jobs_total", job="tick", outcome="started") == 1
    assert grew("bk_jobs_total", job="tick", outcome="succeeded") == 1


def test_the_first_requests_of_a_process_build_the_instruments_once(monkeypatch: Any) -> None:
    # found by tests/ha: several threads of a fresh server measured their first
    # requests together, each built the instruments, and all but one lost a sample
    built: list[object] = []
    start = threading.Barrier(8)

    def build() -> object:
        time.sleep(0.05)  # long enough for every thread to arrive meanwhile
        built.append(object())
        return built[-1]

    monkeypatch.setattr(metrics, "_built", [])
    monkeypatch.setattr(metrics, "_build", build)

    def first_use(_: int) -> object:
        start.wait(timeout=10)
        return metrics._metrics()

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(first_use, range(8)))
    assert len(built) == 1 and all(found is built[0] for found in seen)


def test_metrics_can_be_switched_off(db: Any, guardrails: Any) -> None:
    guardrails(METRICS_TOKEN=TOKEN, METRICS_ENABLED=False)
    assert scrape({"Authorization": f"Bearer {TOKEN}"}).status_code == 501


def test_health_stays_cheap_and_open(db: Any) -> None:
    r = Client().get("/parse/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_deep_health_needs_the_master_key(db: Any) -> None:
    assert ParseClient().get("health/deep").status_code == 403


def test_deep_health_reports_each_service(transactional_db: Any, media: Any) -> None:
    r = ParseClient(master=True).get("health/deep")
    assert r.status_code == 200, r.json_body
    checks = r.json_body["checks"]
    assert r.json_body["status"] == "ok"
    assert set(checks) == {"database", "cache", "channel_layer", "broker", "storage"}
    assert checks["database"]["ok"] and "default" in checks["database"]["detail"]
    assert checks["cache"]["ok"] and "LocMemCache" in checks["cache"]["detail"]
    assert checks["storage"]["ok"]


def test_deep_health_names_what_fails(
    transactional_db: Any, guardrails: Any, media: Any, settings: Any
) -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.3},
        },
    }
    # through the settings fixture, so that teardown restores CACHES with the rest
    settings.CACHES = caches
    guardrails(CACHE_ALIAS="down", HEALTH_TIMEOUT=2)
    r = ParseClient(master=True).get("health/deep")
    assert r.status_code == 503
    assert r.json_body["status"] == "failing"
    assert r.json_body["checks"]["cache"]["ok"] is False
    assert "Connection" in r.json_body["checks"]["cache"]["error"]
    assert r.json_body["checks"]["database"]["ok"] is True
