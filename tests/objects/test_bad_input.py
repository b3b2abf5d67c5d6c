"""Bad input: always a Parse error ``{code, error}``, never a 500, never a partial write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit, master_headers, raw_request

pytestmark = pytest.mark.django_db

FUZZ_FIELDS = {
    "n": 1,
    "s": "a",
    "o": {"a": 1},
    "arr": [1],
    "g": {"__type": "GeoPoint", "latitude": 1, "longitude": 1},
    "d": {"__type": "Date", "iso": "2020-01-01T00:00:00Z"},
    "p": {"__type": "Pointer", "className": "Fuzz", "objectId": "x"},
    "poly": {"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [1, 1]]},
}


def is_parse_error(response: Any) -> bool:
    body = response.json_body
    return (
        response.status_code in (400, 404)
        and isinstance(body, dict)
        and set(body) == {"code", "error"}
        and isinstance(body["code"], int)
        and isinstance(body["error"], str)
    )


# --- class and field names ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["1abc", "_Foo", "a-b", "a%20b", "x" * 200, "%C3%A9t%C3%A9", "_"])
def test_invalid_class_names_are_103(name: str, master: ParseClient) -> None:
    for method, path in [
        ("GET", f"classes/{name}"),
        ("POST", f"classes/{name}"),
        ("GET", f"classes/{name}/abc"),
        ("PUT", f"classes/{name}/abc"),
        ("DELETE", f"classes/{name}/abc"),
        ("GET", f"schemas/{name}"),
        ("POST", f"schemas/{name}"),
        ("DELETE", f"purge/{name}"),
    ]:
        r = raw_request(method, path, b"{}", headers=master_headers())
        assert r.status_code == 400, (method, path, r.json_body)
        assert r.json_body["code"] == 103, (method, path, r.json_body)
    assert master.get("schemas").json_body["results"] == [
        s
        for s in master.get("schemas").json_body["results"]
        if s["className"] in ("_User", "_Role")
    ]


@pytest.mark.parametrize(
    "key", ["1a", "a b", "$a", "_private", "a-b", "é", "length", "className", "x" * 200, ""]
)
def test_invalid_field_names_are_105(key: str, master: ParseClient) -> None:
    r = master.post("classes/Thing", {"ok": 1, key: 1})
    assert r.status_code == 400, r.json_body
    assert r.json_body["code"] == 105, r.json_body
    # nothing was written: no object, no class
    assert master.get("schemas/Thing").status_code == 400
    oid = master.post("classes/Thing", {"ok": 1}).json_body["objectId"]
    r = master.put(f"classes/Thing/{oid}", {"ok": 2, key: 1})
    assert r.status_code == 400 and r.json_body["code"] == 105
    assert master.get(f"classes/Thing/{oid}").json_body["ok"] == 1


@pytest.mark.parametrize("key", ["1a", "a b", "$a", "a-b", "a..b"])
def test_invalid_query_keys_are_105(key: str, master: ParseClient) -> None:
    master.post("classes/Thing", {"ok": 1})
    r = master.get("classes/Thing", where={key: 1})
    assert r.status_code == 400 and r.json_body["code"] in (102, 105)


# --- query operators and limits -----------------------------------------------------------


@pytest.mark.parametrize(
    "op", ["$foo", "$where", "$expr", "$elemMatch", "$size", "$type", "$mod", "$not"]
)
def test_unknown_operators_are_102(op: str, master: ParseClient) -> None:
    master.post("classes/Thing", {"n": 1})
    r = master.get("classes/Thing", where={"n": {op: 1}})
    assert r.status_code == 400
    assert r.json_body["code"] == 102


def test_unknown_top_level_operator(master: ParseClient) -> None:
    master.post("classes/Thing", {"n": 1})
    r = master.get("classes/Thing", where={"$where": "this.n > 0"})
    assert r.status_code == 400 and r.json_body["code"] in (102, 105)


def nested(depth: int) -> dict[str, Any]:
    where: dict[str, Any] = {"n": 1}
    for _ in range(depth):
        where = {"$or": [where, {"n": 2}]}
    return where


def test_deeply_nested_where_is_102(master: ParseClient) -> None:
    master.post("classes/Thing", {"n": 1})
    assert master.get("classes/Thing", where=nested(10)).status_code == 200
    r = master.get("classes/Thing", where=nested(40))
    assert r.status_code == 400 and r.json_body["code"] == 102
    # deeper than any JSON parser allows: still an error, never a crash
    r = master.get("classes/Thing", where=json.dumps(nested(200)))
    assert r.status_code == 400 and r.json_body["code"] in (102, 107)
    raw = "[" * 5000 + "]" * 5000
    r = raw_request("GET", "classes/Thing", headers=master_headers(), where=raw)
    assert r.status_code == 400 and r.json_body["code"] in (102, 107)


def test_huge_in_is_102(master: ParseClient) -> None:
    master.post("classes/Thing", {"n": 1})
    r = master.post(
        "batch",
        {
            "requests": [
                {
                    "method": "GET",
                    "path": "/parse/classes/Thing",
                    "body": {"where": {"n": {"$in": list(range(20000))}}},
                }
            ]
        },
    )
    assert r.json_body[0]["error"]["code"] == 102
    with override_settings(BACKEND_KIT=kit(MAX_IN_VALUES=5)):
        r = master.get("classes/Thing", where={"n": {"$in": list(range(6))}})
        assert r.status_code == 400 and r.json_body["code"] == 102
        r = master.get("classes/Thing", where={"n": {"$nin": list(range(6))}})
        assert r.status_code == 400 and r.json_body["code"] == 102
        assert master.get("classes/Thing", where={"n": {"$in": [1, 2]}}).status_code == 200


@override_settings(BACKEND_KIT=kit(MAX_QUERY_CONSTRAINTS=10))
def test_too_many_constraints_is_102(master: ParseClient) -> None:
    master.post("classes/Thing", {"n": 1})
    where = {f"f{i}": i for i in range(11)}
    r = master.get("classes/Thing", where=where)
    assert r.status_code == 400 and r.json_body["code"] == 102


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("text", "Number"),
        (True, "Number"),
        ([1], "Number"),
        ({"a": 1}, "Number"),
        ({"__type": "Date", "iso": "2020-01-01T00:00:00Z"}, "Number"),
        ({"__type": "Pointer", "className": "Thing", "objectId": "x"}, "Number"),
        ({"__op": "Add", "objects": [1]}, "Number"),
    ],
)
def test_type_mismatch_is_111(value: Any, expected: str, master: ParseClient) -> None:
    oid = master.post("classes/Thing", {"n": 1}).json_body["objectId"]
    for r in (
        master.post("classes/Thing", {"n": value, "fresh": 1}),
        master.put(f"classes/Thing/{oid}", {"n": value, "fresh": 1}),
    ):
        assert r.status_code == 400, r.json_body
        assert r.json_body["code"] == 111
        assert f"expected {expected}" in r.json_body["error"]
    assert master.get("classes/Thing", count=1, limit=0).json_body["count"] == 1
    assert "fresh" not in master.get("schemas/Thing").json_body["fields"]
    assert master.get(f"classes/Thing/{oid}").json_body["n"] == 1


def test_pointer_to_another_class_is_111(master: ParseClient) -> None:
    oid = master.post(
        "classes/Thing", {"p": {"__type": "Pointer", "className": "A", "objectId": "x"}}
    ).json_body["objectId"]
    r = master.put(
        f"classes/Thing/{oid}", {"p": {"__type": "Pointer", "className": "B", "objectId": "x"}}
    )
    assert r.status_code == 400
    assert r.json_body == {
        "code": 111,
        "error": "schema mismatch for Thing.p; expected *A but got *B",
    }


# --- never a partial write --------------------------------------------------------------------


def test_a_failed_create_leaves_nothing_behind(master: ParseClient) -> None:
    master.post("schemas/Thing", {"fields": {"n": {"type": "Number"}}})
    r = master.post("classes/Thing", {"new1": 1, "new2": "x", "n": "not a number"})
    assert r.status_code == 400
    fields = master.get("schemas/Thing").json_body["fields"]
    assert "new1" not in fields and "new2" not in fields
    assert master.get("classes/Thing", count=1, limit=0).json_body["count"] == 0


def test_a_failed_clp_check_leaves_no_new_field(master: ParseClient, api: ParseClient) -> None:
    master.post(
        "schemas/Thing", {"classLevelPermissions": {"find": {"*": True}, "addField": {"*": True}}}
    )
    r = api.post("classes/Thing", {"brandNew": 1})
    assert r.status_code == 400 and r.json_body["code"] == 119
    assert "brandNew" not in master.get("schemas/Thing").json_body["fields"]


def test_a_failed_relation_write_leaves_nothing_behind(master: ParseClient) -> None:
    from backend_kit.objects.models import RelationEntry

    oid = master.post("classes/Thing", {"n": 1}).json_body["objectId"]
    r = master.put(
        f"classes/Thing/{oid}",
        {
            "n": "wrong",
            "rel": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Thing", "objectId": oid}],
            },
        },
    )
    assert r.status_code == 400
    assert not RelationEntry.objects.exists()
    assert "rel" not in master.get("schemas/Thing").json_body["fields"]


def test_increment_overflow_is_an_error_not_a_null(master: ParseClient) -> None:
    oid = master.post("classes/Thing", {"n": 1e308}).json_body["objectId"]
    r = master.put(
        f"classes/Thing/{oid}", {"n": {"__op": "Increment", "amount": 1e308}, "other": 1}
    )
    assert r.status_code == 400 and r.json_body["code"] == 107
    got = master.get(f"classes/Thing/{oid}").json_body
    assert got["n"] == 1e308 and "other" not in got
    r = master.post("classes/Thing", {"m": 1e308, "k": {"__op": "Increment", "amount": 1e308}})
    assert r.status_code == 201  # two separate fields: no overflow


# --- fuzz: odd wheres and bodies ---------------------------------------------------------------

WHERES = [
    [],
    "x",
    5,
    {"n": 18446744073709551615},
    {"n": {"$gt": 18446744073709551615}},
    {"n": {"$in": [18446744073709551615]}},
    {"a": {"$all": [18446744073709551615]}},
    {"n": 1e308},
    {"n": {"$lt": -1e308}},
    {"s": {"$regex": "("}},
    {"s": {"$regex": "a", "$options": "z"}},
    {"s": {"$regex": 5}},
    {"s": {"$text": {"$search": {"$term": 5}}}},
    {"n": {"$exists": "yes"}},
    {"n": {"$in": 5}},
    {"n": {"$nin": {"a": 1}}},
    {"n": {"$all": 3}},
    {"n": {"$containedBy": 3}},
    {"$or": 5},
    {"$or": []},
    {"$or": [5]},
    {"$and": {"a": 1}},
    {"$nor": [[]]},
    {"$relatedTo": 5},
    {"$relatedTo": {"object": 5, "key": "x"}},
    {"p": {"$inQuery": 5}},
    {"p": {"$inQuery": {"className": "1x", "where": {}}}},
    {"p": {"$inQuery": {"className": "Fuzz", "where": 5}}},
    {"p": {"$select": {"query": {"className": "Fuzz"}, "key": 5}}},
    {"p": {"$dontSelect": 5}},
    {"g": {"$nearSphere": 5}},
    {"g": {"$nearSphere": {"__type": "GeoPoint", "latitude": 100, "longitude": 0}}},
    {
        "g": {
            "$nearSphere": {"__type": "GeoPoint", "latitude": 1, "longitude": 0},
            "$maxDistance": "x",
        }
    },
    {"g": {"$within": {"$box": 5}}},
    {"g": {"$within": {"$box": [[0, 0]]}}},
    {"g": {"$geoWithin": {"$polygon": 5}}},
    {"g": {"$geoWithin": {"$polygon": [[0, "a"], [1, 1], [2, 2]]}}},
    {"g": {"$geoWithin": {"$polygon": {"__type": "Polygon", "coordinates": 5}}}},
    {
        "g": {
            "$geoWithin": {
                "$polygon": {"__type": "Polygon", "coordinates": [[0, "x"], [1, 1], [1, 0]]}
            }
        }
    },
    {
        "g": {
            "$geoWithin": {
                "$polygon": {"__type": "Polygon", "coordinates": [[0, 0, 0], [1, 1], [1, 0]]}
            }
        }
    },
    {"g": {"$geoWithin": {"$centerSphere": 5}}},
    {"g": {"$geoWithin": {"$centerSphere": [[0, 0], "x"]}}},
    {"g": {"$geoIntersects": {"$point": 5}}},
    {"d": {"$lt": {"$relativeTime": 5}}},
    {"d": {"$lt": {"$relativeTime": "in 2 fortnights"}}},
    {"d": {"$lt": {"$relativeTime": "in 1e400 days"}}},
    {"d": {"$lt": {"$relativeTime": "in 99999999999 years"}}},
    {"d": {"$lt": {"__type": "Date", "iso": "x"}}},
    {"d": {"__type": "Date", "iso": 5}},
    {"d": {"__type": "Date"}},
    {"p": {"__type": "Pointer"}},
    {"p": {"__type": "Pointer", "className": 5, "objectId": "x"}},
    {"p": {"__type": "Unknown"}},
    {"f": {"__type": "File"}},
    {"b": {"__type": "Bytes"}},
    {"n": {"$eq": {"$gt": 1}}},
    {"o.a": {"$gt": "x"}},
    {"o.a.b.c": 1},
    {"a.": 1},
    {"": 1},
    {"$foo": 1},
    {"n": {"$foo": 1}},
    {"n": {"$options": "i"}},
    {"n": {"$maxDistance": 1}},
    {"o": {"x": {"$gt": 1}}},
    {"arr": [[[[1]]]]},
    {"arr": {"$all": [{"$regex": 5}]}},
    {"arr": {"$all": [{"$regex": "a"}, 1]}},
    {"n": {"$in": [[1, 2], {"a": 1}, None, True, "s"]}},
    {"objectId": {"$gt": 5}},
    {"objectId": {"$in": [1, 2]}},
    {"createdAt": {"$gt": 5}},
    {"createdAt": {"$lt": "x"}},
    {"createdAt": {"$in": [{"__type": "Date", "iso": "2020-01-01T00:00:00Z"}]}},
    {"updatedAt": {"$regex": "a"}},
    {"objectId": {"$all": [1]}},
    {"objectId": {"$exists": True}},
    {"createdAt": {"$exists": False}},
    {"s": {"$regex": "\\"}},
    {"s": {"$regex": "(?P<x>a)"}},
    {"s": {"$regex": "a{99999999999}"}},
    {"s": {"$regex": "\\p{L}"}},
    {"s": {"$regex": "[[:alpha:]]"}},
    {"s": {"$regex": "(?<=a)b"}},
    {"s": {"$text": {"$search": {"$term": "a & | ! : * ( ) '' \\"}}}},
    {"s": {"$text": {"$search": {"$term": ""}}}},
    {"n": {"$gt": True}},
    {"n": {"$lt": None}},
    {"n": {"$lt": [1]}},
    {"n": {"$gte": {"a": 1}}},
]

BODIES = [
    {"n": 1e308, "x": {"__op": "Increment", "amount": 1e308}},
    {"n": {"__op": "Increment", "amount": 18446744073709551615}},
    {"big": 18446744073709551615},
    {"p": {"__type": "Pointer"}},
    {"p": {"__type": "Pointer", "className": "X"}},
    {"p": {"__type": "Pointer", "className": "1X", "objectId": "a"}},
    {"d": {"__type": "Date"}},
    {"d": {"__type": "Date", "iso": 5}},
    {"d": {"__type": "Date", "iso": "2020-13-45"}},
    {"d": {"__type": "Date", "iso": "99999-01-01T00:00:00Z"}},
    {"d": {"__type": "Date", "iso": "0000-01-01T00:00:00Z"}},
    {"g": {"__type": "GeoPoint", "latitude": 91, "longitude": 0}},
    {"g": {"__type": "GeoPoint", "latitude": "a", "longitude": 0}},
    {"g": {"__type": "GeoPoint"}},
    {"poly": {"__type": "Polygon", "coordinates": 5}},
    {"poly": {"__type": "Polygon", "coordinates": [[0, 0]]}},
    {"b": {"__type": "Bytes", "base64": "!!"}},
    {"b": {"__type": "Bytes"}},
    {"f": {"__type": "File"}},
    {"f": {"__type": "File", "name": 5}},
    {"r": {"__type": "Relation", "className": "X"}},
    {"r": {"__type": "Relation"}},
    {"u": {"__type": "Unknown"}},
    {"o": {"$a": 1}},
    {"o": {"a.b": 1}},
    {"o": {"__op": "Increment"}},
    {"o": {"x": {"__op": "Delete"}}},
    {"a": [{"__op": "Delete"}]},
    {"a": {"__op": "Add"}},
    {"a": {"__op": "Add", "objects": [{"__type": "Date", "iso": "x"}]}},
    {"a": {"__op": "Remove", "objects": [{"$x": 1}]}},
    {"a": {"__op": 5}},
    {"a": {"__op": None}},
    {"ACL": 5},
    {"ACL": {"*": 5}},
    {"ACL": {"*": {"read": 1}}},
    {"ACL": None},
    {"ACL": {"__op": "Delete"}},
    {"objectId": 5},
    {"objectId": ""},
    {"createdAt": 5},
    {"updatedAt": {"__type": "Date", "iso": "x"}},
    {"_hidden": 1},
    {"__type": "Pointer"},
    {"__op": "Delete"},
    {"": 1},
    {"a" * 200: 1},
    {"é": 1},
    {"a-b": 1},
    {"className": "X"},
    {"length": 1},
    {"a.b": 1},
    {"a..b": 1},
    {"a.b.": 1},
    {"deep": eval("[" * 70 + "1" + "]" * 70)},
    {"n": {"__op": "Batch", "ops": [{"__op": "Increment"}]}},
    {"n": {"__op": "Batch"}},
    {
        "rel": {
            "__op": "AddRelation",
            "objects": [{"__type": "Pointer", "className": "_User", "objectId": 5}],
        }
    },
    {"rel": {"__op": "AddRelation", "objects": []}},
    {
        "rel": {
            "__op": "RemoveRelation",
            "objects": [{"__type": "Pointer", "className": "X", "objectId": "a"}],
        }
    },
]


@pytest.mark.parametrize("where", WHERES, ids=[str(i) for i in range(len(WHERES))])
def test_odd_wheres_never_500(where: Any, master: ParseClient, api: ParseClient) -> None:
    master.post("classes/Fuzz", FUZZ_FIELDS)
    for client in (master, api):
        for params in ({}, {"count": 1, "limit": 0}):
            r = client.get("classes/Fuzz", where=where, **params)
            assert r.status_code == 200 or is_parse_error(r), (where, r.json_body)


@pytest.mark.parametrize("body", BODIES, ids=[str(i) for i in range(len(BODIES))])
def test_odd_bodies_never_500_nor_partial(body: dict[str, Any], master: ParseClient) -> None:
    r = master.post("classes/W", body)
    assert r.status_code == 201 or is_parse_error(r), (body, r.json_body)
    if r.status_code != 201:
        assert master.get("schemas/W").status_code == 400, "a failed create made the class"
    oid = master.post("classes/W", {"n": 1e308, "x": 1}).json_body["objectId"]
    before = master.get(f"classes/W/{oid}").json_body
    schema_before = master.get("schemas/W").json_body
    r = master.put(f"classes/W/{oid}", body)
    assert r.status_code == 200 or is_parse_error(r), (body, r.json_body)
    if r.status_code != 200:
        assert master.get(f"classes/W/{oid}").json_body == before
        assert master.get("schemas/W").json_body == schema_before


@pytest.mark.parametrize(
    "params",
    [
        {"order": 5},
        {"order": ["a", 5]},
        {"keys": 5},
        {"keys": [1]},
        {"include": {"a": 1}},
        {"excludeKeys": 3},
        {"count": {"a": 1}},
        {"redirectClassNameForKey": 5},
        {"include": "a..b"},
        {"limit": "1e400"},
        {"skip": 18446744073709551615},
        {"limit": 18446744073709551615},
    ],
)
def test_odd_find_parameters_never_500(params: dict[str, Any], master: ParseClient) -> None:
    master.post("classes/Fuzz", FUZZ_FIELDS)
    r = master.get("classes/Fuzz", **params)
    assert r.status_code == 200 or is_parse_error(r), (params, r.json_body)
