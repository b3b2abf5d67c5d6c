"""Field operations: Increment, Add, AddUnique, Remove, Delete, relations, Batch, dotted keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ParseClient
from tests.support import ids

pytestmark = pytest.mark.django_db


def ptr(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def create(master: ParseClient, class_name: str, body: dict[str, Any]) -> str:
    r = master.post(f"classes/{class_name}", body)
    assert r.status_code == 201, r.json_body
    return r.json_body["objectId"]


def update(master: ParseClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = master.put(path, body)
    assert r.status_code == 200, r.json_body
    return r.json_body


def fetch(master: ParseClient, class_name: str, oid: str) -> dict[str, Any]:
    r = master.get(f"classes/{class_name}/{oid}")
    assert r.status_code == 200, r.json_body
    return r.json_body


# --- Increment ---------------------------------------------------------------------------


def test_increment(master: ParseClient) -> None:
    oid = create(master, "Counter", {"n": 1})
    path = f"classes/Counter/{oid}"
    body = update(master, path, {"n": {"__op": "Increment", "amount": 5}})
    assert body["n"] == 6 and set(body) == {"n", "updatedAt"}
    assert update(master, path, {"n": {"__op": "Increment"}})["n"] == 7  # default amount 1
    assert update(master, path, {"n": {"__op": "Increment", "amount": -10}})["n"] == -3
    assert update(master, path, {"n": {"__op": "Increment", "amount": 0.5}})["n"] == -2.5
    assert update(master, path, {"n": {"__op": "Increment", "amount": 2.5}})["n"] == 0
    assert isinstance(fetch(master, "Counter", oid)["n"], int)


def test_increment_of_a_missing_field_starts_at_zero(master: ParseClient) -> None:
    oid = create(master, "Counter", {"other": 1})
    body = update(master, f"classes/Counter/{oid}", {"n": {"__op": "Increment", "amount": 3}})
    assert body["n"] == 3
    assert fetch(master, "Counter", oid)["n"] == 3
    assert master.get("schemas/Counter").json_body["fields"]["n"] == {"type": "Number"}


def test_increment_on_create_answers_the_value(master: ParseClient) -> None:
    r = master.post("classes/Counter", {"n": {"__op": "Increment", "amount": 2}})
    assert r.status_code == 201
    assert r.json_body["n"] == 2
    assert fetch(master, "Counter", r.json_body["objectId"])["n"] == 2


@pytest.mark.parametrize("amount", ["1", True, None, [1], {"a": 1}])
def test_increment_needs_a_number(amount: Any, master: ParseClient) -> None:
    oid = create(master, "Counter", {"n": 1})
    r = master.put(f"classes/Counter/{oid}", {"n": {"__op": "Increment", "amount": amount}})
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "incrementing must provide a number"}
    assert fetch(master, "Counter", oid)["n"] == 1


def test_increment_on_a_string_field_is_a_type_mismatch(master: ParseClient) -> None:
    oid = create(master, "Counter", {"name": "x"})
    r = master.put(f"classes/Counter/{oid}", {"name": {"__op": "Increment"}})
    assert r.status_code == 400 and r.json_body["code"] == 111
    assert fetch(master, "Counter", oid)["name"] == "x"


# --- arrays --------------------------------------------------------------------------------


def test_add_addunique_remove(master: ParseClient) -> None:
    oid = create(master, "Bag", {"items": [1, 2]})
    path = f"classes/Bag/{oid}"
    body = update(master, path, {"items": {"__op": "Add", "objects": [2, 3]}})
    assert body["items"] == [1, 2, 2, 3]
    body = update(master, path, {"items": {"__op": "AddUnique", "objects": [3, 4, 4, "4"]}})
    assert body["items"] == [1, 2, 2, 3, 4, "4"]
    body = update(master, path, {"items": {"__op": "Remove", "objects": [2, "4", 99]}})
    assert body["items"] == [1, 3, 4]
    assert fetch(master, "Bag", oid)["items"] == [1, 3, 4]


def test_array_ops_on_a_missing_field(master: ParseClient) -> None:
    oid = create(master, "Bag", {})
    path = f"classes/Bag/{oid}"
    assert update(master, path, {"a": {"__op": "Add", "objects": ["x"]}})["a"] == ["x"]
    assert update(master, path, {"b": {"__op": "AddUnique", "objects": [1, 1]}})["b"] == [1]
    assert update(master, path, {"c": {"__op": "Remove", "objects": [1]}})["c"] == []
    got = fetch(master, "Bag", oid)
    assert (got["a"], got["b"], got["c"]) == (["x"], [1], [])


def test_array_ops_compare_json_values(master: ParseClient) -> None:
    target = create(master, "Target", {})
    other = create(master, "Target", {})
    oid = create(master, "Bag", {"items": [{"a": 1}, ptr("Target", target), True, 1]})
    path = f"classes/Bag/{oid}"
    body = update(
        master,
        path,
        {
            "items": {
                "__op": "AddUnique",
                "objects": [{"a": 1}, ptr("Target", target), ptr("Target", other), 1, True],
            }
        },
    )
    assert body["items"] == [{"a": 1}, ptr("Target", target), True, 1, ptr("Target", other)]
    # true and 1 are different values
    body = update(master, path, {"items": {"__op": "Remove", "objects": [1, {"a": 1}]}})
    assert body["items"] == [ptr("Target", target), True, ptr("Target", other)]
    body = update(master, path, {"items": {"__op": "Remove", "objects": [ptr("Target", target)]}})
    assert body["items"] == [True, ptr("Target", other)]


def test_array_op_objects_must_be_an_array(master: ParseClient) -> None:
    oid = create(master, "Bag", {"items": []})
    for op in ("Add", "AddUnique", "Remove"):
        r = master.put(f"classes/Bag/{oid}", {"items": {"__op": op, "objects": 1}})
        assert r.status_code == 400
        assert r.json_body == {"code": 107, "error": "objects to add must be an array"}


def test_array_op_on_a_number_field_is_a_type_mismatch(master: ParseClient) -> None:
    oid = create(master, "Bag", {"n": 1})
    r = master.put(f"classes/Bag/{oid}", {"n": {"__op": "Add", "objects": [1]}})
    assert r.status_code == 400 and r.json_body["code"] == 111


def test_several_ops_in_one_update(master: ParseClient) -> None:
    oid = create(master, "Mixed", {"n": 1, "items": [1], "gone": "x", "name": "a"})
    body = update(
        master,
        f"classes/Mixed/{oid}",
        {
            "n": {"__op": "Increment", "amount": 2},
            "items": {"__op": "AddUnique", "objects": [2]},
            "gone": {"__op": "Delete"},
            "name": "b",
        },
    )
    # computed values are answered; plain sets and deletes are not
    assert body == {"updatedAt": body["updatedAt"], "n": 3, "items": [1, 2]}
    got = fetch(master, "Mixed", oid)
    assert (got["n"], got["items"], got["name"]) == (3, [1, 2], "b")
    assert "gone" not in got


# --- Delete -----------------------------------------------------------------------------------


def test_delete_op(master: ParseClient) -> None:
    oid = create(master, "Thing", {"a": 1, "b": {"c": 1, "d": 2}})
    update(master, f"classes/Thing/{oid}", {"a": {"__op": "Delete"}, "b.c": {"__op": "Delete"}})
    got = fetch(master, "Thing", oid)
    assert "a" not in got
    assert got["b"] == {"d": 2}
    # the field stays in the schema
    assert "a" in master.get("schemas/Thing").json_body["fields"]


def test_delete_op_on_create_is_no_value(master: ParseClient) -> None:
    oid = create(master, "Thing", {"a": {"__op": "Delete"}, "b": 1})
    assert "a" not in fetch(master, "Thing", oid)


# --- dotted keys -------------------------------------------------------------------------------


def test_dotted_keys(master: ParseClient) -> None:
    oid = create(master, "Player", {"stats": {"wins": 1, "losses": 2, "tags": ["a"]}})
    path = f"classes/Player/{oid}"
    body = update(
        master,
        path,
        {
            "stats.wins": {"__op": "Increment", "amount": 2},
            "stats.tags": {"__op": "AddUnique", "objects": ["a", "b"]},
            "stats.level": "gold",
        },
    )
    # the computed values come back at their key paths
    assert body["stats"] == {"wins": 3, "tags": ["a", "b"]}
    got = fetch(master, "Player", oid)
    assert got["stats"] == {"wins": 3, "losses": 2, "tags": ["a", "b"], "level": "gold"}


def test_dotted_keys_create_intermediate_objects(master: ParseClient) -> None:
    oid = create(master, "Player", {"name": "p"})
    path = f"classes/Player/{oid}"
    body = update(master, path, {"stats.season.points": {"__op": "Increment", "amount": 4}})
    assert body["stats"] == {"season": {"points": 4}}
    update(master, path, {"prefs.theme": "dark"})
    got = fetch(master, "Player", oid)
    assert got["stats"] == {"season": {"points": 4}}
    assert got["prefs"] == {"theme": "dark"}
    fields = master.get("schemas/Player").json_body["fields"]
    assert fields["stats"] == {"type": "Object"} and fields["prefs"] == {"type": "Object"}


def test_dotted_key_on_a_non_object_field_is_a_type_mismatch(master: ParseClient) -> None:
    oid = create(master, "Player", {"score": 1})
    r = master.put(f"classes/Player/{oid}", {"score.x": 1})
    assert r.status_code == 400 and r.json_body["code"] == 111
    assert fetch(master, "Player", oid)["score"] == 1


@pytest.mark.parametrize("key", ["stats.", "stats..a", "stats.$a", "stats.a-b"])
def test_bad_dotted_keys(key: str, master: ParseClient) -> None:
    oid = create(master, "Player", {"stats": {}})
    r = master.put(f"classes/Player/{oid}", {key: 1})
    assert r.status_code == 400
    assert r.json_body["code"] in (105, 121)


def test_dotted_increment_is_atomic_with_other_keys(master: ParseClient) -> None:
    oid = create(master, "Player", {"stats": {"a": 1, "b": 1}})
    path = f"classes/Player/{oid}"
    update(
        master,
        path,
        {"stats.a": {"__op": "Increment"}, "stats.b": {"__op": "Increment", "amount": 10}},
    )
    assert fetch(master, "Player", oid)["stats"] == {"a": 2, "b": 11}


# --- relations ---------------------------------------------------------------------------------


def _members(master: ParseClient, owner: str, key: str = "members") -> list[str]:
    r = master.get(
        "classes/Person",
        where={"$relatedTo": {"object": ptr("Team", owner), "key": key}},
        order="name",
    )
    assert r.status_code == 200, r.json_body
    return [o["name"] for o in r.json_body["results"]]


def test_add_and_remove_relation(master: ParseClient) -> None:
    a, b, c = (create(master, "Person", {"name": n}) for n in "abc")
    team = create(
        master,
        "Team",
        {"members": {"__op": "AddRelation", "objects": [ptr("Person", a), ptr("Person", b)]}},
    )
    assert _members(master, team) == ["a", "b"]
    path = f"classes/Team/{team}"
    update(
        master,
        path,
        {"members": {"__op": "AddRelation", "objects": [ptr("Person", c), ptr("Person", a)]}},
    )
    assert _members(master, team) == ["a", "b", "c"]
    update(master, path, {"members": {"__op": "RemoveRelation", "objects": [ptr("Person", b)]}})
    assert _members(master, team) == ["a", "c"]
    schema = master.get("schemas/Team").json_body["fields"]
    assert schema["members"] == {"type": "Relation", "targetClass": "Person"}
    # querying the owner by a member
    r = master.get("classes/Team", where={"members": ptr("Person", a)})
    assert ids(r.json_body["results"]) == [team]
    r = master.get("classes/Team", where={"members": ptr("Person", b)})
    assert r.json_body["results"] == []


def test_batch_of_relation_ops(master: ParseClient) -> None:
    a, b, c = (create(master, "Person", {"name": n}) for n in "abc")
    team = create(
        master, "Team", {"members": {"__op": "AddRelation", "objects": [ptr("Person", a)]}}
    )
    body = update(
        master,
        f"classes/Team/{team}",
        {
            "members": {
                "__op": "Batch",
                "ops": [
                    {"__op": "AddRelation", "objects": [ptr("Person", b), ptr("Person", c)]},
                    {"__op": "RemoveRelation", "objects": [ptr("Person", a)]},
                ],
            }
        },
    )
    assert set(body) == {"updatedAt"}
    assert _members(master, team) == ["b", "c"]


def test_batch_op_on_create(master: ParseClient) -> None:
    a, b = (create(master, "Person", {"name": n}) for n in "ab")
    team = create(
        master,
        "Team",
        {
            "members": {
                "__op": "Batch",
                "ops": [
                    {"__op": "AddRelation", "objects": [ptr("Person", a), ptr("Person", b)]},
                    {"__op": "RemoveRelation", "objects": [ptr("Person", b)]},
                ],
            }
        },
    )
    assert _members(master, team) == ["a"]


@pytest.mark.parametrize(
    "op",
    [
        {"__op": "Batch", "ops": [{"__op": "Increment"}]},
        {"__op": "Batch", "ops": "nope"},
        {"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": "Person"}]},
        {"__op": "AddRelation", "objects": [1]},
        {"__op": "AddRelation", "objects": "x"},
        {"__op": "Frobnicate"},
    ],
)
def test_bad_relation_and_batch_ops(op: dict[str, Any], master: ParseClient) -> None:
    team = create(master, "Team", {"name": "t"})
    r = master.put(f"classes/Team/{team}", {"members": op})
    assert r.status_code == 400
    assert r.json_body["code"] in (106, 107, 111), r.json_body
    assert "members" not in master.get("schemas/Team").json_body["fields"]


def test_relation_of_mixed_classes_is_refused(master: ParseClient) -> None:
    a = create(master, "Person", {"name": "a"})
    t = create(master, "Target", {})
    team = create(master, "Team", {"name": "t"})
    r = master.put(
        f"classes/Team/{team}",
        {
            "members": {
                "__op": "Batch",
                "ops": [
                    {"__op": "AddRelation", "objects": [ptr("Person", a)]},
                    {"__op": "AddRelation", "objects": [ptr("Target", t)]},
                ],
            }
        },
    )
    assert r.status_code == 400 and r.json_body["code"] == 111
    r = master.put(
        f"classes/Team/{team}",
        {"members": {"__op": "AddRelation", "objects": [ptr("Person", a), ptr("Target", t)]}},
    )
    assert r.status_code == 400 and r.json_body["code"] == 111


def test_relation_to_another_class_than_the_schema_is_a_mismatch(master: ParseClient) -> None:
    a = create(master, "Person", {"name": "a"})
    t = create(master, "Target", {})
    team = create(
        master, "Team", {"members": {"__op": "AddRelation", "objects": [ptr("Person", a)]}}
    )
    r = master.put(
        f"classes/Team/{team}",
        {"members": {"__op": "AddRelation", "objects": [ptr("Target", t)]}},
    )
    assert r.status_code == 400
    assert r.json_body == {
        "code": 111,
        "error": "schema mismatch for Team.members; expected relation<Person> but got relation<Target>",
    }
    assert _members(master, team) == ["a"]


def test_relation_op_on_a_dotted_key_is_refused(master: ParseClient) -> None:
    a = create(master, "Person", {"name": "a"})
    team = create(master, "Team", {"o": {}})
    r = master.put(
        f"classes/Team/{team}",
        {"o.members": {"__op": "AddRelation", "objects": [ptr("Person", a)]}},
    )
    assert r.status_code == 400 and r.json_body["code"] == 105


def test_deleting_an_object_drops_its_relation_rows(master: ParseClient) -> None:
    a = create(master, "Person", {"name": "a"})
    team = create(
        master, "Team", {"members": {"__op": "AddRelation", "objects": [ptr("Person", a)]}}
    )
    from backend_kit.objects.models import RelationEntry

    assert RelationEntry.objects.filter(owner_id=team).count() == 1
    master.delete(f"classes/Team/{team}")
    assert RelationEntry.objects.filter(owner_id=team).count() == 0
