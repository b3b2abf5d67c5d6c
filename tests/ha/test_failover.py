"""The HA layout under load: two ASGI processes behind a load balancer, two Celery
workers (RabbitMQ as broker), two beats with the scheduling lock (in Redis); one of
each is SIGKILLed mid-load.

What must hold afterwards (docs/howto/high-availability.md):

* every write a client got a 2xx for is in the database, with the objectId it was given;
* every job whose start was acknowledged finishes (``succeeded``), including the one
  that was running on the killed worker: its message comes back to the other worker;
* exactly one beat schedules at a time, and the standby takes over when the holder
  dies, so the recurring job keeps running;
* the surviving server's deep health check passes and its metrics count the whole
  cluster's requests and jobs;
* the audit trail has the master-key and job changes, and none of the client writes.

Reproduce (prints the figures)::

    TEST_DATABASE_NAME=test_bk_guard .venv/bin/python -m pytest \
        --ds=tests.projects.postgres.settings -p no:cacheprovider -q -s tests/ha/test_failover.py
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .balancer import Balancer
from .harness import (
    Cluster,
    Proc,
    create_class,
    headers,
    objects,
    query,
    sample_sum,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITERS = 6  # client threads writing through the balancer
JOB_EVERY = 0.4  # seconds between job starts
JOB_SECONDS = 0.5  # how long each job works
VICTIM_SECONDS = 3.0  # the job running when its worker is killed (time limit: 5 s)
LOCK_TTL = 4  # BEAT_LOCK_TTL: how long a standby beat waits after the holder died
HOLDS = "holds the scheduling lock"
SENDS = "Sending due task ha-tick"
FINAL = ("succeeded", "failed")


@dataclass
class Load:
    """Steady load through the balancer: client writes and job starts, from threads."""

    url: str
    writes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # marker -> (id, after kill)
    jobs: dict[str, tuple[str, bool]] = field(default_factory=dict)  # status id -> (marker, after)
    outcomes: Counter[str] = field(default_factory=Counter)
    killed: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(WRITERS):
            self.threads.append(threading.Thread(target=self._write, args=(n,), daemon=True))
        self.threads.append(threading.Thread(target=self._start_jobs, daemon=True))
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=90)
        assert not any(t.is_alive() for t in self.threads), "a load thread hangs"

    def _note(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] += 1

    def _write(self, n: int) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopping.is_set():
                marker = secrets.token_hex(8)
                after = self.killed
                try:
                    r = client.post(
                        f"{self.url}/parse/classes/HAWrite",
                        json={"marker": marker, "writer": n},
                        headers=headers(),
                    )
                except httpx.HTTPError as exc:
                    self._note(f"write {type(exc).__name__}")
                    time.sleep(0.05)
                    continue
                if r.status_code == 201:
                    with self.lock:
                        self.writes[marker] = (r.json()["objectId"], after)
                self._note(f"write {r.status_code}")

    def _start_jobs(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopping.wait(JOB_EVERY):
                try:
                    self.start_job(JOB_SECONDS, client)
                except httpx.HTTPError as exc:
                    self._note(f"job {type(exc).__name__}")

    def start_job(self, seconds: float, client: httpx.Client | None = None) -> tuple[str, str]:
        """Start a haWork job through the balancer; ``(status id, marker)`` once accepted."""
        marker = secrets.token_hex(8)
        after = self.killed
        r = (client or httpx).post(
            f"{self.url}/parse/jobs/haWork",
            json={"marker": marker, "seconds": seconds},
            headers=headers(master=True),
            timeout=30,
        )
        self._note(f"job {r.status_code}")
        status_id = r.headers.get("X-Parse-Job-Status-Id")
        if r.status_code != 200 or not status_id:
            return "", marker
        with self.lock:
            self.jobs[status_id] = (marker, after)
        return status_id, marker

    def count(self, *, after: bool) -> tuple[int, int]:
        with self.lock:
            return (
                sum(a == after for _, a in self.writes.values()),
                sum(a == after for _, a in self.jobs.values()),
            )


@pytest.fixture(scope="module")
def cluster(database_url: str, redis_url: str, amqp_url: str) -> Iterator[Cluster]:
    cluster = Cluster(
        database_url,
        redis_url,
        guardrails={"BEAT_LOCK_TTL": LOCK_TTL},
        tick=1.0,
        broker_url=amqp_url,  # the beats' lock is in the Redis cache
    )
    try:
        yield cluster
    finally:
        cluster.clean_up()


def job_statuses(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return dict(objects(cluster.database_url, "_JobStatus"))


def at_least(counts: tuple[int, int], least: tuple[int, int]) -> bool:
    return all(n >= m for n, m in zip(counts, least, strict=True))


def running_on(cluster: Cluster, status_id: str, workers: tuple[Proc, ...]) -> Proc | None:
    """The worker running job ``status_id`` right now, if any."""
    data = job_statuses(cluster).get(status_id) or {}
    for worker in workers:
        if (data.get("status"), data.get("message")) == ("running", f"worker {worker.pid}"):
            return worker
    return None


def test_killing_a_server_a_worker_and_a_beat_loses_nothing_acknowledged(cluster: Cluster) -> None:
    asgi_a, asgi_b = cluster.asgi(), cluster.asgi()
    worker_a, worker_b = cluster.worker(), cluster.worker()
    beat_a, beat_b = cluster.beat(), cluster.beat()
    cluster.start(asgi_a, asgi_b, worker_a, worker_b, beat_a, beat_b)
    create_class(asgi_a.origin, "HAWrite", {"marker": "String", "writer": "Number"})
    create_class(asgi_a.origin, "HAJobDone", {"marker": "String", "jobId": "String"})

    with Balancer([asgi_a.address, asgi_b.address]) as balancer:
        load = Load(f"http://127.0.0.1:{balancer.port}")
        load.start()
        try:
            # --- steady state: both servers and both workers busy, one beat scheduling
            wait_for(lambda: at_least(load.count(after=False), (50, 8)), "steady load", 60, cluster)
            holders = wait_for(
                lambda: [b for b in (beat_a, beat_b) if SENDS in b.log()],
                "a beat to schedule",
                60,
                cluster,
            )
            assert len(holders) == 1, cluster.logs()
            (holder,) = holders
            standby = beat_b if holder is beat_a else beat_a
            assert HOLDS in holder.log() and HOLDS not in standby.log()
            assert all(balancer.connections[p.address] > 0 for p in (asgi_a, asgi_b))
            # a longer job, so that its worker surely dies in the middle of it
            victim_job, victim_marker = load.start_job(VICTIM_SECONDS)
            assert victim_job, "the long job was not accepted"
            victim = wait_for(
                lambda: running_on(cluster, victim_job, (worker_a, worker_b)),
                "the long job to run",
                60,
                cluster,
            )

            # --- one of each dies at once, mid-load
            load.killed = True
            asgi_a.kill()
            victim.kill()
            holder.kill()

            # --- the survivors carry on: writes, jobs, and the standby beat takes over
            wait_for(
                lambda: at_least(load.count(after=True), (100, 8)),
                "writes and job starts after the kill",
                60,
                cluster,
            )
            wait_for(lambda: SENDS in standby.log(), "the standby beat to schedule", 60, cluster)
            assert HOLDS in standby.log()
        finally:
            load.stop()

    # --- every accepted job finishes, the one on the killed worker too, and every run
    # the beats started (the standby stops first, so that no new ones come)
    standby.stop()
    accepted_jobs = dict(load.jobs)

    unfinished: dict[str, Any] = {}

    def all_finished() -> dict[str, dict[str, Any]] | None:
        found = job_statuses(cluster)
        ids = set(accepted_jobs) | {sid for sid, d in found.items() if d.get("jobName") == "haTick"}
        unfinished.clear()
        unfinished.update(
            {sid: found.get(sid) for sid in ids if found.get(sid, {}).get("status") not in FINAL}
        )
        return None if unfinished else found

    try:
        statuses = wait_for(all_finished, "every accepted job to finish", 120, cluster)
    except AssertionError:
        print(f"[ha] unfinished jobs: {unfinished}")
        raise
    outcomes = Counter(statuses[sid]["status"] for sid in accepted_jobs)
    finished_markers = {
        data.get("marker") for _, data in objects(cluster.database_url, "HAJobDone")
    }
    ticks = [d for d in statuses.values() if d.get("jobName") == "haTick"]

    # --- every acknowledged write is stored, with the id it was given
    stored = {data.get("marker"): oid for oid, data in objects(cluster.database_url, "HAWrite")}
    acked = {marker: oid for marker, (oid, _) in load.writes.items()}
    missing = {m: oid for m, oid in acked.items() if stored.get(m) != oid}

    print(
        f"\n[ha] writes acknowledged {len(acked)} (after the kill {load.count(after=True)[0]}), "
        f"found in PostgreSQL {len(acked) - len(missing)}, stored in all {len(stored)}"
        f"\n[ha] jobs accepted {len(accepted_jobs)} (after the kill {load.count(after=True)[1]}), "
        f"finished {dict(outcomes)}; the killed worker's job ran {statuses[victim_job].get('_runs')} times"
        f"\n[ha] scheduled ticks {Counter(d.get('status') for d in ticks)}"
        f"\n[ha] client outcomes {dict(load.outcomes)}; balancer connections "
        f"{dict(balancer.connections)}, refused connects {dict(balancer.refused)}"
    )
    assert not missing, f"{len(missing)} acknowledged writes are not in the database"
    assert outcomes == Counter({"succeeded": len(accepted_jobs)}), cluster.logs()
    assert {marker for marker, _ in accepted_jobs.values()} <= finished_markers
    # the job that was running on the killed worker ran again on the other one
    assert statuses[victim_job]["status"] == "succeeded" and victim_marker in finished_markers
    assert int(statuses[victim_job].get("_runs") or 0) == 2
    # scheduled runs, from either beat, all finished
    assert ticks and all(d["status"] == "succeeded" for d in ticks), cluster.logs()

    # --- what operators see on the surviving server: every service healthy, and the
    # metrics of all the cluster's processes (the killed ones' counts included)
    deep = httpx.get(f"{asgi_b.origin}/parse/health/deep", headers=headers(master=True), timeout=30)
    assert deep.status_code == 200, deep.text
    checks = deep.json()["checks"]
    assert all(check["ok"] for check in checks.values()), checks
    assert "amqp" in checks["broker"]["detail"] and "postgresql" in checks["database"]["detail"]
    text = httpx.get(
        f"{asgi_b.origin}/parse/metrics", headers=headers(master=True), timeout=30
    ).text
    route = "parse/classes/<str:class_name>"
    assert sample_sum(
        text, "bk_http_requests_total", route=route, method="POST", status="201"
    ) >= len(acked)
    assert sample_sum(text, "bk_jobs_total", job="haWork", outcome="succeeded") >= len(
        accepted_jobs
    )
    assert f'bk_queue_depth{{queue="{cluster.prefix}"}}' in text

    # --- the audit trail: master-key and cloud-code changes, no client write, and not
    # the server's own bookkeeping (the job statuses)
    audited = Counter(
        query(
            cluster.database_url,
            "SELECT origin, target, class_name FROM backend_kit_guardrails_auditentry",
        )
    )
    print(f"[ha] audit entries {dict(audited)}")
    assert audited[("api", "schema", "HAWrite")] == 1
    assert audited[("api", "schema", "HAJobDone")] == 1
    assert audited[("api", "request", "haWork")] >= len(accepted_jobs)  # the job starts
    assert audited[("cloud", "object", "HAJobDone")] >= len(accepted_jobs)  # what they wrote
    assert not [k for k in audited if k[1] == "object" and k[2] in ("HAWrite", "_JobStatus")]
