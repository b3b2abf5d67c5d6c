"""``GET /aggregate/<class>``: pipelines, distinct, the SQL shortcuts and bad input.

Runs on SQLite (default) and on PostgreSQL (``--ds=tests.projects.postgres.settings``).
The equivalence tests run each pipeline twice, with the SQL shortcuts on and off, and
check the SQL one really ran in the database (GROUP BY, ORDER BY ... LIMIT).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from backend_kit.context import RequestContext
from backend_kit.objects.aggregation import aggregate
from backend_kit.objects.aggregation import sql as aggregation_sql

from ..conftest import APP_ID, MASTER_KEY

MASTER = RequestContext.master(app_id=APP_ID)


def agg(client: Any, class_name: str, **params: Any) -> Any:
    return client.get(f"aggregate/{class_name}", **params)


def results(client: Any, class_name: str, **params: Any) -> list[Any]:
    r = agg(client, class_name, **params)
    assert r.status_code == 200, r.json_body
    return r.json_body["results"]


def create(client: Any, class_name: str, **fields: Any) -> str:
    r = client.post(f"classes/{class_name}", fields)
    assert r.status_code == 201, r.json_body
    return r.json_body["objectId"]


def date(iso: str) -> dict[str, str]:
    return {"__type": "Date", "iso": iso}


def pointer(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


@pytest.fixture
def scores(master: Any) -> list[str]:
    """The data set of Parse Server's aggregate tests."""
    rows = [
        {"score": 10, "name": "foo", "sender": {"group": "A"}, "views": 900, "size": ["S", "M"]},
        {"score": 10, "name": "foo", "sender": {"group": "A"}, "views": 800, "size": ["M", "L"]},
        {"score": 10, "name": "bar", "sender": {"group": "B"}, "views": 700, "size": ["S"]},
        {"score": 20, "name": "dpl", "sender": {"group": "B"}, "views": 700, "size": ["S"]},
    ]
    return [create(master, "Score", **row) for row in rows]


# --- access ----------------------------------------------------------------------------


def test_requires_the_master_key(api: Any, scores: list[str]) -> None:
    kit = {**settings.BACKEND_KIT, "SANITIZE_PERMISSION_ERRORS": False}
    with override_settings(BACKEND_KIT=kit):
        r = agg(api, "Score", pipeline=[{"$group": {"_id": "$name"}}])
        assert r.status_code == 403
        assert r.json_body == {"error": "unauthorized: master key is required"}
    # By default the refusal may be sanitized, as Parse 9 does; it is still a 403.
    r = agg(api, "Score", distinct="score")
    assert r.status_code == 403
    assert r.json_body["error"] in ("unauthorized: master key is required", "Permission denied")


def test_read_only_master_key_may_aggregate(scores: list[str]) -> None:
    from ..conftest import ParseClient

    kit = {**settings.BACKEND_KIT, "READ_ONLY_MASTER_KEY": "read-only-key"}
    with override_settings(BACKEND_KIT=kit):
        client = ParseClient()
        client.headers = lambda extra=None: {  # type: ignore[method-assign]
            "X-Parse-Application-Id": APP_ID,
            "X-Parse-Master-Key": "read-only-key",
        }
        assert len(results(client, "Score", distinct="name")) == 3


def test_js_sdk_tunnelled_request(master: Any, scores: list[str]) -> None:
    """The JS SDK POSTs text/plain JSON with _method GET and the keys in the body."""
    body = {
        "_method": "GET",
        "_ApplicationId": APP_ID,
        "_MasterKey": MASTER_KEY,
        "pipeline": [{"$match": {"name": "foo"}}, {"$group": {"_id": "$name"}}],
        "hint": None,
    }
    r = master.client.post("/parse/aggregate/Score", orjson.dumps(body), content_type="text/plain")
    assert r.status_code == 200, r.content
    assert orjson.loads(r.content) == {"results": [{"objectId": "foo"}]}
    body = {"_method": "GET", "_ApplicationId": APP_ID, "_MasterKey": MASTER_KEY}
    body.update(distinct="score", where={"name": "foo"})
    r = master.client.post("/parse/aggregate/Score", orjson.dumps(body), content_type="text/plain")
    assert orjson.loads(r.content) == {"results": [10]}


