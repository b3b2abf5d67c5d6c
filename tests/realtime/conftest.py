"""Fixtures of the realtime tests: one PostgreSQL database, one private Redis and the
uvicorn processes (started once per run, in the order the tests need them)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest

from tests.processes import RedisServer, free_port, postgres_reachable

from .harness import AsgiServer, Rest, scratch_database, server_env

# Server A pings often, so the dead-socket test finishes quickly; every other client
# used on it answers pings on its own.
PING_ARGS = ("--ws-ping-interval", "1", "--ws-ping-timeout", "2")
SEND_QUEUE = 16
CLASSES = {
    "LQItem": {},
    "LQOther": {"protectedFields": {"*": ["secret"]}},
    "LQBig": {},
}


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if not postgres_reachable():
        pytest.skip("realtime tests need PostgreSQL on 127.0.0.1:5432")
    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    if not RedisServer.available():
        pytest.skip("redis-server is not installed: the channels_redis tests need it")
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def layer_prefix() -> str:
    return "bk_lq_" + secrets.token_hex(4)


def _server(database_url: str, redis: RedisServer, prefix: str, *args: str) -> AsgiServer:
    port = free_port()
    env = server_env(
        database_url, redis_url=redis.url, port=port, prefix=prefix, send_queue=SEND_QUEUE
    )
    return AsgiServer(env, port, *args)


@pytest.fixture(scope="session")
def server(database_url: str, redis: RedisServer, layer_prefix: str) -> Iterator[AsgiServer]:
    """Server A: one uvicorn worker on the shared channels_redis layer, quick pings."""
    server = _server(database_url, redis, layer_prefix, *PING_ARGS)
    server.start()
    try:
        _create_classes(Rest(server.origin))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server_b(
    server: AsgiServer, database_url: str, redis: RedisServer, layer_prefix: str
) -> Iterator[AsgiServer]:
    """Server B: a second process on the same database and Redis, uvicorn's own pings
    (its slow-client test needs a client that does not answer them for a while)."""
    other = _server(database_url, redis, layer_prefix)
    other.start()
    try:
        yield other
    finally:
        other.stop()


def _create_classes(rest: Rest) -> None:
    for name, clp in CLASSES.items():
        body: dict = {"className": name, "fields": {"secret": {"type": "String"}}}
        if clp:
            body["classLevelPermissions"] = {
                "find": {"*": True},
                "get": {"*": True},
                "count": {"*": True},
                "create": {"*": True},
                "update": {"*": True},
                "delete": {"*": True},
                "addField": {"*": True},
                **clp,
            }
        rest.call("POST", f"schemas/{name}", body, master=True)


@pytest.fixture
def rest(server: AsgiServer) -> Rest:
    return Rest(server.origin)


@pytest.fixture
def tag() -> str:
    """A value that keeps one test's objects (and events) apart from the others'."""
    return uuid.uuid4().hex[:12]
