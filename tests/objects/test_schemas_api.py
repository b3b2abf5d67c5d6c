"""/schemas: create, read, list, update (fields, CLPs, indexes), delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ParseClient

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "objectId": {"type": "String"},
    "createdAt": {"type": "Date"},
    "updatedAt": {"type": "Date"},
    "ACL": {"type": "ACL"},
}
PUBLIC_CLP = {
    "find": {"*": True},
    "count": {"*": True},
    "get": {"*": True},
    "create": {"*": True},
    "update": {"*": True},
    "delete": {"*": True},
    "addField": {"*": True},
    "protectedFields": {"*": []},
}
EMPTY_CLP = {
    "find": {},
    "count": {},
    "get": {},
    "create": {},
    "update": {},
    "delete": {},
    "addField": {},
    "protectedFields": {},
}


def clp_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body["classLevelPermissions"].items() if k != "ACL"}


# --- create / get / list ------------------------------------------------------------------


def test_create_and_get(master: ParseClient) -> None:
    r = master.post(
        "schemas/Game",
        {
            "className": "Game",
            "fields": {
                "name": {"type": "String", "required": True},
                "score": {"type": "Number", "defaultValue": 0},
                "owner": {"type": "Pointer", "targetClass": "_User"},
                "players": {"type": "Relation", "targetClass": "_User"},
                "when": {"type": "Date"},
            },
        },
    )
    assert r.status_code == 200, r.json_body
    body = r.json_body
    assert body["className"] == "Game"
    assert body["fields"] == {
        **DEFAULTS,
        "name": {"type": "String", "required": True},
        "score": {"type": "Number", "defaultValue": 0},
        "owner": {"type": "Pointer", "targetClass": "_User"},
        "players": {"type": "Relation", "targetClass": "_User"},
        "when": {"type": "Date"},
    }
    assert clp_of(body) == PUBLIC_CLP
    got = master.get("schemas/Game")
    assert got.status_code == 200
    assert got.json_body == body


def test_create_from_the_body_class_name(master: ParseClient) -> None:
    r = master.post("schemas", {"className": "Other", "fields": {"a": {"type": "Boolean"}}})
    assert r.status_code == 200, r.json_body
    assert r.json_body["fields"]["a"] == {"type": "Boolean"}
    r = master.post("schemas", {"fields": {}})
    assert r.status_code == 400
    assert r.json_body == {"code": 135, "error": "POST /schemas needs a class name."}


def test_create_errors(master: ParseClient) -> None:
    master.post("schemas/Game", {})
    cases = [
        ("schemas/Game", {}, 103, "Class Game already exists."),
        (
            "schemas/Game",
            {"className": "Other"},
            103,
            "Class name mismatch between Other and Game.",
        ),
        (
            "schemas/1Bad",
            {},
            103,
            "Invalid classname: 1Bad, classnames can only have alphanumeric characters and _, "
            "and must start with an alpha character ",
        ),
        ("schemas/_Private", {}, 103, None),
        ("schemas/New1", {"fields": {"1a": {"type": "String"}}}, 105, "invalid field name: 1a"),
        (
            "schemas/New2",
            {"fields": {"objectId": {"type": "String"}}},
            136,
            "field objectId cannot be added",
        ),
        ("schemas/New3", {"fields": {"a": {"type": "Nope"}}}, 111, "invalid field type: Nope"),
        (
            "schemas/New4",
            {"fields": {"a": {"type": "Pointer"}}},
            135,
            "type Pointer needs a class name",
        ),
        (
            "schemas/New5",
            {"fields": {"a": {"type": "Relation", "targetClass": 5}}},
            107,
            "invalid JSON",
        ),
        ("schemas/New6", {"fields": {"a": {"type": 5}}}, 107, "invalid JSON"),
        (
            "schemas/New7",
            {"fields": {"a": {"type": "Pointer", "targetClass": "1x"}}},
            103,
            None,
        ),
        (
            "schemas/New8",
            {"fields": {"a": {"type": "Number", "defaultValue": "x"}}},
            111,
            "schema mismatch for New8.a default value; expected Number but got String",
        ),
        (
            "schemas/New9",
            {"fields": {"a": {"type": "Relation", "targetClass": "X", "required": True}}},
            111,
            "The 'required' option is not applicable for relation<X>",
        ),
        (
            "schemas/New10",
            {"fields": {"length": {"type": "Number"}}},
            105,
            "invalid field name: length",
        ),
        ("schemas/New11", {"fields": {"ACL": {"type": "ACL"}}}, 136, "field ACL cannot be added"),
    ]
    for path, body, code, message in cases:
        r = master.post(path, body)
        assert r.status_code == 400, (path, r.json_body)
        assert r.json_body["code"] == code, (path, r.json_body)
        if message is not None:
            assert r.json_body["error"] == message, path
    names = [s["className"] for s in master.get("schemas").json_body["results"]]
    assert not [n for n in names if n.startswith("New")]


def test_get_missing_class_is_103(master: ParseClient) -> None:
    r = master.get("schemas/Missing")
    assert r.status_code == 400
    assert r.json_body == {"code": 103, "error": "Class Missing does not exist."}


def test_list(master: ParseClient) -> None:
    master.post("schemas/B", {})
    master.post("classes/A", {"x": 1})
    results = master.get("schemas").json_body["results"]
    names = [s["className"] for s in results]
    assert {"A", "B", "_User", "_Role"} <= set(names)
    a = next(s for s in results if s["className"] == "A")
    assert a["fields"]["x"] == {"type": "Number"}
    user = next(s for s in results if s["className"] == "_User")
    assert {"username", "password", "email", "emailVerified", "authData"} <= set(user["fields"])


def test_schema_endpoints_are_master_only(api: ParseClient) -> None:
    for method, path in [
        ("GET", "schemas"),
        ("GET", "schemas/A"),
        ("POST", "schemas/A"),
        ("PUT", "schemas/A"),
        ("DELETE", "schemas/A"),
    ]:
        r = api.request(method, path, {} if method != "GET" else None)
        assert r.status_code == 403
        assert r.json_body == {"error": "Permission denied"}


# --- update fields --------------------------------------------------------------------------


def test_add_and_delete_fields(master: ParseClient) -> None:
    master.post("schemas/Game", {"fields": {"a": {"type": "String"}, "b": {"type": "Number"}}})
    oid = master.post("classes/Game", {"a": "x", "b": 1, "c": True}).json_body["objectId"]
    r = master.put(
        "schemas/Game",
        {"fields": {"a": {"__op": "Delete"}, "d": {"type": "GeoPoint"}}},
    )
    assert r.status_code == 200, r.json_body
    fields = r.json_body["fields"]
    assert "a" not in fields and fields["d"] == {"type": "GeoPoint"}
    assert fields["c"] == {"type": "Boolean"}
    # the data of a deleted field is gone from every object
    got = master.get(f"classes/Game/{oid}").json_body
    assert "a" not in got and got["b"] == 1
    # re-added with another type
    r = master.put("schemas/Game", {"fields": {"a": {"type": "Number"}}})
    assert r.status_code == 200, r.json_body
    assert master.put(f"classes/Game/{oid}", {"a": 5}).status_code == 200


def test_update_errors(master: ParseClient) -> None:
    master.post("schemas/Game", {"fields": {"a": {"type": "String"}}})
    cases = [
        ({"fields": {"a": {"type": "Number"}}}, 255, "Field a exists, cannot update."),
        ({"fields": {"zz": {"__op": "Delete"}}}, 255, "Field zz does not exist, cannot delete."),
        ({"fields": {"1x": {"type": "String"}}}, 105, "invalid field name: 1x"),
        ({"className": "Other"}, 103, "Class name mismatch between Other and Game."),
        ({"fields": {"b": {"type": "Array", "defaultValue": 3}}}, 111, None),
    ]
    for body, code, message in cases:
        r = master.put("schemas/Game", body)
        assert r.status_code == 400, (body, r.json_body)
        assert r.json_body["code"] == code, (body, r.json_body)
        if message:
            assert r.json_body["error"] == message
    r = master.put("schemas/Missing", {"fields": {"a": {"type": "String"}}})
    assert r.status_code == 400
    assert r.json_body == {"code": 103, "error": "Class Missing does not exist."}
    assert set(master.get("schemas/Game").json_body["fields"]) == {*DEFAULTS, "a"}


def test_update_with_the_same_type_is_accepted(master: ParseClient) -> None:
    # Parse refuses a field that exists with another type only
    master.post("schemas/Game", {"fields": {"a": {"type": "String"}}})
    r = master.put("schemas/Game", {"fields": {"a": {"type": "String"}, "b": {"type": "Object"}}})
    assert r.status_code == 200, r.json_body
    assert r.json_body["fields"]["b"] == {"type": "Object"}


def test_a_failed_update_changes_nothing(master: ParseClient) -> None:
    master.post("schemas/Game", {"fields": {"a": {"type": "String"}}})
    r = master.put(
        "schemas/Game",
        {
            "fields": {"a": {"__op": "Delete"}, "b": {"type": "Number"}},
            "classLevelPermissions": {"find": {"*": "yes"}},
        },
    )
    assert r.status_code == 400
    body = master.get("schemas/Game").json_body
    assert "a" in body["fields"] and "b" not in body["fields"]
    assert clp_of(body) == PUBLIC_CLP


def test_default_fields_cannot_be_deleted(master: ParseClient) -> None:
    master.post("schemas/Game", {})
    r = master.put("schemas/Game", {"fields": {"createdAt": {"__op": "Delete"}}})
    assert r.status_code == 400


def test_deleting_a_relation_field_drops_its_rows(master: ParseClient) -> None:
    from backend_kit.objects.models import RelationEntry

    uid = master.post("classes/Person", {}).json_body["objectId"]
    master.post(
        "classes/Team",
        {
            "m": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Person", "objectId": uid}],
            }
        },
    )
    assert RelationEntry.objects.filter(owner_class="Team").count() == 1
    r = master.put("schemas/Team", {"fields": {"m": {"__op": "Delete"}}})
    assert r.status_code == 200, r.json_body
    assert RelationEntry.objects.filter(owner_class="Team").count() == 0


# --- class-level permissions ---------------------------------------------------------------


def test_set_and_read_clps(master: ParseClient) -> None:
    master.post(
        "schemas/Game",
        {
            "fields": {
                "owner": {"type": "Pointer", "targetClass": "_User"},
                "secret": {"type": "String"},
            }
        },
    )
    clp = {
        "find": {"requiresAuthentication": True, "role:Admins": True},
        "get": {"*": True},
        "count": {"u1": True},
        "create": {"pointerFields": ["owner"]},
        "update": {},
        "delete": {},
        "addField": {},
        "readUserFields": ["owner"],
        "writeUserFields": ["owner"],
        "protectedFields": {"*": ["secret"], "role:Admins": [], "userField:owner": []},
    }
    r = master.put("schemas/Game", {"classLevelPermissions": clp})
    assert r.status_code == 200, r.json_body
    assert clp_of(r.json_body) == clp
    assert clp_of(master.get("schemas/Game").json_body) == clp


def test_an_empty_clp_locks_the_class(master: ParseClient, api: ParseClient) -> None:
    r = master.post("schemas/Game", {"classLevelPermissions": {}})
    assert clp_of(r.json_body) == EMPTY_CLP
    assert api.get("classes/Game").status_code == 400
    assert api.post("classes/Game", {"a": 1}).json_body["code"] == 119
    # a partial CLP leaves the other operations closed (Parse merges over empty ones)
    r = master.put("schemas/Game", {"classLevelPermissions": {"find": {"*": True}}})
    assert clp_of(r.json_body) == {**EMPTY_CLP, "find": {"*": True}}
    assert api.get("classes/Game").status_code == 200
    assert api.post("classes/Game", {"a": 1}).status_code == 400
    # null goes back to the defaults
    r = master.put("schemas/Game", {"classLevelPermissions": None})
    assert clp_of(r.json_body) == PUBLIC_CLP
    assert api.post("classes/Game", {"a": 1}).status_code == 201


@pytest.mark.parametrize(
    "clp,message",
    [
        ({"foo": {}}, "foo is not a valid operation for class level permissions"),
        (
            {"find": True},
            "'true' is not a valid value for class level permissions find - must be an object",
        ),
        (
            {"find": {"*": False}},
            "'false' is not a valid value for class level permissions acl find:*",
        ),
        ({"find": {"*": 1}}, "'1' is not a valid value for class level permissions acl find:*"),
        ({"find": {"bad key": True}}, "'bad key' is not a valid key for class level permissions"),
        (
            {"find": {"pointerFields": "owner"}},
            "'owner' is not a valid value for find[pointerFields] - expected an array.",
        ),
        ({"find": {"pointerFields": ["name"]}}, None),
        (
            {"readUserFields": "owner"},
            "'owner' is not a valid value for class level permissions readUserFields - must be an array",
        ),
        (
            {"readUserFields": ["nope"]},
            "'nope' is not a valid column for class level pointer permissions readUserFields",
        ),
        (
            {"writeUserFields": ["name"]},
            "'name' is not a valid column for class level pointer permissions writeUserFields",
        ),
        (
            {"protectedFields": {"*": ["createdAt"]}},
            "Default field 'createdAt' can not be protected",
        ),
        ({"protectedFields": {"*": ["nope"]}}, "Field 'nope' in protectedFields:* does not exist"),
        (
            {"protectedFields": {"*": "name"}},
            "'name' is not a valid value for protectedFields[*] - expected an array.",
        ),
        (
            {"protectedFields": {"bad key": []}},
            "'bad key' is not a valid key for class level permissions",
        ),
        (
            {"ACL": {"*": {"read": "yes"}}},
            "'yes' is not a valid value for class level permissions acl",
        ),
        (
            {"ACL": {"*": {"delete": True}}},
            "'delete' is not a valid key for class level permissions acl",
        ),
        ({"ACL": {"*": True}}, "'true' is not a valid value for class level permissions acl"),
    ],
)
def test_clp_validation_errors(
    clp: dict[str, Any], message: str | None, master: ParseClient
) -> None:
    master.post(
        "schemas/Game",
        {
            "fields": {
                "owner": {"type": "Pointer", "targetClass": "_User"},
                "name": {"type": "String"},
            }
        },
    )
    r = master.put("schemas/Game", {"classLevelPermissions": clp})
    assert r.status_code == 400
    assert r.json_body["code"] == 107
    if message is not None:
        assert r.json_body["error"] == message
    # the same on create
    r = master.post(
        "schemas/Game2",
        {
            "fields": {
                "owner": {"type": "Pointer", "targetClass": "_User"},
                "name": {"type": "String"},
            },
            "classLevelPermissions": clp,
        },
    )
    assert r.status_code == 400 and r.json_body["code"] == 107
    assert master.get("schemas/Game2").status_code == 400


def test_clp_pointer_fields_may_be_arrays(master: ParseClient) -> None:
    master.post("schemas/Game", {"fields": {"owners": {"type": "Array"}}})
    r = master.put(
        "schemas/Game",
        {
            "classLevelPermissions": {
                "find": {"pointerFields": ["owners"]},
                "readUserFields": ["owners"],
            }
        },
    )
    assert r.status_code == 200, r.json_body


# --- indexes -------------------------------------------------------------------------------


def test_add_and_delete_indexes(master: ParseClient) -> None:
    master.post(
        "schemas/Game", {"fields": {"name": {"type": "String"}, "score": {"type": "Number"}}}
    )
    r = master.put(
        "schemas/Game", {"indexes": {"by_name": {"name": 1}, "by_score": {"score": -1, "name": 1}}}
    )
    assert r.status_code == 200, r.json_body
    indexes = r.json_body["indexes"]
    assert indexes["by_name"] == {"name": 1}
    assert indexes["by_score"] == {"score": -1, "name": 1}
    assert master.get("schemas/Game").json_body["indexes"]["by_name"] == {"name": 1}
    # queries still work with the indexes in place
    master.post("classes/Game", {"name": "a", "score": 1})
    assert len(master.get("classes/Game", where={"name": "a"}).json_body["results"]) == 1
    r = master.put("schemas/Game", {"indexes": {"by_name": {"__op": "Delete"}}})
    assert r.status_code == 200, r.json_body
    assert "by_name" not in r.json_body.get("indexes", {})
    assert "by_score" in r.json_body["indexes"]


def test_index_errors(master: ParseClient) -> None:
    master.post(
        "schemas/Game",
        {"fields": {"name": {"type": "String"}}, "indexes": {"by_name": {"name": 1}}},
    )
    cases = [
        ({"by_name": {"name": 1}}, "Index by_name exists, cannot update."),
        ({"nope": {"__op": "Delete"}}, "Index nope does not exist, cannot delete."),
        ({"by_x": {"missing": 1}}, "Field missing does not exist, cannot add index."),
    ]
    for indexes, message in cases:
        r = master.put("schemas/Game", {"indexes": indexes})
        assert r.status_code == 400
        assert r.json_body == {"code": 102, "error": message}
    assert set(master.get("schemas/Game").json_body["indexes"]) - {"_id_"} == {"by_name"}


def test_index_created_with_the_class(master: ParseClient) -> None:
    r = master.post(
        "schemas/Game", {"fields": {"name": {"type": "String"}}, "indexes": {"ix": {"name": 1}}}
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["indexes"]["ix"] == {"name": 1}


def test_deleting_a_field_drops_its_indexes(master: ParseClient) -> None:
    master.post(
        "schemas/Game",
        {
            "fields": {"name": {"type": "String"}, "n": {"type": "Number"}},
            "indexes": {"ix": {"name": 1}, "iy": {"n": 1}},
        },
    )
    r = master.put("schemas/Game", {"fields": {"name": {"__op": "Delete"}}})
    assert r.status_code == 200, r.json_body
    assert "ix" not in r.json_body.get("indexes", {})
    assert "iy" in r.json_body["indexes"]


# --- delete ----------------------------------------------------------------------------------


def test_delete_empty_class(master: ParseClient) -> None:
    master.post("schemas/Game", {"fields": {"a": {"type": "String"}}, "indexes": {"ix": {"a": 1}}})
    r = master.delete("schemas/Game")
    assert r.status_code == 200 and r.json_body == {}
    assert master.get("schemas/Game").status_code == 400
    # the name is free again
    assert master.post("schemas/Game", {"indexes": {"ix": {"objectId": 1}}}).status_code == 200


def test_delete_non_empty_class_is_255(master: ParseClient) -> None:
    master.post("classes/Game", {"a": 1})
    master.post("classes/Game", {"a": 2})
    r = master.delete("schemas/Game")
    assert r.status_code == 400
    assert r.json_body == {
        "code": 255,
        "error": "Class Game is not empty, contains 2 objects, cannot drop schema.",
    }
    assert master.get("schemas/Game").status_code == 200
    # after a purge it can go
    assert master.delete("purge/Game").status_code == 200
    assert master.delete("schemas/Game").status_code == 200


def test_delete_missing_or_invalid_class(master: ParseClient) -> None:
    # Parse answers {} for a class that does not exist
    r = master.delete("schemas/Missing")
    assert r.status_code == 200 and r.json_body == {}
    r = master.delete("schemas/1bad")
    assert r.status_code == 400 and r.json_body["code"] == 103
