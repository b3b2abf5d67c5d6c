"""PostgreSQL only: a request thread keeps its pooled connection across requests.

A ``bk_pooled`` alias added for this module reaches the test database through
Django's real psycopg pool; a connection is taken from it, and the end of a request is played the way ``PooledASGIHandler``
plays it (``keep_pooled_connections``, then ``request_finished`` with Django's own
``close_old_connections``); the pool's own counters say whether it was given back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import connection, connections
from django.test import override_settings

from backend_kit.handler import PooledASGIHandler, keep_pooled_connections

from .support import kit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", "bk_pooled"]),
]

POOL_SIZE = 4


@pytest.fixture(scope="module", autouse=True)
def _pooled_alias(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The ``bk_pooled`` alias, for this module only (module fixtures run before the
    per-test database setup, which checks the aliases a test asks for)."""
    settings = {**connections["default"].settings_dict}  # the test database by now
    settings["OPTIONS"] = {"pool": {"min_size": 0, "max_size": POOL_SIZE}}
    connections.settings["bk_pooled"] = settings
    yield
    with django_db_blocker.unblock():
        if hasattr(connections._connections, "bk_pooled"):
            connections["bk_pooled"].close()
            connections["bk_pooled"].close_pool()
            del connections["bk_pooled"]
    connections.settings.pop("bk_pooled", None)


@pytest.fixture
def db() -> Iterator[Any]:
    """The ``bk_pooled`` alias: the test database through a psycopg pool of 4."""
    wrapper = connections["bk_pooled"]
    wrapper.close()
    wrapper.bk_checkouts_before = 0
    wrapper.bk_checkouts_before = checkouts(wrapper)
    yield wrapper
    wrapper.close()
    # the pool's idle connections would keep the test database from being dropped
    wrapper.close_pool()


def end_of_request(threads: int) -> None:
    keep_pooled_connections(threads)
    signals.request_finished.send(sender=PooledASGIHandler)


def checkouts(wrapper: Any) -> int:
    """Connections taken from the pool since the fixture started."""
    taken = int(wrapper.pool.get_stats().get("requests_num", 0))
    return taken - getattr(wrapper, "bk_checkouts_before", 0)


def query(wrapper: Any) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_thread_keeps_its_connection_across_requests(db: Any) -> None:
    first = query(db)
    end_of_request(threads=2)
    assert db.connection is not None  # still held by this thread
    signals.request_started.send(sender=PooledASGIHandler)
    assert query(db) == first  # the same server process: no new checkout
    end_of_request(threads=2)
    assert checkouts(db) == 1


def test_the_connection_goes_back_once_its_time_is_up(db: Any) -> None:
    query(db)
    end_of_request(threads=2)
    db.close_at -= 3600  # its KEEP_DB_CONNECTIONS are over
    end_of_request(threads=2)  # not kept a second time: back to the pool
    assert db.connection is None
    query(db)
    assert checkouts(db) == 2


def test_a_connection_that_saw_an_error_and_no_longer_answers_is_given_back(db: Any) -> None:
    pid = query(db)
    end_of_request(threads=2)
    with connection.cursor() as cursor:  # the server side of the kept connection dies
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    db.errors_occurred = True  # as Django marks it when a query fails
    end_of_request(threads=2)
    assert db.connection is None
    assert query(db) != pid


@pytest.mark.parametrize("threads, keep", [(POOL_SIZE, 60), (2, 0)])
def test_a_small_pool_or_no_keeping_gives_it_back_after_each_request(
    db: Any, threads: int, keep: int
) -> None:
    with override_settings(BACKEND_KIT=kit(KEEP_DB_CONNECTIONS=keep)):
        query(db)
        end_of_request(threads)
        assert db.connection is None
        query(db)
        end_of_request(threads)
    assert checkouts(db) == 2


def test_without_a_pool_django_decides(db: Any) -> None:
    query(connection)
    end_of_request(threads=2)
    assert connection.connection is None  # CONN_MAX_AGE=0 and no pool: closed, as ever