# --- pipeline forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"pipeline": [{"$group": {"_id": "$name"}}]},
        {"pipeline": {"$group": {"_id": "$name"}}},
        {"$group": {"_id": "$name"}},
        {"group": {"_id": "$name"}},
        {"pipeline": [{"group": {"objectId": "$name"}}]},
    ],
    ids=["array", "object", "top-level", "bare-name", "objectId-key"],
)
def test_pipeline_forms(master: Any, scores: list[str], params: dict[str, Any]) -> None:
    assert results(master, "Score", **params) == [
        {"objectId": "bar"},
        {"objectId": "dpl"},
        {"objectId": "foo"},
    ]


def test_unknown_class_and_empty_pipeline(master: Any, scores: list[str]) -> None:
    assert results(master, "Nothing", pipeline=[{"$group": {"_id": None, "n": {"$sum": 1}}}]) == []
    assert results(master, "Nothing", distinct="score") == []
    everything = results(master, "Score", pipeline=[])
    assert sorted(o["objectId"] for o in everything) == sorted(scores)
    assert set(everything[0]) == {
        "objectId",
        "createdAt",
        "updatedAt",
        "score",
        "name",
        "sender",
        "views",
        "size",
    }
    assert isinstance(everything[0]["createdAt"], str)


# --- $group -----------------------------------------------------------------------------------


def test_group_accumulators(master: Any, scores: list[str]) -> None:
    group = {
        "_id": None,
        "total": {"$sum": "$score"},
        "count": {"$sum": 1},
        "double": {"$sum": 2},
        "n": {"$count": {}},
        "avg": {"$avg": "$score"},
        "min": {"$min": "$score"},
        "max": {"$max": "$score"},
        "firstName": {"$min": "$name"},
        "missing": {"$sum": "$nothing"},
        "noAvg": {"$avg": "$nothing"},
    }
    assert results(master, "Score", pipeline=[{"$group": group}]) == [
        {
            "objectId": None,
            "total": 50,
            "count": 4,
            "double": 8,
            "n": 4,
            "avg": 12.5,
            "min": 10,
            "max": 20,
            "firstName": "bar",
            "missing": 0,
            "noAvg": None,
        }
    ]


def test_group_by_field_and_composite_key(master: Any, scores: list[str]) -> None:
    rows = results(
        master,
        "Score",
        pipeline=[{"$group": {"_id": "$score", "score": {"$sum": "$score"}}}],
    )
    assert rows == [{"objectId": 10, "score": 30}, {"objectId": 20, "score": 20}]
    rows = results(
        master,
        "Score",
        pipeline=[{"$group": {"_id": {"score": "$score", "views": "$views"}, "n": {"$sum": 1}}}],
    )
    assert sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows) == sorted(
        orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
        for r in [
            {"objectId": {"score": 10, "views": 700}, "n": 1},
            {"objectId": {"score": 10, "views": 800}, "n": 1},
            {"objectId": {"score": 10, "views": 900}, "n": 1},
            {"objectId": {"score": 20, "views": 700}, "n": 1},
        ]
    )
    nested = results(master, "Score", pipeline=[{"$group": {"_id": "$sender.group"}}])
    assert nested == [{"objectId": "A"}, {"objectId": "B"}]


