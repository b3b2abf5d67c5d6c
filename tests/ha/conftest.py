"""Fixtures of the HA tests: one migrated PostgreSQL database and one Redis per run.

The tests start their own servers, workers and beats on them (tests/ha/harness.py);
they need PostgreSQL (the processes share the database) and run in the PostgreSQL
run of the suite. Redis is a private ``redis-server`` on a free port when the binary
is installed, else database 12 of the Redis on 127.0.0.1:6379 (each cluster keeps to
its own key prefix there, and removes its keys afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.realtime.harness import RedisServer, port_open

from .harness import postgres_reachable, scratch_database

SHARED_REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if RedisServer.available():
        server = RedisServer()
        server.start()
        try:
            yield server.url
        finally:
            server.stop()
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
