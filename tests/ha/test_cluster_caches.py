"""A schema change on one server process binds the next request on another, at once.

Each process keeps the schema version it read and drops it when Redis tells it of a
change (``backend_kit.versions``); the change's response waits until every process has
acknowledged. So a client that changes a class-level permission or adds a field on
one process, and sends its next request to another, gets the new rule there: no
interval in which the other process still serves from its old copy.

Reproduce::

    TEST_DATABASE_NAME=test_bk_ha .venv/bin/python -m pytest \
        --ds=tests.projects.postgres.settings -p no:cacheprovider -q -s tests/ha/test_cluster_caches.py
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .harness import Cluster, Proc, create_class, headers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROUNDS = 15
CLASS = "CLVersions"
OPEN = {"*": True}
CLP_KEYS = ("get", "count", "create", "update", "delete", "addField")


@pytest.fixture(scope="module")
def pair(database_url: str, redis_url: str) -> Iterator[tuple[Cluster, Proc, Proc]]:
    cluster = Cluster(database_url, redis_url)
    try:
        a, b = cluster.asgi(), cluster.asgi()
        cluster.start(a, b)
        create_class(a.origin, CLASS, {"n": "Number"})
        yield cluster, a, b
    finally:
        cluster.clean_up()


def set_find(client: httpx.Client, origin: str, allowed: bool) -> None:
    clp: dict[str, Any] = dict.fromkeys(CLP_KEYS, OPEN)
    clp["find"] = OPEN if allowed else {}
    r = client.put(
        f"{origin}/parse/schemas/{CLASS}",
        json={"className": CLASS, "classLevelPermissions": clp},
        headers=headers(master=True),
    )
    assert r.status_code == 200, r.text


def find(client: httpx.Client, origin: str) -> httpx.Response:
    return client.get(f"{origin}/parse/classes/{CLASS}", headers=headers())


def test_a_permission_changed_on_one_process_binds_the_other_at_once(
    pair: tuple[Cluster, Proc, Proc],
) -> None:
    _, a, b = pair
    with httpx.Client(timeout=30) as client:
        r = client.post(f"{a.origin}/parse/classes/{CLASS}", json={"n": 1}, headers=headers())
        assert r.status_code == 201, r.text
        for origin in (a.origin, b.origin):  # both processes hold the schema now
            assert find(client, origin).status_code == 200
        took = []
        for i in range(ROUNDS):
            changed, other = (a, b) if i % 2 == 0 else (b, a)
            started = time.monotonic()
            set_find(client, changed.origin, allowed=False)
            took.append(time.monotonic() - started)
            refused = find(client, other.origin)
            assert refused.status_code == 400, (i, refused.text)
            assert refused.json()["code"] == 119
            set_find(client, other.origin, allowed=True)
            assert find(client, changed.origin).status_code == 200, i
    took.sort()
    print(
        f"\n[versions] {ROUNDS} permission changes, each answered after both processes "
        f"dropped their copy: median {took[len(took) // 2] * 1000:.1f} ms, "
        f"max {took[-1] * 1000:.1f} ms"
    )


def test_a_field_added_on_one_process_is_typed_on_the_other_at_once(
    pair: tuple[Cluster, Proc, Proc],
) -> None:
    _, a, b = pair
    with httpx.Client(timeout=30) as client:
        set_find(client, a.origin, allowed=True)
        for origin in (a.origin, b.origin):
            assert find(client, origin).status_code == 200
        for i in range(ROUNDS):
            field = f"f{i}_{secrets.token_hex(3)}"
            changed, other = (a, b) if i % 2 == 0 else (b, a)
            r = client.put(
                f"{changed.origin}/parse/schemas/{CLASS}",
                json={"className": CLASS, "fields": {field: {"type": "String"}}},
                headers=headers(master=True),
            )
            assert r.status_code == 200, r.text
            wrong = client.post(
                f"{other.origin}/parse/classes/{CLASS}", json={field: 5}, headers=headers()
            )
            assert wrong.status_code == 400, (i, wrong.text)
            assert wrong.json()["code"] == 111  # incorrect type: the other process knows it