def test_group_empty_keys_are_null(master: Any, scores: list[str]) -> None:
    for key in (None, "", {}, []):
        assert results(master, "Score", pipeline=[{"$group": {"_id": key, "n": {"$sum": 1}}}]) == [
            {"objectId": None, "n": 4}
        ]
    # No documents, no group (MongoDB), even for a constant key.
    empty = [{"$match": {"score": 99}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
    assert results(master, "Score", pipeline=empty) == []


def test_group_by_pointer(master: Any) -> None:
    a = create(master, "Owner", name="a")
    b = create(master, "Owner", name="b")
    for owner in (a, b, a, None):
        create(master, "Pet", **({"owner": pointer("Owner", owner)} if owner else {"x": 1}))
    rows = results(master, "Pet", pipeline=[{"$group": {"_id": "$owner", "n": {"$sum": 1}}}])
    assert {r["objectId"]: r["n"] for r in rows} == {a: 2, b: 1, None: 1}
    # Pointers are matched by their object id, as in Parse on MongoDB.
    matched = results(master, "Pet", pipeline=[{"$match": {"owner": a}}])
    assert len(matched) == 2
    assert matched[0]["owner"] == pointer("Owner", a)
    assert len(results(master, "Pet", pipeline=[{"$match": {"owner": {"$in": [b]}}}])) == 1


def test_group_by_date_parts(master: Any) -> None:
    for iso in ("2021-01-01T10:20:30.456Z", "2021-01-01T23:00:00.000Z", "2024-12-30T00:00:00.000Z"):
        create(master, "Event", when=date(iso))
    create(master, "Event", other=1)
    key = {
        "year": {"$year": "$when"},
        "month": {"$month": "$when"},
        "day": {"$dayOfMonth": "$when"},
    }
    rows = results(master, "Event", pipeline=[{"$group": {"_id": key, "n": {"$sum": 1}}}])
    assert [((r["objectId"] or {}).get("year"), r["n"]) for r in rows] == [
        (None, 1),
        (2021, 2),
        (2024, 1),
    ]
    parts = [
        "$year",
        "$month",
        "$dayOfMonth",
        "$hour",
        "$minute",
        "$second",
        "$millisecond",
        "$dayOfYear",
        "$dayOfWeek",
        "$isoDayOfWeek",
        "$week",
        "$isoWeek",
        "$isoWeekYear",
    ]
    key = {p[1:]: {p: "$when"} for p in parts}
    pipeline = [{"$match": {"when": {"$gte": "2021-01-01T10:00:00.000Z"}}}]
    pipeline.append({"$group": {"_id": key}})
    pipeline.append({"$sort": {"_id.year": 1, "_id.hour": 1}})
    rows = results(master, "Event", pipeline=pipeline)
    assert [r["objectId"] for r in rows] == [
        # Friday 1 January 2021: ISO week 53 of 2020, week 0 counting from Sundays.
        {
            "year": 2021, "month": 1, "dayOfMonth": 1, "hour": 10, "minute": 20, "second": 30,
            "millisecond": 456, "dayOfYear": 1, "dayOfWeek": 6, "isoDayOfWeek": 5, "week": 0,
            "isoWeek": 53, "isoWeekYear": 2020,
        },
        {
            "year": 2021, "month": 1, "dayOfMonth": 1, "hour": 23, "minute": 0, "second": 0,
            "millisecond": 0, "dayOfYear": 1, "dayOfWeek": 6, "isoDayOfWeek": 5, "week": 0,
            "isoWeek": 53, "isoWeekYear": 2020,
        },
        # Monday 30 December 2024: ISO week 1 of 2025.
        {
            "year": 2024, "month": 12, "dayOfMonth": 30, "hour": 0, "minute": 0, "second": 0,
            "millisecond": 0, "dayOfYear": 365, "dayOfWeek": 2, "isoDayOfWeek": 1, "week": 52,
            "isoWeek": 1, "isoWeekYear": 2025,
        },
    ]  # fmt: skip


def test_group_by_created_at(master: Any, scores: list[str]) -> None:
    created = results(master, "Score", pipeline=[{"$project": {"createdAt": 1}}])[0]["createdAt"]
    year = int(created[:4])
    rows = results(
        master,
        "Score",
        pipeline=[{"$group": {"_id": {"y": {"$year": "$_created_at"}}, "n": {"$sum": 1}}}],
    )
    assert rows == [{"objectId": {"y": year}, "n": 4}]
    rows = results(
        master,
        "Score",
        pipeline=[{"$group": {"_id": None, "first": {"$min": "$createdAt"}}}],
    )
    assert rows[0]["first"]["__type"] == "Date"
    by_day = results(master, "Score", pipeline=[{"$group": {"_id": "$createdAt"}}])
    assert all(r["objectId"]["__type"] == "Date" for r in by_day)


def test_group_python_only_accumulators(master: Any, scores: list[str]) -> None:
    group = {
        "_id": "$score",
        "names": {"$addToSet": "$name"},
        "views": {"$push": "$views"},
        "first": {"$first": "$name"},
        "last": {"$last": "$name"},
    }
    pipeline = [{"$sort": {"views": -1}}, {"$group": group}]
    assert results(master, "Score", pipeline=pipeline) == [
        {"objectId": 10, "names": ["foo", "bar"], "views": [900, 800, 700], "first": "foo",
         "last": "bar"},
        {"objectId": 20, "names": ["dpl"], "views": [700], "first": "dpl", "last": "dpl"},
    ]  # fmt: skip


# --- $match, $project, $sort, $limit, $skip, $unwind, $count -----------------------------


def test_match(master: Any, scores: list[str]) -> None:
    def names(match: Any) -> list[str]:
        pipeline = [{"$match": match}, {"$sort": {"views": 1, "name": 1}}]
        rows = results(master, "Score", pipeline=pipeline)
        return [r["name"] for r in rows]

    assert names({"score": {"$gt": 15}}) == ["dpl"]
    assert names({"score": {"$gt": 5, "$lt": 15}, "views": 900}) == ["foo"]
    assert names({"$or": [{"score": 20}, {"views": {"$gt": 750, "$lt": 850}}]}) == ["dpl", "foo"]
    assert names({"_id": scores[2]}) == ["bar"]
    assert names({"createdAt": {"$gte": "2000-01-01T00:00:00.000Z"}, "name": "bar"}) == ["bar"]
    assert names({"sender.group": "B"}) == ["bar", "dpl"]
    assert names({"createdAt": "2100-01-01T00:00:00.000Z"}) == []
    # Two leading $match stages both filter in SQL.
    pipeline = [{"$match": {"score": 10}}, {"$match": {"name": "foo"}}, {"$count": "n"}]
    assert results(master, "Score", pipeline=pipeline) == [{"n": 2}]


def test_match_after_group(master: Any, scores: list[str]) -> None:
    pipeline = [
        {"$group": {"_id": "$name", "total": {"$sum": "$views"}}},
        {"$match": {"total": {"$gte": 1000}}},
    ]
    assert results(master, "Score", pipeline=pipeline) == [{"objectId": "foo", "total": 1700}]
    pipeline = [{"$group": {"_id": "$score"}}, {"$match": {"objectId": 20}}]
    assert results(master, "Score", pipeline=pipeline) == [{"objectId": 20}]
    pipeline = [{"$group": {"_id": "$name"}}, {"$match": {"_id": {"$in": ["bar", "dpl"]}}}]
    assert results(master, "Score", pipeline=pipeline) == [{"objectId": "bar"}, {"objectId": "dpl"}]


def test_project(master: Any, scores: list[str]) -> None:
    rows = results(master, "Score", pipeline=[{"$project": {"name": 1, "sender.group": 1}}])
    assert all(set(r) == {"objectId", "name", "sender"} for r in rows)
    assert rows[0]["sender"] == {"group": rows[0]["sender"]["group"]}
    rows = results(master, "Score", pipeline=[{"$project": {"_id": 0, "updatedAt": 1}}])
    assert all(set(r) == {"updatedAt"} and isinstance(r["updatedAt"], str) for r in rows)
    rows = results(master, "Score", pipeline=[{"$project": {"size": 0, "sender": 0, "_id": 0}}])
    assert all(set(r) == {"createdAt", "updatedAt", "score", "name", "views"} for r in rows)
    rows = results(
        master,
        "Score",
        pipeline=[
            {"$match": {"name": "bar"}},
            {"$project": {"who": "$name", "g": "$sender.group"}},
        ],
    )
    assert rows == [{"objectId": scores[2], "who": "bar", "g": "B"}]
    # $project then $group (Parse's test): only the projected field is left to group.
    pipeline = {"$project": {"score": 1}, "$group": {"_id": "$score", "score": {"$sum": "$score"}}}
    assert results(master, "Score", pipeline=pipeline) == [
        {"objectId": 10, "score": 30},
        {"objectId": 20, "score": 20},
    ]


def test_sort_limit_skip(master: Any, scores: list[str]) -> None:
    def names(*stages: Any) -> list[str]:
        return [r.get("name") for r in results(master, "Score", pipeline=list(stages))]

    assert names({"$sort": {"name": 1}}) == ["bar", "dpl", "foo", "foo"]
    assert names({"$sort": {"name": -1}}) == ["foo", "foo", "dpl", "bar"]
    assert names({"$sort": {"score": -1, "views": 1}}) == ["dpl", "bar", "foo", "foo"]
    assert names({"$sort": {"views": 1, "name": 1}}, {"$skip": 1}, {"$limit": 2}) == [
        "dpl",
        "foo",
    ]
    assert len(names({"$limit": 2})) == 2
    assert len(names({"$skip": 3})) == 1
    assert names({"$sort": {"sender.group": -1, "score": 1}}, {"$limit": 1}) == ["bar"]
    grouped = results(
        master,
        "Score",
        pipeline=[
            {"$group": {"_id": "$name", "views": {"$sum": "$views"}}},
            {"$sort": {"views": -1}},
            {"$skip": 1},
            {"$limit": 1},
        ],
    )
    assert grouped == [{"objectId": "bar", "views": 700}]


def test_unwind(master: Any) -> None:
    for name, meta in [
        ("a", {"size": ["S", "M"]}),
        ("b", {"size": ["M"]}),
        ("c", {"size": []}),
        ("d", {"size": "XL"}),
        ("e", {}),
    ]:
        create(master, "Shirt", name=name, meta=meta)
    rows = results(
        master,
        "Shirt",
        pipeline=[{"$unwind": "$meta.size"}, {"$group": {"_id": "$meta.size", "n": {"$sum": 1}}}],
    )
    assert rows == [
        {"objectId": "M", "n": 2},
        {"objectId": "S", "n": 1},
        {"objectId": "XL", "n": 1},
    ]
    unwind = {"path": "$meta.size", "includeArrayIndex": "at", "preserveNullAndEmptyArrays": True}
    rows = results(
        master,
        "Shirt",
        pipeline=[{"$unwind": unwind}, {"$project": {"_id": 0, "name": 1, "meta": 1, "at": 1}}],
    )
    assert sorted(rows, key=lambda r: (r["name"], str(r["at"]))) == [
        {"name": "a", "meta": {"size": "S"}, "at": 0},
        {"name": "a", "meta": {"size": "M"}, "at": 1},
        {"name": "b", "meta": {"size": "M"}, "at": 0},
        {"name": "c", "meta": {}, "at": None},
        {"name": "d", "meta": {"size": "XL"}, "at": None},
        {"name": "e", "meta": {}, "at": None},
    ]
    # Without preserveNullAndEmptyArrays, empty and missing arrays drop their document.
    assert len(results(master, "Shirt", pipeline=[{"$unwind": "$meta.size"}])) == 4


def test_count(master: Any, scores: list[str]) -> None:
    assert results(master, "Score", pipeline=[{"$count": "total"}]) == [{"total": 4}]
    assert results(master, "Score", **{"$match": {"score": 10}, "$count": "n"}) == [{"n": 3}]
    assert results(master, "Score", pipeline=[{"$match": {"score": 1}}, {"$count": "n"}]) == []
    after_group = [{"$group": {"_id": "$name"}}, {"$count": "names"}]
    assert results(master, "Score", pipeline=after_group) == [{"names": 3}]


def test_relations_appear_on_documents(master: Any) -> None:
    owner = create(master, "Owner", name="a")
    oid = create(
        master,
        "Team",
        name="t",
        members={"__op": "AddRelation", "objects": [pointer("Owner", owner)]},
    )
    assert results(master, "Team", pipeline=[{"$match": {"_id": oid}}])[0]["members"] == {
        "__type": "Relation",
        "className": "Owner",
    }


# --- distinct ------------------------------------------------------------------------------------


def test_distinct(master: Any, scores: list[str]) -> None:
    assert results(master, "Score", distinct="score") == [10, 20]
    assert results(master, "Score", distinct="score", where={"name": "dpl"}) == [20]
    assert results(master, "Score", distinct="score", where='{"name": "bar"}') == [10]
    assert results(master, "Score", distinct="sender.group") == ["A", "B"]
    assert results(master, "Score", distinct="size") == ["L", "M", "S"]
    assert sorted(results(master, "Score", distinct="objectId")) == sorted(scores)
    assert results(master, "Score", distinct="unknown") == []
    created = results(master, "Score", distinct="createdAt")
    assert created and all(v["__type"] == "Date" for v in created)


def test_distinct_types(master: Any) -> None:
    a = create(master, "Owner", name="a")
    b = create(master, "Owner", name="b")
    create(master, "Thing", owner=pointer("Owner", a), when=date("2020-01-01T00:00:00.000Z"))
    create(master, "Thing", owner=pointer("Owner", b), when=date("2020-01-01T00:00:00.000Z"))
    create(master, "Thing", owner=pointer("Owner", a), flag=True, tag=None)
    create(master, "Thing", flag=False, tag="x", mixed=[1, "1", True, {"k": 1}, None])
    assert results(master, "Thing", distinct="owner") == sorted(
        [pointer("Owner", a), pointer("Owner", b)], key=lambda p: p["objectId"]
    )
    assert results(master, "Thing", distinct="when") == [date("2020-01-01T00:00:00.000Z")]
    assert results(master, "Thing", distinct="flag") == [False, True]
    assert results(master, "Thing", distinct="tag") == ["x"]
    assert results(master, "Thing", distinct="mixed") == [1, "1", {"k": 1}, True]


def test_distinct_files_carry_their_url(master: Any) -> None:
    create(master, "Doc", file={"__type": "File", "name": "abc_report.pdf"})
    [value] = results(master, "Doc", distinct="file")
    assert value["name"] == "abc_report.pdf"
    assert value["url"].endswith("/files/test-app/abc_report.pdf")


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"pipeline": [{"$lookup": {"from": "X"}}]},
        {"pipeline": [{"$bogus": {}}]},
        {"foo": {"_id": None}},
        {"pipeline": [{"$group": {"_id": None}, "$match": {}}]},
        {"pipeline": [{"$group": 5}]},
        {"pipeline": [{"$match": "name"}]},
        {"pipeline": ["$group"]},
        {"pipeline": 5},
        {"pipeline": [{"$group": {}}]},
        {"pipeline": [{"$group": {"_id": "$name", "objectId": "$name"}}]},
        {"pipeline": [{"$group": {"_id": "name"}}]},
        {"pipeline": [{"$group": {"_id": "$bad-name"}}]},
        {"pipeline": [{"$group": {"_id": "$_hashed_password"}}]},
        {"pipeline": [{"$group": {"_id": {"$concat": ["$a"]}}}]},
        {"pipeline": [{"$group": {"_id": None, "t": {"$median": "$score"}}}]},
        {"pipeline": [{"$group": {"_id": None, "t": {"$sum": "score"}}}]},
        {"pipeline": [{"$group": {"_id": None, "t": {"$sum": 1, "$avg": "$a"}}}]},
        {"pipeline": [{"$group": {"_id": None, "t": 1}}]},
        {"pipeline": [{"$group": {"_id": None, "t": {"$count": 1}}}]},
        {"pipeline": [{"$group": {"_id": None, "a.b": {"$sum": 1}}}]},
        {"pipeline": [{"$limit": 0}]},
        {"pipeline": [{"$limit": "x"}]},
        {"pipeline": [{"$skip": -1}]},
        {"pipeline": [{"$sort": {"name": 2}}]},
        {"pipeline": [{"$sort": {}}]},
        {"pipeline": [{"$project": {"name": 1, "score": 0}}]},
        {"pipeline": [{"$project": {"name": {"$multiply": [1, 2]}}}]},
        {"pipeline": [{"$unwind": "size"}]},
        {"pipeline": [{"$unwind": {"path": "$size", "bogus": 1}}]},
        {"pipeline": [{"$count": "$n"}]},
        {"pipeline": [{"$count": 3}]},
        {"pipeline": [{"$match": {"score": {"$bogus": 1}}}]},
        {"pipeline": [{"$group": {"_id": "$name"}}, {"$match": {"n": {"$bogus": 1}}}]},
        {"distinct": "bad-name"},
        {"distinct": "a..b"},
        {"distinct": ["score"]},
        {"distinct": "score", "where": 5},
    ],
)
def test_bad_input_is_invalid_query(master: Any, scores: list[str], params: dict[str, Any]) -> None:
    r = agg(master, "Score", **params)
    assert r.status_code == 400, r.json_body
    assert r.json_body["code"] == 102
    assert r.json_body["error"]


