"""Rate limits and usage caps hold across two server processes sharing Redis.

Two uvicorn processes of the example project (with guardrails) share one PostgreSQL
database and one Redis. A bounded burst of concurrent requests, spread over both
processes, must be accepted exactly as often as the limit (or the cap) allows: the
counters are shared, so neither process can give out the other's share.

Reproduce (prints the figures)::

    TEST_DATABASE_NAME=test_bk_guard .venv/bin/python -m pytest \
        --ds=tests.projects.postgres.settings -p no:cacheprovider -q -s tests/ha/test_cluster_limits.py
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from .harness import Cluster, Proc, create_class, headers, objects, query

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LIMIT = 30  # writes per installation per window
WINDOW = 86400  # one fixed window: a UTC day
HAMMER = 90  # requests the hammering client sends
CALM = 10  # requests another client sends meanwhile
CAP = 60  # requests per day
BURST = 100  # requests sent at the cap
CONCURRENCY = 12
DAY = 86400


@pytest.fixture(scope="module")
def pair(database_url: str, redis_url: str) -> Iterator[tuple[Cluster, Proc, Proc]]:
    cluster = Cluster(
        database_url,
        redis_url,
        guardrails={
            "RATE_LIMITS": {"writes": {"installation": [LIMIT, WINDOW]}},
            "QUOTAS": {"requests": {"day": CAP}},
        },
    )
    try:
        a, b = cluster.asgi(), cluster.asgi()
        cluster.start(a, b)
        for name in ("CLHammer", "CLCalm", "CLQuota"):
            create_class(a.origin, name, {"tag": "String", "i": "Number"})
        yield cluster, a, b
    finally:
        cluster.clean_up()


def clear_of_midnight(margin: float = 30.0) -> None:
    """Both the rate-limit window and the quota day end at UTC midnight: a burst that
    straddled it would be counted in two periods. Wait past it when it is close."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight - now).total_seconds()
    if left < margin:
        time.sleep(left + 1)


def burst(requests: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    """POST every ``(origin, class, headers)`` at once, ``CONCURRENCY`` in flight."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=CONCURRENCY * 2)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def post(
                i: int, origin: str, class_name: str, hdrs: dict[str, str]
            ) -> httpx.Response:
                async with gate:
                    return await client.post(
                        f"{origin}/parse/classes/{class_name}",
                        json={"tag": TAG, "i": i},
                        headers=hdrs,
                    )

            return await asyncio.gather(
                *(post(i, origin, name, hdrs) for i, (origin, name, hdrs) in enumerate(requests))
            )

    return asyncio.run(run())


TAG = secrets.token_hex(6)


def tagged(cluster: Cluster, class_name: str) -> list[str]:
    return [
        oid for oid, data in objects(cluster.database_url, class_name) if data.get("tag") == TAG
    ]


def test_a_rate_limit_holds_across_two_processes(pair: tuple[Cluster, Proc, Proc]) -> None:
    cluster, a, b = pair
    cluster.shift_clock(10 * DAY)  # a day of its own for the request quota
    clear_of_midnight()
    hammer = headers(installation="hammer-" + secrets.token_hex(4))
    calm = headers(installation="calm-" + secrets.token_hex(4))
    servers = (a.origin, b.origin)
    plan = [(servers[i % 2], "CLHammer", hammer) for i in range(HAMMER)]
    # the calm client's requests go out in the middle of the hammering
    for i in range(CALM):
        plan.insert(HAMMER // 2 + 2 * i, (servers[i % 2], "CLCalm", calm))
    answers = burst(plan)

    hammered = [
        (origin, r)
        for (origin, name, _), r in zip(plan, answers, strict=True)
        if name == "CLHammer"
    ]
    accepted = [(origin, r) for origin, r in hammered if r.status_code == 201]
    refused = [r for _, r in hammered if r.status_code != 201]
    per_server = {origin: sum(o == origin for o, _ in accepted) for origin in servers}
    print(
        f"\n[cluster rate limit] limit {LIMIT} per window, {HAMMER} requests over 2 processes: "
        f"accepted {len(accepted)} (per process {list(per_server.values())}), refused {len(refused)}"
    )
    assert len(accepted) == LIMIT
    assert all(n > 0 for n in per_server.values()), per_server  # both processes took a share
    for r in refused:
        assert r.status_code == 429, r.text
        assert r.json() == {"code": 155, "error": "Too many requests."}
        assert 1 <= int(r.headers["Retry-After"]) <= WINDOW
    # the other client was never limited
    calm_answers = [r for (_, name, _), r in zip(plan, answers, strict=True) if name == "CLCalm"]
    assert [r.status_code for r in calm_answers] == [201] * CALM
    # what was accepted is stored, and nothing else
    assert sorted(tagged(cluster, "CLHammer")) == sorted(r.json()["objectId"] for _, r in accepted)
    # still limited on both processes after the burst
    for origin in servers:
        again = httpx.post(f"{origin}/parse/classes/CLHammer", json={"tag": "late"}, headers=hammer)
        assert again.status_code == 429 and again.json()["code"] == 155


def test_a_daily_cap_stops_writes_at_the_cap_and_resumes_the_next_day(
    pair: tuple[Cluster, Proc, Proc],
) -> None:
    cluster, a, b = pair
    cluster.shift_clock(20 * DAY)  # a fresh day: nothing counted yet
    clear_of_midnight()
    day = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y%m%d")
    servers = (a.origin, b.origin)
    answers = burst([(servers[i % 2], "CLQuota", headers()) for i in range(BURST)])

    accepted = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    print(
        f"\n[cluster quota] cap {CAP} requests per day, {BURST} writes over 2 processes: "
        f"accepted {len(accepted)}, refused {len(refused)}"
    )
    assert len(accepted) == CAP
    for r in refused:
        assert r.status_code == 429, r.text
        body: dict[str, Any] = r.json()
        assert body["code"] == 140
        assert body["error"].startswith(f"Quota exceeded: requests per day is capped at {CAP};")
        assert 1 <= int(r.headers["Retry-After"]) <= DAY
    assert len(tagged(cluster, "CLQuota")) == CAP
    # one warning and one cap notice for the day, though two processes counted
    notices = query(
        cluster.database_url,
        'SELECT kind, used, "limit" FROM backend_kit_guardrails_quotanotice '
        "WHERE metric = 'requests' AND period = 'day' AND period_key = %s ORDER BY kind",
        [day],
    )
    assert notices == [("cap", CAP, CAP), ("warning", int(CAP * 0.8), CAP)]
    # the cap holds on both processes until the day ends...
    for origin in servers:
        r = httpx.post(f"{origin}/parse/classes/CLQuota", json={"tag": TAG}, headers=headers())
        assert r.status_code == 429 and r.json()["code"] == 140
    # ...and writes resume the next day
    cluster.shift_clock(21 * DAY)
    for origin in servers:
        r = httpx.post(f"{origin}/parse/classes/CLQuota", json={"tag": TAG}, headers=headers())
        assert r.status_code == 201, r.text
    assert len(tagged(cluster, "CLQuota")) == CAP + 2
