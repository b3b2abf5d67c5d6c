"""PostgreSQL only: atomic field operations under concurrency, and indexes the planner uses."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from backend_kit.objects import reads, writes
from backend_kit.objects.indexes import index_name
from backend_kit.objects.schema import create_class
from backend_kit.objects.sql import tables
from tests.conftest import ParseClient
from tests.support import MASTER

pytestmark = pytest.mark.postgres

THREADS = 16


def run_in_threads(jobs: list[Callable[[], None]]) -> None:
    """Run the jobs on THREADS threads; each thread has its own database connection."""
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(mine: list[Callable[[], None]]) -> None:
        try:
            start.wait()
            for job in mine:
                job()
        except BaseException as exc:  # reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(jobs[i::THREADS],)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def counter(transaction_db: Any) -> str:
    create_class(
        "Counter",
        {"n": {"type": "Number"}, "tags": {"type": "Array"}, "items": {"type": "Array"}},
    )
    return writes.create(MASTER, "Counter", {"n": 0, "tags": [], "items": []}).payload["objectId"]


@pytest.fixture
def transaction_db(transactional_db: Any) -> None:
    """Committed data, so that every thread's own connection sees it."""


def test_threads_use_their_own_connections(transaction_db: Any) -> None:
    pids: set[int] = set()
    lock = threading.Lock()

    def job() -> None:
        with lock:
            pids.add(backend_pid())

    run_in_threads([job] * THREADS)
    assert len(pids) == THREADS


def test_concurrent_increments(counter: str) -> None:
    def increment() -> None:
        writes.update(MASTER, "Counter", counter, {"n": {"__op": "Increment", "amount": 1}})

    run_in_threads([increment] * 1000)
    assert reads.get(MASTER, "Counter", counter, {})["n"] == 1000


def test_concurrent_add_unique_has_no_duplicates(counter: str) -> None:
    def add_unique(value: int) -> Callable[[], None]:
        return lambda: writes.update(
            MASTER,
            "Counter",
            counter,
            {"tags": {"__op": "AddUnique", "objects": [value, value % 7]}},
        )

    run_in_threads([add_unique(i % 50) for i in range(400)])
    tags = reads.get(MASTER, "Counter", counter, {})["tags"]
    assert sorted(tags) == list(range(50))
    assert len(tags) == len(set(tags))


def test_concurrent_add_loses_nothing(counter: str) -> None:
    def add(value: str) -> Callable[[], None]:
        return lambda: writes.update(
            MASTER, "Counter", counter, {"items": {"__op": "Add", "objects": [value]}}
        )

    values = [f"v{i}" for i in range(500)]
    run_in_threads([add(v) for v in values])
    items = reads.get(MASTER, "Counter", counter, {})["items"]
    assert sorted(items) == sorted(values)


def test_concurrent_mixed_ops_on_one_object(counter: str) -> None:
    def job(i: int) -> Callable[[], None]:
        return lambda: writes.update(
            MASTER,
            "Counter",
            counter,
            {
                "n": {"__op": "Increment", "amount": 2},
                "items": {"__op": "Add", "objects": [i]},
                "tags": {"__op": "AddUnique", "objects": [i % 3]},
            },
        )

    run_in_threads([job(i) for i in range(320)])
    obj = reads.get(MASTER, "Counter", counter, {})
    assert obj["n"] == 640
    assert sorted(obj["items"]) == list(range(320))
    assert sorted(obj["tags"]) == [0, 1, 2]


# --- indexes and the planner --------------------------------------------------------------------

ROWS = 100_000


@pytest.fixture
def big(master: ParseClient) -> str:
    r = master.post(
        "schemas/Big",
        {"className": "Big", "fields": {"n": {"type": "Number"}, "tags": {"type": "Array"}}},
    )
    assert r.status_code == 200, r.json_body
    table, _ = tables(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} ("class_name", "object_id", "data", "acl", "read_principals",
                                 "write_principals", "created_at", "updated_at")
            SELECT 'Big', 'b' || g,
                   jsonb_build_object('n', g, 'tags', jsonb_build_array(g, 'k' || (g %% 10))),
                   NULL, '{{"*": true}}'::jsonb, '{{"*": true}}'::jsonb, now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [ROWS],
        )
        cursor.execute(f"ANALYZE {table}")
    return "Big"