def test_bad_where_json_for_distinct(master: Any, scores: list[str]) -> None:
    r = agg(master, "Score", distinct="score", where="{not json")
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "where parameter is not valid JSON"}


def test_bad_class_name(master: Any) -> None:
    r = agg(master, "Bad-Class", pipeline=[])
    assert r.status_code == 400 and r.json_body["code"] == 103


# --- SQL and Python paths -----------------------------------------------------------------------------


@pytest.fixture
def mixed(master: Any) -> None:
    """Values of every kind, including missing, null and mixed types under one path."""
    owners = [create(master, "Owner", name=n) for n in ("a", "b")]
    rows: list[dict[str, Any]] = [
        {"name": "a", "score": 1, "price": 2.5, "flag": True, "when": date("2021-01-01T10:20:30.456Z"),
         "owner": pointer("Owner", owners[0]), "meta": {"kind": 1, "amount": 3}},
        {"name": "a", "score": 2.5, "price": 0.5, "flag": False, "when": date("2022-01-01T00:00:00.000Z"),
         "owner": pointer("Owner", owners[1]), "meta": {"kind": "1", "amount": 2.25}},
        {"name": "b", "score": -3, "flag": True, "when": date("2024-12-30T23:59:59.999Z"),
         "meta": {"kind": True, "amount": "x"}},
        {"name": "b", "price": 4, "when": date("2023-01-01T12:00:00.000Z"),
         "owner": pointer("Owner", owners[0]), "meta": {"kind": {"deep": [1, 2]}}},
        {"name": "c", "score": 7, "flag": False, "meta": {"kind": None, "amount": 1}},
        {"name": "é", "score": 7, "price": 1.25, "meta": {"kind": [1, "a"]}},
        {"score": 100, "price": 100, "when": date("2021-06-15T06:07:08.009Z")},
        {"name": "Z", "score": 0, "flag": None, "meta": {"kind": 1.0}},
    ]  # fmt: skip
    for row in rows:
        create(master, "Mixed", **row)


