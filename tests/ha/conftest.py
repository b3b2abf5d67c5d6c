"""Fixtures of the HA tests: one migrated PostgreSQL database and one Redis per run,
and RabbitMQ for the failover test's jobs.

The tests start their own servers, workers and beats on them (tests/ha/harness.py);
they need PostgreSQL (the processes share the database) and run in the PostgreSQL
run of the suite. Redis is a private ``redis-server`` on a free port when the binary
is installed, else database 12 of the Redis on 127.0.0.1:6379 (each cluster keeps to
its own key prefix there, and removes its keys afterwards). RabbitMQ is the one on
127.0.0.1:5672 (``BK_HA_AMQP_URL`` to use another); each cluster has its own queue
and deletes it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.processes import RedisServer, port_open, postgres_reachable

from .harness import scratch_database

SHARED_REDIS_URL = "redis://127.0.0.1:6379/12"
AMQP_URL = os.environ.get("BK_HA_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if RedisServer.available():
        with RedisServer() as server:
            yield server.url
    elif port_open(6379):
        yield SHARED_REDIS_URL
    else:
        pytest.skip("the HA tests need redis-server, or Redis on 127.0.0.1:6379")


@pytest.fixture(scope="session")
def database_url(redis_url: str) -> Iterator[str]:
    if not postgres_reachable():
        pytest.skip("the HA tests need PostgreSQL on 127.0.0.1:5432 (or DATABASE_URL)")
    with scratch_database(redis_url) as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """RabbitMQ, the broker of the failover test: a consumer that dies gives its
    unacknowledged messages back when its connection closes. (With Redis as broker, a
    worker killed between popping a message and recording it as unacknowledged loses
    it: see docs/howto/high-availability.md.)"""
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        reason = f"the failover test needs RabbitMQ at {AMQP_URL}: {exc}"
        if os.environ.get("CI") == "1":
            pytest.fail(reason)  # .ci/run starts RabbitMQ: not reaching it is a failure
        pytest.skip(reason)
    return AMQP_URL