def plan(master: ParseClient, where: dict[str, Any]) -> str:
    r = master.get("classes/Big", where=where, explain=True)
    assert r.status_code == 200, r.json_body
    return "\n".join(" ".join(row) for entry in r.json_body["results"] for row in entry["plan"])


def analyze() -> None:
    table, _ = tables(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def test_equality_uses_a_declared_index(master: ParseClient, big: str) -> None:
    r = master.get("classes/Big", where={"n": 77777})
    assert [o["objectId"] for o in r.json_body["results"]] == ["b77777"]
    before = plan(master, {"n": 77777})
    assert "Seq Scan" in before, before
    name = index_name("Big", "by_n")
    assert name not in before

    r = master.put("schemas/Big", {"indexes": {"by_n": {"n": 1}}})
    assert r.status_code == 200, r.json_body
    analyze()  # expression statistics, as autovacuum would gather them
    after = plan(master, {"n": 77777})
    assert name in after, after
    assert "Index Scan" in after or "Bitmap Index Scan" in after, after
    # and the answer is the same
    r = master.get("classes/Big", where={"n": 77777})
    assert [o["objectId"] for o in r.json_body["results"]] == ["b77777"]

    master.put("schemas/Big", {"indexes": {"by_n": {"__op": "Delete"}}})
    assert name not in plan(master, {"n": 77777})


def test_range_uses_a_declared_index(master: ParseClient, big: str) -> None:
    master.put("schemas/Big", {"indexes": {"by_n": {"n": 1}}})
    analyze()
    explained = plan(master, {"n": {"$gte": 500, "$lt": 510}})
    assert index_name("Big", "by_n") in explained, explained
    r = master.get("classes/Big", where={"n": {"$gte": 500, "$lt": 510}}, count=1, limit=0)
    assert r.json_body["count"] == 10


def test_array_containment_uses_a_gin_index(master: ParseClient, big: str) -> None:
    before = plan(master, {"tags": 4242})
    assert "Seq Scan" in before, before
    r = master.put("schemas/Big", {"indexes": {"by_tags": {"tags": 1}}})
    assert r.status_code == 200, r.json_body
    analyze()
    name = index_name("Big", "by_tags")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        assert "gin" in cursor.fetchone()[0].lower()
    for where in ({"tags": 4242}, {"tags": {"$all": [4242, "k2"]}}):
        explained = plan(master, where)
        assert name in explained, (where, explained)
        assert "Bitmap Index Scan" in explained, explained
    r = master.get("classes/Big", where={"tags": {"$all": [4242, "k2"]}})
    assert [o["objectId"] for o in r.json_body["results"]] == ["b4242"]


def test_a_prepared_query_on_a_declared_index_is_planned_once(
    api: ParseClient, master: ParseClient, big: str
) -> None:
    """A declared index is partial (``WHERE class_name = 'Big'``): PostgreSQL can give the
    prepared statement a generic plan that uses it only if the class is written into the
    statement (``compiler.class_is``). With the class as a parameter every run was planned
    anew (``custom_plans`` grew, ``generic_plans`` stayed 0)."""
    from backend_kit.objects import prepared

    master.put("schemas/Big", {"indexes": {"by_n": {"n": 1}}})
    analyze()
    runs = prepared.THRESHOLD + 6
    for i in range(runs):
        r = api.get("classes/Big", where={"n": 1000 + i}, order="-createdAt", limit=5)
        assert [o["objectId"] for o in r.json_body["results"]] == [f"b{1000 + i}"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["%'n'%"],
        )
        held = cursor.fetchall()
    assert len(held) == 1, held
    statement, generic, custom = held[0]
    assert "'Big'" in statement and "1005" not in statement  # the class in, the value apart
    # psycopg prepares on the THRESHOLD-th run; PostgreSQL tries five custom plans
    # and then keeps the generic one for the rest
    assert generic >= 1 and custom <= 5, (generic, custom)


def test_concurrent_first_writes_create_the_class_and_fields_once(transaction_db: Any) -> None:
    def job(i: int) -> Callable[[], None]:
        return lambda: writes.create(MASTER, "Fresh", {"common": i, f"own{i % 8}": "x"})

    run_in_threads([job(i) for i in range(64)])
    assert reads.find(MASTER, "Fresh", {"count": 1, "limit": 0})["count"] == 64
    from backend_kit.objects.schema import get_schema

    fields = get_schema("Fresh", fresh=True).fields
    assert fields["common"] == {"type": "Number"}
    assert {f"own{i}" for i in range(8)} <= set(fields)


def test_concurrent_conflicting_field_types_leave_one_type(transaction_db: Any) -> None:
    create_class("Typed")
    outcomes: list[str] = []
    lock = threading.Lock()

    def job(value: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                writes.create(MASTER, "Typed", {"v": value})
                result = "ok"
            except Exception as exc:  # the error code is what is checked
                result = str(getattr(exc, "code", repr(exc)))
            with lock:
                outcomes.append(result)

        return run

    run_in_threads([job(1 if i % 2 else "one") for i in range(32)])
    assert set(outcomes) <= {"ok", "111"}, outcomes
    from backend_kit.objects.schema import get_schema

    kind = get_schema("Typed", fresh=True).fields["v"]["type"]
    stored = reads.find(MASTER, "Typed", {"limit": 100})["results"]
    expected_python = int if kind == "Number" else str
    assert all(isinstance(o["v"], expected_python) for o in stored)
    assert outcomes.count("ok") == len(stored)


def plan_params(master: ParseClient, **params: Any) -> str:
    r = master.get("classes/Big", explain=True, **params)
    assert r.status_code == 200, r.json_body
    return "\n".join(" ".join(row) for entry in r.json_body["results"] for row in entry["plan"])


def test_sorting_uses_a_declared_index_both_ways(master: ParseClient, big: str) -> None:
    name = index_name("Big", "by_n")
    assert name not in plan_params(master, order="n", limit=20)
    master.put("schemas/Big", {"indexes": {"by_n": {"n": 1}}})
    analyze()
    for order in ("n", "-n"):
        explained = plan_params(master, order=order, limit=20)
        assert name in explained and "Sort " not in explained, (order, explained)
    first = master.get("classes/Big", order="-n", limit=2).json_body["results"]
    assert [o["n"] for o in first] == [ROWS, ROWS - 1]


def test_default_text_search_uses_the_text_index(master: ParseClient, big: str) -> None:
    master.put("schemas/Big", {"fields": {"body": {"type": "String"}}})
    table, _ = tables(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET "data" = "data" || jsonb_build_object('body',
                CASE WHEN mod(("data" ->> 'n')::int, 1000) = 0 THEN 'café crème ' || ("data" ->> 'n')
                     ELSE 'plain text ' || ("data" ->> 'n') END)
                WHERE "class_name" = 'Big'"""
        )
    r = master.put("schemas/Big", {"indexes": {"by_body": {"body": "text"}}})
    assert r.status_code == 200, r.json_body
    analyze()
    where = {"body": {"$text": {"$search": {"$term": "cafe"}}}}
    explained = plan(master, where)
    assert index_name("Big", "by_body") in explained, explained
    found = master.get("classes/Big", where=where, count=1, limit=0).json_body["count"]
    assert found == ROWS // 1000  # accents folded: "cafe" finds "café"


def test_a_sorted_page_formats_only_the_rows_it_returns(master: ParseClient, big: str) -> None:
    """The wire form of the timestamps (``to_char``) is computed above the LIMIT: for the
    page's rows, not for every row the sort had to look at (``reads._select_sql``)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        r = master.get("classes/Big", where={"n": {"$lte": 5000}}, order="-n", limit=3, skip=2)
    assert [o["n"] for o in r.json_body["results"]] == [4998, 4997, 4996]
    assert all(o["createdAt"].endswith("Z") for o in r.json_body["results"])
    select = next(q["sql"] for q in queries.captured_queries if "to_char" in (q["sql"] or ""))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (VERBOSE, COSTS OFF) {select}")
        plan_lines = [row[0] for row in cursor.fetchall()]
    limit_at = next(
        i for i, line in enumerate(plan_lines) if line.strip().lstrip("-> ").startswith("Limit")
    )
    below_limit = "\n".join(plan_lines[limit_at:])
    assert "to_char" not in below_limit, "\n".join(plan_lines)
    assert "to_char" in "\n".join(plan_lines[:limit_at]), "\n".join(plan_lines)