GROUPS = "SELECT COUNT(*), "  # the grouping query (GROUP BY unless the key is constant)
SORT = "NULLS"  # an ORDER BY from a $sort (the default order has no NULLS clause)
EQUIVALENT_PIPELINES: list[tuple[str | None, list[Any]]] = [
    (GROUPS, [{"$group": {"_id": "$name", "n": {"$sum": 1}, "total": {"$sum": "$score"},
                          "avg": {"$avg": "$price"}, "lo": {"$min": "$score"},
                          "hi": {"$max": "$price"}}}]),
    (GROUPS, [{"$group": {"_id": None, "total": {"$sum": "$meta.amount"}, "n": {"$count": {}},
                          "two": {"$sum": 2}, "half": {"$sum": 0.5},
                          "avg": {"$avg": "$meta.amount"}}}]),
    (GROUPS, [{"$group": {"_id": "$meta.kind", "n": {"$sum": 1}}}]),
    (GROUPS, [{"$group": {"_id": "$flag", "n": {"$sum": 1}, "names": {"$max": "$name"}}}]),
    (GROUPS, [{"$group": {"_id": "$owner", "n": {"$sum": 1}, "first": {"$min": "$when"},
                          "last": {"$max": "$when"}}}]),
    (GROUPS, [{"$group": {"_id": {"n": "$name", "f": "$flag"}, "n": {"$sum": 1}}}]),
    (GROUPS, [{"$group": {"_id": "$when", "n": {"$sum": 1}}}]),
    (GROUPS, [{"$group": {"_id": {p[1:]: {p: "$when"} for p in (
        "$year", "$month", "$dayOfMonth", "$hour", "$minute", "$second", "$millisecond",
        "$dayOfYear", "$dayOfWeek", "$isoDayOfWeek", "$week", "$isoWeek", "$isoWeekYear")},
        "n": {"$sum": 1}}}]),
    (GROUPS, [{"$group": {"_id": {"y": {"$year": "$createdAt"}, "d": {"$dayOfWeek": "$updatedAt"}},
                          "first": {"$min": "$createdAt"}, "last": {"$max": "$_updated_at"},
                          "ids": {"$min": "$objectId"}, "sum": {"$sum": "$createdAt"}}}]),
    (GROUPS, [{"$match": {"score": {"$gte": 0}}},
              {"$group": {"_id": "$name", "s": {"$sum": "$score"}}},
              {"$sort": {"s": -1, "_id": 1}}, {"$limit": 3}]),
    (GROUPS, [{"$match": {"$or": [{"flag": True}, {"price": {"$exists": True}}]}},
              {"$group": {"_id": {"$year": "$when"}, "avg": {"$avg": "$score"}}},
              {"$match": {"avg": {"$gt": 0}}}]),
    ("SELECT COUNT(*) FROM", [{"$match": {"name": {"$exists": True}}}, {"$count": "n"}]),
    (SORT, [{"$sort": {"score": -1, "name": 1}}, {"$skip": 1}, {"$limit": 3}]),
    (SORT, [{"$sort": {"name": 1, "when": -1}}]),
    (SORT, [{"$sort": {"flag": 1, "price": -1}}, {"$limit": 5},
            {"$project": {"flag": 1, "price": 1}}]),
    (SORT, [{"$sort": {"createdAt": -1}}, {"$limit": 2}, {"$skip": 1}]),
    (None, [{"$sort": {"meta.kind": 1}}, {"$project": {"meta": 1}}]),
    (None, [{"$group": {"_id": "$name", "scores": {"$push": "$score"}}}]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("marker", "pipeline"), EQUIVALENT_PIPELINES, ids=range(len(EQUIVALENT_PIPELINES))
)
def test_sql_and_python_paths_agree(mixed: None, marker: str | None, pipeline: list[Any]) -> None:
    with CaptureQueriesContext(connection) as optimized_queries:
        optimized = aggregate(MASTER, "Mixed", {"pipeline": pipeline})
    with CaptureQueriesContext(connection) as reference_queries:
        reference = aggregate(MASTER, "Mixed", {"pipeline": pipeline}, optimize=False)
    assert optimized == reference
    assert reference["results"], "the pipeline should produce rows"
    optimized_sql = " ".join(q["sql"] for q in optimized_queries.captured_queries)
    reference_sql = " ".join(q["sql"] for q in reference_queries.captured_queries)
    for marker_ in (GROUPS, SORT, "SELECT COUNT(*) FROM"):
        assert marker_ not in reference_sql
        assert (marker_ in optimized_sql) == (marker_ == marker)


def test_sql_grouping_is_used(mixed: None) -> None:
    pipeline = {"pipeline": [{"$group": {"_id": "$name", "n": {"$sum": 1}}}]}
    with CaptureQueriesContext(connection) as queries:
        aggregate(MASTER, "Mixed", pipeline)
    assert any("GROUP BY" in q["sql"] for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        aggregate(MASTER, "Mixed", pipeline, optimize=False)
    assert not any("GROUP BY" in q["sql"] for q in queries.captured_queries)
    # An accumulator SQL cannot compute sends the group to Python.
    python_only = {"pipeline": [{"$group": {"_id": "$name", "all": {"$push": "$score"}}}]}
    with CaptureQueriesContext(connection) as queries:
        aggregate(MASTER, "Mixed", python_only)
    assert not any("GROUP BY" in q["sql"] for q in queries.captured_queries)


def test_python_path_streams_in_chunks(master: Any, monkeypatch: Any) -> None:
    for i in range(23):
        create(master, "Many", i=i, even=i % 2 == 0)
    monkeypatch.setattr(aggregation_sql, "CHUNK_SIZE", 5)
    fetched: list[int] = []
    original = aggregation_sql.to_document

    def counting(row: Any) -> Any:
        fetched.append(1)
        return original(row)

    monkeypatch.setattr(aggregation_sql, "to_document", counting)
    pipeline = [{"$group": {"_id": "$even", "total": {"$sum": "$i"}, "all": {"$push": "$i"}}}]
    rows = aggregate(MASTER, "Many", {"pipeline": pipeline})["results"]
    assert [(r["objectId"], r["total"], len(r["all"])) for r in rows] == [
        (False, 121, 11),
        (True, 132, 12),
    ]
    assert len(fetched) == 23
    # A $limit evaluated in Python stops reading early (the source is closed).
    fetched.clear()
    pipeline = [{"$unwind": "$i"}, {"$limit": 3}]
    assert len(aggregate(MASTER, "Many", {"pipeline": pipeline})["results"]) == 3
    assert len(fetched) <= 5


@pytest.mark.django_db(transaction=True)
def test_streaming_in_autocommit_mode(master: Any, monkeypatch: Any) -> None:
    """Outside a transaction PostgreSQL's server-side cursor must be held (WITH HOLD)."""
    for i in range(7):
        create(master, "Stream", i=i)
    monkeypatch.setattr(aggregation_sql, "CHUNK_SIZE", 2)
    pipeline = [{"$match": {"i": {"$gte": 1}}}, {"$unwind": "$i"}, {"$sort": {"i": -1}}]
    rows = aggregate(MASTER, "Stream", {"pipeline": pipeline})["results"]
    assert [r["i"] for r in rows] == [6, 5, 4, 3, 2, 1]
