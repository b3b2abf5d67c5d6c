"""Objects behaviour the Parse JS SDK's integration suite relies on (Parse Server 9.10).

Each test names the suite spec that found the difference.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ParseClient

SQUARE = [[0, 0], [0, 1], [1, 1], [1, 0]]
CLOSED_SQUARE = [*SQUARE, [0, 0]]


def geo(lat: float, lng: float) -> dict[str, Any]:
    return {"__type": "GeoPoint", "latitude": lat, "longitude": lng}


def polygon(coordinates: list[list[float]]) -> dict[str, Any]:
    return {"__type": "Polygon", "coordinates": coordinates}


# --- "Geo Point non array / invalid array / minimum 3 points withinPolygon" ------------------


@pytest.mark.parametrize(
    "operand",
    [
        {"$polygon": 1234},
        {"$polygon": [1234]},
        {"$polygon": []},
        {"$polygon": [geo(0, 0), geo(1, 1)]},
        {"$polygon": polygon([[0, 0]])},
        {"$centerSphere": 5},
        {"$centerSphere": [[0, 0], -1]},
        5,
    ],
)
def test_malformed_geo_within_is_107(master: ParseClient, operand: Any) -> None:
    master.post("classes/Place", {"location": geo(1, 1)})
    r = master.get("classes/Place", where={"location": {"$geoWithin": operand}})
    assert r.status_code == 400, r.json_body
    assert r.json_body["code"] == 107, r.json_body


def test_malformed_geo_intersects_is_107(master: ParseClient) -> None:
    master.post("classes/Place", {"area": polygon(SQUARE)})
    r = master.get("classes/Place", where={"area": {"$geoIntersects": {"$point": 5}}})
    assert r.json_body["code"] == 107


# --- "Geo Point can only store one geo point per object" -------------------------------------


def test_one_write_cannot_set_two_geopoints(master: ParseClient) -> None:
    r = master.post("classes/Container", {"one": geo(20, 20), "two": geo(20, 20)})
    assert r.status_code == 400
    assert r.json_body == {"code": 111, "error": "there can only be one geopoint field in a class"}
    assert master.get("classes/Container").json_body["results"] == []
    oid = master.post("classes/Container", {"one": geo(20, 20)}).json_body["objectId"]
    r = master.put(f"classes/Container/{oid}", {"one": geo(1, 1), "two": geo(2, 2)})
    assert r.json_body["code"] == 111
    assert master.get(f"classes/Container/{oid}").json_body["one"] == geo(20, 20)


def test_a_schema_holds_one_geopoint_field(master: ParseClient) -> None:
    r = master.post(
        "schemas/Map", {"fields": {"a": {"type": "GeoPoint"}, "b": {"type": "GeoPoint"}}}
    )
    assert r.json_body == {
        "code": 111,
        "error": "currently, only one GeoPoint field may exist in an object. "
        "Adding b when a already exists.",
    }
    master.post("schemas/Map", {"fields": {"a": {"type": "GeoPoint"}}})
    r = master.put("schemas/Map", {"fields": {"b": {"type": "GeoPoint"}}})
    assert r.json_body["code"] == 111
    assert "b" not in master.get("schemas/Map").json_body["fields"]
    # replacing the GeoPoint field in one change is fine
    r = master.put("schemas/Map", {"fields": {"a": {"__op": "Delete"}, "b": {"type": "GeoPoint"}}})
    assert r.status_code == 200, r.json_body


# --- "Polygon can save polygon with points", "Schema set multiple required and default values"


def test_a_polygon_field_is_stored_closed_and_matches_either_form(master: ParseClient) -> None:
    oid = master.post("classes/Shape", {"area": polygon(SQUARE)}).json_body["objectId"]
    assert master.get(f"classes/Shape/{oid}").json_body["area"] == polygon(CLOSED_SQUARE)
    for coordinates in (SQUARE, CLOSED_SQUARE):
        r = master.get("classes/Shape", where={"area": polygon(coordinates)})
        assert [o["objectId"] for o in r.json_body["results"]] == [oid], coordinates
    other = [[0, 0], [0, 2], [2, 2], [2, 0]]
    assert master.get("classes/Shape", where={"area": polygon(other)}).json_body["results"] == []
    # nested inside an object it is plain JSON, kept as sent
    oid = master.post("classes/Shape", {"meta": {"p": polygon(SQUARE)}}).json_body["objectId"]
    assert master.get(f"classes/Shape/{oid}").json_body["meta"]["p"] == polygon(SQUARE)


def test_a_polygon_needs_three_distinct_vertices(master: ParseClient) -> None:
    r = master.post("classes/Shape", {"area": polygon([[0, 0], [1, 1], [0, 0]])})
    assert r.status_code == 400
    assert r.json_body == {
        "code": 107,
        "error": "GeoJSON: Loop must have at least 3 different vertices",
    }


def test_a_polygon_default_is_stored_closed_but_declared_as_given(master: ParseClient) -> None:
    r = master.post(
        "schemas/Shaped",
        {
            "fields": {
                "area": {"type": "Polygon", "required": True, "defaultValue": polygon(SQUARE)}
            }
        },
    )
    assert r.json_body["fields"]["area"]["defaultValue"] == polygon(SQUARE)
    oid = master.post("classes/Shaped", {}).json_body["objectId"]
    assert master.get(f"classes/Shaped/{oid}").json_body["area"] == polygon(CLOSED_SQUARE)


# --- "Parse Object can clone with relation" ---------------------------------------------------


def test_related_to_an_unsaved_parent_finds_nothing(master: ParseClient, api: ParseClient) -> None:
    child = master.post("classes/Item", {}).json_body["objectId"]
    master.post(
        "classes/Item",
        {
            "kids": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Item", "objectId": child}],
            }
        },
    )
    where = {"$relatedTo": {"object": {"__type": "Pointer", "className": "Item"}, "key": "kids"}}
    for client in (master, api):
        r = client.get("classes/Item", where=where)
        assert r.status_code == 200, r.json_body
        assert r.json_body["results"] == []
    bad = {"$relatedTo": {"object": {"__type": "Pointer", "className": "Item", "objectId": 5}}}
    assert master.get("classes/Item", where=bad).json_body["code"] == 102


# --- "Parse Relation can get a query on a relation when the parent is unfetched" --------------


def test_redirected_results_name_their_class(master: ParseClient) -> None:
    wheel = master.post("classes/Wheel", {}).json_body["objectId"]
    car = master.post(
        "classes/Car",
        {
            "wheels": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Wheel", "objectId": wheel}],
            }
        },
    ).json_body["objectId"]
    where = {
        "$relatedTo": {
            "object": {"__type": "Pointer", "className": "Car", "objectId": car},
            "key": "wheels",
        },
        "objectId": wheel,
    }
    r = master.get("classes/Car", where=where, redirectClassNameForKey="wheels", limit=1)
    assert [(o["className"], o["objectId"]) for o in r.json_body["results"]] == [("Wheel", wheel)]
    plain = master.get("classes/Wheel").json_body["results"]
    assert "className" not in plain[0]


# --- "Parse Query can order by _created_at / _updated_at" -------------------------------------


def test_order_by_the_storage_names_of_the_timestamps(master: ParseClient) -> None:
    ids = [master.post("classes/Stamp", {"n": n}).json_body["objectId"] for n in range(3)]
    master.put(f"classes/Stamp/{ids[0]}", {"n": 10})

    def order(key: str) -> list[str]:
        return [o["objectId"] for o in master.get("classes/Stamp", order=key).json_body["results"]]

    assert order("_created_at") == order("createdAt") == ids
    assert order("-_created_at") == ids[::-1]
    assert order("-_updated_at") == order("-updatedAt")
    assert order("-_updated_at")[0] == ids[0]
    assert master.get("classes/Stamp", order="_other").json_body["code"] == 105


# --- "Schema all", "Schema delete", "Schema invalid get all no schema" ------------------------


def test_user_and_role_are_listed_until_their_schemas_are_deleted(master: ParseClient) -> None:
    def listed() -> list[str]:
        return [s["className"] for s in master.get("schemas").json_body["results"]]

    assert {"_User", "_Role"} <= set(listed())
    for name in listed():
        assert master.delete(f"schemas/{name}").status_code == 200, name
    assert listed() == []
    # a write gives a class its schema again, system classes included
    r = master.post("roles", {"name": "admins", "ACL": {"*": {"read": True}}})
    assert r.status_code == 201, r.json_body
    assert listed() == ["_Role"]


# --- "Schema delete index" --------------------------------------------------------------------


def test_the_implicit_id_index_is_listed(master: ParseClient) -> None:
    r = master.post("schemas/Indexed", {"fields": {"name": {"type": "String"}}})
    assert r.json_body["indexes"] == {"_id_": {"_id": 1}}
    r = master.put("schemas/Indexed", {"indexes": {"by_name": {"name": 1}}})
    assert r.json_body["indexes"] == {"_id_": {"_id": 1}, "by_name": {"name": 1}}
    r = master.put("schemas/Indexed", {"indexes": {"by_name": {"__op": "Delete"}}})
    assert r.json_body["indexes"] == {"_id_": {"_id": 1}}
    assert master.get("schemas/Indexed").json_body["indexes"] == {"_id_": {"_id": 1}}
    r = master.put("schemas/Indexed", {"indexes": {"_id_": {"name": 1}}})
    assert r.json_body == {"code": 102, "error": "Index _id_ exists, cannot update."}


# --- "Parse Query can perform a full text search sort" ----------------------------------------


def test_full_text_score_is_mongodb_text_score(master: ParseClient) -> None:
    subjects = [
        "coffee",
        "Coffee Shopping",
        "Baking a cake",
        "coffee and cream",
        "coffee coffee tea",
    ]
    ids = {s: master.post("classes/Drink", {"subject": s}).json_body["objectId"] for s in subjects}
    where = {"subject": {"$text": {"$search": {"$term": "coffee"}}}}
    for order in ("$score", "-$score"):  # the most relevant first either way
        r = master.get("classes/Drink", where=where, order=order, keys="$score")
        got = [(o["objectId"], o["score"]) for o in r.json_body["results"]]
        assert got[:2] == [(ids["coffee coffee tea"], 1.25), (ids["coffee"], 1.0)], got
        assert sorted(got[2:]) == sorted(
            [(ids["Coffee Shopping"], 0.75), (ids["coffee and cream"], 0.75)]
        )
        assert all(
            set(o) == {"objectId", "createdAt", "updatedAt", "score"}
            for o in r.json_body["results"]
        )
    # ordered by relevance, then by another key; the score is only sent when selected
    r = master.get("classes/Drink", where=where, order="$score,subject")
    assert [o["subject"] for o in r.json_body["results"]] == [
        "coffee coffee tea",
        "coffee",
        "Coffee Shopping",
        "coffee and cream",
    ]
    assert "score" not in r.json_body["results"][0]
    # without a text search there is nothing to score: the order is ignored
    r = master.get("classes/Drink", order="$score", keys="$score,subject")
    assert len(r.json_body["results"]) == 5 and "score" not in r.json_body["results"][0]
