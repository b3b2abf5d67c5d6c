"""Runs of creates in a batch go in together, and each still gets its own exact answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend_kit import api as bk_api
from backend_kit.cloud import after_save, before_save, registry
from backend_kit.objects import writes
from tests.conftest import ParseClient

pytestmark = pytest.mark.django_db


def creates(class_name: str, bodies: list[Any]) -> list[dict[str, Any]]:
    return [{"method": "POST", "path": f"/parse/classes/{class_name}", "body": b} for b in bodies]


@pytest.fixture
def schema(master: ParseClient) -> None:
    r = master.post(
        "schemas/Note",
        {"className": "Note", "fields": {"n": {"type": "Number"}, "s": {"type": "String"}}},
    )
    assert r.status_code == 200, r.json_body


@pytest.fixture
def inserts() -> Iterator[Callable[[], list[str]]]:
    """The INSERT statements into the objects table the database received so far."""
    with CaptureQueriesContext(connection) as queries:
        yield lambda: [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].lstrip().upper().startswith("INSERT INTO") and "parseobject" in q["sql"]
        ]


@pytest.fixture
def triggers() -> Iterator[None]:
    snap = registry.snapshot()
    yield
    registry.restore(snap)


def test_a_run_of_creates_is_one_insert_and_answers_in_order(
    schema: None, api: ParseClient, master: ParseClient, inserts: Callable[[], list[str]]
) -> None:
    r = api.post("batch", {"requests": creates("Note", [{"n": i} for i in range(5)])})
    assert r.status_code == 200, r.json_body
    ids = [x["success"]["objectId"] for x in r.json_body]
    assert len(set(ids)) == 5 and all(
        set(x["success"]) == {"objectId", "createdAt"} for x in r.json_body
    )
    assert len(inserts()) == 1  # one multi-row statement
    for i, object_id in enumerate(ids):
        got = master.get(f"classes/Note/{object_id}").json_body
        assert got["n"] == i and got["createdAt"] == r.json_body[i]["success"]["createdAt"]


def test_bad_items_get_their_own_errors_and_the_rest_go_in(
    schema: None, api: ParseClient, master: ParseClient
) -> None:
    bodies = [
        {"n": 1},
        {"n": "not a number"},  # type mismatch: 111, as alone
        {"n": 2, "bad key!": 1},  # invalid field name: as alone
        {"n": 3, "tags": {"__op": "AddRelation", "objects": []}},  # relations: one by one
        {"n": 4, "extra": True},  # a new field: one by one, adds it
        {"n": 5},
    ]
    r = api.post("batch", {"requests": creates("Note", bodies)})
    assert r.status_code == 200, r.json_body
    alone = [api.post("classes/Note", b) for b in bodies]
    for grouped, single in zip(r.json_body, alone, strict=True):
        if single.status_code == 201:
            assert set(grouped["success"]) == set(single.json_body), (grouped, single.json_body)
        else:
            assert grouped == {"error": single.json_body}
    assert master.get("schemas/Note").json_body["fields"]["extra"]["type"] == "Boolean"


def test_a_clp_refusal_is_answered_per_item(schema: None, master: ParseClient) -> None:
    perms = {"create": {"requiresAuthentication": True}, "find": {"*": True}, "get": {"*": True}}
    assert master.put("schemas/Note", {"classLevelPermissions": perms}).status_code == 200
    anonymous = ParseClient()
    r = anonymous.post("batch", {"requests": creates("Note", [{"n": 1}, {"n": 2}])})
    single = anonymous.post("classes/Note", {"n": 3})
    assert single.status_code >= 400
    assert r.json_body == [{"error": single.json_body}] * 2
    assert master.get("classes/Note", count=1, limit=0).json_body["count"] == 0


def test_classes_with_a_before_save_trigger_go_one_by_one(
    schema: None, api: ParseClient, triggers: None, inserts: Callable[[], list[str]]
) -> None:
    seen: list[int] = []

    @before_save("Note")
    def stamp(request: Any) -> None:
        seen.append(request.object.get("n"))
        request.object.set("s", f"seen {len(seen)}")

    r = api.post("batch", {"requests": creates("Note", [{"n": 1}, {"n": 2}, {"n": 3}])})
    assert [x["success"]["s"] for x in r.json_body] == ["seen 1", "seen 2", "seen 3"]
    assert seen == [1, 2, 3] and len(inserts()) == 3


def test_after_save_runs_for_each_object_of_the_group(
    schema: None, api: ParseClient, triggers: None, django_capture_on_commit_callbacks: Any
) -> None:
    saved: list[int] = []

    @after_save("Note")
    def note(request: Any) -> None:
        saved.append(request.object.get("n"))

    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("batch", {"requests": creates("Note", [{"n": i} for i in range(4)])})
    assert r.status_code == 200
    assert sorted(saved) == [0, 1, 2, 3]


def test_guards_and_observers_see_each_sub_request_once(schema: None, api: ParseClient) -> None:
    guarded: list[str] = []
    observed: list[int] = []

    def guard(view: Any, request: Any) -> None:
        if getattr(request._request, "bk_batch", False):
            guarded.append(request.method)
            if request.data.get("n") == 2:
                from backend_kit.errors import ParseError

                raise ParseError(155, "slow down")

    def observer(view: Any, request: Any, response: Any) -> None:
        if getattr(request._request, "bk_batch", False):
            observed.append(response.status_code)

    bk_api.add_request_guard(guard)
    bk_api.add_response_observer(observer)
    try:
        r = api_client_batch([{"n": 1}, {"n": 2}, {"n": 3}])
    finally:
        bk_api._request_guards.remove(guard)
        bk_api._response_observers.remove(observer)
    assert r[1] == {"error": {"code": 155, "error": "slow down"}}
    assert "objectId" in r[0]["success"] and "objectId" in r[2]["success"]
    assert guarded == ["POST"] * 3
    assert sorted(observed) == [201, 201, 429]


def api_client_batch(bodies: list[Any]) -> list[dict[str, Any]]:
    r = ParseClient().post("batch", {"requests": creates("Note", bodies)})
    assert r.status_code == 200, r.json_body
    return r.json_body


def test_a_generated_id_already_taken_gets_another(
    schema: None, api: ParseClient, master: ParseClient, monkeypatch: Any
) -> None:
    taken = master.post("classes/Note", {"n": 0}).json_body["objectId"]
    ids = iter([taken, taken, "freshid001", "freshid002", "freshid003"])
    monkeypatch.setattr(writes, "new_object_id", lambda length=10: next(ids))
    r = api.post("batch", {"requests": creates("Note", [{"n": 1}, {"n": 2}])})
    got = [x["success"]["objectId"] for x in r.json_body]
    assert taken not in got and len(set(got)) == 2
    assert master.get("classes/Note", count=1, limit=0).json_body["count"] == 3


@pytest.mark.postgres
def test_a_unique_index_failure_sends_the_group_one_by_one(
    schema: None, api: ParseClient, master: ParseClient
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNIQUE INDEX note_s_unique ON backend_kit_objects_parseobject "
            "((data->>'s')) WHERE class_name = 'Note'"
        )
    r = api.post(
        "batch", {"requests": creates("Note", [{"s": "a"}, {"s": "b"}, {"s": "a"}, {"s": "c"}])}
    )
    assert [("success" in x) for x in r.json_body] == [True, True, False, True]
    assert r.json_body[2]["error"]["code"] == 137
    found = master.get("classes/Note", order="s").json_body["results"]
    assert [o["s"] for o in found] == ["a", "b", "c"]
