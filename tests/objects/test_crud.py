"""Create, read, update and delete objects through /classes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit

pytestmark = pytest.mark.django_db

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_create_answers_201_location_and_id(master: ParseClient) -> None:
    r = master.post("classes/GameScore", {"score": 1337, "playerName": "Sean"})
    assert r.status_code == 201
    assert set(r.json_body) == {"objectId", "createdAt"}
    oid = r.json_body["objectId"]
    assert re.fullmatch(r"[A-Za-z0-9]{10}", oid)
    assert ISO_RE.match(r.json_body["createdAt"])
    assert r["Location"] == f"http://testserver/parse/classes/GameScore/{oid}"


@override_settings(BACKEND_KIT=kit(SERVER_URL=None))
def test_location_without_server_url_follows_the_request(master: ParseClient) -> None:
    r = master.post("classes/GameScore", {"score": 1})
    assert r["Location"] == f"http://testserver/parse/classes/GameScore/{r.json_body['objectId']}"


def test_get_returns_fields_and_timestamps(master: ParseClient) -> None:
    created = master.post("classes/GameScore", {"score": 5, "cheatMode": False}).json_body
    got = master.get(f"classes/GameScore/{created['objectId']}")
    assert got.status_code == 200
    body = got.json_body
    assert body["objectId"] == created["objectId"]
    assert body["score"] == 5 and body["cheatMode"] is False
    assert body["createdAt"] == created["createdAt"] == body["updatedAt"]
    assert "ACL" not in body


def test_update_answers_updated_at_only(master: ParseClient) -> None:
    oid = master.post("classes/GameScore", {"score": 5}).json_body["objectId"]
    before = master.get(f"classes/GameScore/{oid}").json_body
    r = master.put(f"classes/GameScore/{oid}", {"score": 6, "name": "x"})
    assert r.status_code == 200
    assert set(r.json_body) == {"updatedAt"}
    after = master.get(f"classes/GameScore/{oid}").json_body
    assert after["score"] == 6 and after["name"] == "x"
    assert after["updatedAt"] == r.json_body["updatedAt"]
    assert after["updatedAt"] >= before["updatedAt"]
    assert after["createdAt"] == before["createdAt"]


def test_read_only_fields_in_a_body_are_ignored(master: ParseClient) -> None:
    r = master.post(
        "classes/GameScore",
        {
            "score": 1,
            "createdAt": "2000-01-01T00:00:00.000Z",
            "updatedAt": "2000-01-01T00:00:00.000Z",
        },
    )
    assert r.status_code == 201
    assert not r.json_body["createdAt"].startswith("2000")
    oid = r.json_body["objectId"]
    assert master.put(f"classes/GameScore/{oid}", {"updatedAt": "x"}).status_code == 200


def test_delete_then_gone(master: ParseClient) -> None:
    oid = master.post("classes/GameScore", {"score": 1}).json_body["objectId"]
    r = master.delete(f"classes/GameScore/{oid}")
    assert r.status_code == 200 and r.json_body == {}
    for r in (
        master.get(f"classes/GameScore/{oid}"),
        master.put(f"classes/GameScore/{oid}", {"score": 2}),
        master.delete(f"classes/GameScore/{oid}"),
    ):
        assert r.status_code == 404
        assert r.json_body == {"code": 101, "error": "Object not found."}


def test_missing_class(master: ParseClient) -> None:
    r = master.get("classes/Nothing")
    assert r.status_code == 200 and r.json_body == {"results": []}
    r = master.get("classes/Nothing", count=1, limit=0)
    assert r.json_body == {"results": [], "count": 0}
    for r in (
        master.get("classes/Nothing/abc"),
        master.put("classes/Nothing/abc", {"a": 1}),
        master.delete("classes/Nothing/abc"),
    ):
        assert r.status_code == 404 and r.json_body["code"] == 101
    # a failed update did not create the class
    assert master.get("schemas/Nothing").status_code == 400


def test_client_may_not_create_a_class(api: ParseClient, master: ParseClient) -> None:
    r = api.post("classes/Brand", {"a": 1})
    assert r.status_code == 400
    assert r.json_body == {"code": 119, "error": "Permission denied"}
    # reads, counts and updates on a class that does not exist are refused to clients too
    assert api.get("classes/Brand").json_body == {"code": 119, "error": "Permission denied"}
    assert api.get("classes/Brand", count=1, limit=0).status_code == 400
    assert api.get("classes/Brand/x").json_body["code"] == 119
    assert api.put("classes/Brand/x", {"a": 1}).json_body["code"] == 119
    assert master.get("schemas/Brand").status_code == 400
    with override_settings(BACKEND_KIT=kit(SANITIZE_PERMISSION_ERRORS=False)):
        r = api.post("classes/Brand", {"a": 1})
        assert r.json_body == {
            "code": 119,
            "error": "This user is not allowed to access non-existent class: Brand",
        }


@override_settings(BACKEND_KIT=kit(ALLOW_CLIENT_CLASS_CREATION=True))
def test_client_class_creation_when_allowed(api: ParseClient, master: ParseClient) -> None:
    assert api.post("classes/Brand", {"a": 1}).status_code == 201
    assert master.get("schemas/Brand").json_body["fields"]["a"] == {"type": "Number"}


def test_all_types_round_trip(master: ParseClient) -> None:
    master.post("classes/Target", {})
    target = master.post("classes/Target", {"n": 1}).json_body["objectId"]
    values = {
        "string": "héllo ✓",
        "number": 3.25,
        "integer": 7,
        "boolean": True,
        "date": {"__type": "Date", "iso": "2026-01-02T03:04:05.678Z"},
        "pointer": {"__type": "Pointer", "className": "Target", "objectId": target},
        "geo": {"__type": "GeoPoint", "latitude": 40.0, "longitude": -30.5},
        "bytes": {"__type": "Bytes", "base64": "aGVsbG8="},
        "polygon": {"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [1, 1], [1, 0]]},
        "object": {"nested": {"deep": [1, "two", {"three": 3}]}, "empty": {}},
        "array": [1, "a", {"__type": "Pointer", "className": "Target", "objectId": target}],
        "file": {"__type": "File", "name": "abc_photo.png"},
    }
    r = master.post("classes/Typed", values)
    assert r.status_code == 201, r.json_body
    got = master.get(f"classes/Typed/{r.json_body['objectId']}").json_body
    for key, value in values.items():
        if key == "file":
            assert got[key]["__type"] == "File" and got[key]["name"] == "abc_photo.png"
            assert got[key]["url"].endswith("/abc_photo.png")
        elif key == "polygon":  # stored with its ring closed, as Parse Server does
            assert got[key]["coordinates"] == [*value["coordinates"], value["coordinates"][0]]
        else:
            assert got[key] == value, key
    fields = master.get("schemas/Typed").json_body["fields"]
    assert {k: v["type"] for k, v in fields.items() if k in values} == {
        "string": "String",
        "number": "Number",
        "integer": "Number",
        "boolean": "Boolean",
        "date": "Date",
        "pointer": "Pointer",
        "geo": "GeoPoint",
        "bytes": "Bytes",
        "polygon": "Polygon",
        "object": "Object",
        "array": "Array",
        "file": "File",
    }
    assert fields["pointer"]["targetClass"] == "Target"


def test_dates_are_normalised(master: ParseClient) -> None:
    oid = master.post(
        "classes/When", {"at": {"__type": "Date", "iso": "2026-01-02T04:04:05+01:00"}}
    ).json_body["objectId"]
    got = master.get(f"classes/When/{oid}").json_body
    assert got["at"] == {"__type": "Date", "iso": "2026-01-02T03:04:05.000Z"}


def test_pointer_to_an_included_object_is_stored_as_a_pointer(master: ParseClient) -> None:
    tid = master.post("classes/Target", {"n": 1}).json_body["objectId"]
    r = master.post(
        "classes/Holder",
        {"p": {"__type": "Object", "className": "Target", "objectId": tid, "n": 1}},
    )
    got = master.get(f"classes/Holder/{r.json_body['objectId']}").json_body
    assert got["p"] == {"__type": "Pointer", "className": "Target", "objectId": tid}


def test_relation_field_reads_as_a_relation(master: ParseClient) -> None:
    tid = master.post("classes/Target", {"n": 1}).json_body["objectId"]
    oid = master.post(
        "classes/Team",
        {
            "members": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Target", "objectId": tid}],
            }
        },
    ).json_body["objectId"]
    got = master.get(f"classes/Team/{oid}").json_body
    assert got["members"] == {"__type": "Relation", "className": "Target"}


def test_type_mismatch_on_update_is_111(master: ParseClient) -> None:
    oid = master.post("classes/GameScore", {"score": 1}).json_body["objectId"]
    r = master.put(f"classes/GameScore/{oid}", {"score": "high"})
    assert r.status_code == 400
    assert r.json_body == {
        "code": 111,
        "error": "schema mismatch for GameScore.score; expected Number but got String",
    }
    assert master.get(f"classes/GameScore/{oid}").json_body["score"] == 1


def test_null_and_delete(master: ParseClient) -> None:
    oid = master.post("classes/GameScore", {"score": 1, "name": "x"}).json_body["objectId"]
    r = master.put(f"classes/GameScore/{oid}", {"name": {"__op": "Delete"}})
    assert r.status_code == 200
    got = master.get(f"classes/GameScore/{oid}").json_body
    assert "name" not in got
    # deleting a field that is not there is fine
    assert master.put(f"classes/GameScore/{oid}", {"nope": {"__op": "Delete"}}).status_code == 200


def test_acl_round_trip_and_removal(master: ParseClient) -> None:
    acl = {"*": {"read": True}, "u1": {"read": True, "write": True}, "role:Admins": {"write": True}}
    oid = master.post("classes/Doc", {"a": 1, "ACL": acl}).json_body["objectId"]
    assert master.get(f"classes/Doc/{oid}").json_body["ACL"] == acl
    r = master.put(f"classes/Doc/{oid}", {"ACL": {"u2": {"read": True}}})
    assert r.status_code == 200
    assert master.get(f"classes/Doc/{oid}").json_body["ACL"] == {"u2": {"read": True}}


def test_required_and_default_values(master: ParseClient) -> None:
    r = master.post(
        "schemas/Profile",
        {
            "className": "Profile",
            "fields": {
                "name": {"type": "String", "required": True},
                "level": {"type": "Number", "defaultValue": 1},
                "tags": {"type": "Array", "defaultValue": ["new"]},
            },
        },
    )
    assert r.status_code == 200, r.json_body
    r = master.post("classes/Profile", {"level": 3})
    assert r.status_code == 400
    assert r.json_body == {"code": 142, "error": "name is required"}
    r = master.post("classes/Profile", {"name": ""})
    assert r.status_code == 400 and r.json_body["code"] == 142
    r = master.post("classes/Profile", {"name": "a"})
    assert r.status_code == 201, r.json_body
    # the defaults are set and answered, as Parse does
    assert r.json_body["level"] == 1 and r.json_body["tags"] == ["new"]
    got = master.get(f"classes/Profile/{r.json_body['objectId']}").json_body
    assert got["level"] == 1 and got["tags"] == ["new"]
    oid = got["objectId"]
    for change in ({"name": None}, {"name": {"__op": "Delete"}}, {"name": ""}):
        r = master.put(f"classes/Profile/{oid}", change)
        assert r.status_code == 400 and r.json_body["code"] == 142, change
    assert master.get(f"classes/Profile/{oid}").json_body["name"] == "a"
    assert master.get("classes/Profile", count=1, limit=0).json_body["count"] == 1


def test_custom_object_id(master: ParseClient) -> None:
    r = master.post("classes/GameScore", {"objectId": "mine", "score": 1})
    assert r.status_code == 400
    assert r.json_body == {"code": 105, "error": "objectId is an invalid field name."}
    with override_settings(BACKEND_KIT=kit(ALLOW_CUSTOM_OBJECT_ID=True)):
        r = master.post("classes/GameScore", {"objectId": "mine", "score": 1})
        assert r.status_code == 201 and r.json_body["objectId"] == "mine"
        again = master.post("classes/GameScore", {"objectId": "mine", "score": 2})
        assert again.status_code == 400 and again.json_body["code"] == 137
        r = master.post("classes/GameScore", {"objectId": "", "score": 1})
        assert r.status_code == 400 and r.json_body["code"] == 104
    assert master.get("classes/GameScore/mine").json_body["score"] == 1


@pytest.mark.parametrize("size", [10, 100])
def test_many_objects_and_default_limit(size: int, master: ParseClient) -> None:
    body = {
        "requests": [
            {"method": "POST", "path": "/parse/classes/Bulk", "body": {"i": i}}
            for i in range(size + 5)
        ]
    }
    assert master.post("batch", body).status_code == 200
    with override_settings(BACKEND_KIT=kit(DEFAULT_LIMIT=size)):
        r = master.get("classes/Bulk")
        assert len(r.json_body["results"]) == size


def test_object_too_large_is_refused(master: ParseClient) -> None:
    with override_settings(BACKEND_KIT=kit(MAX_OBJECT_SIZE=1000)):
        r = master.post("classes/Big", {"blob": "x" * 2000})
        assert r.status_code == 400 and r.json_body["code"] == 116
        oid = master.post("classes/Big", {"blob": "x"}).json_body["objectId"]
        r = master.put(f"classes/Big/{oid}", {"blob": "y" * 2000})
        assert r.status_code == 400 and r.json_body["code"] == 116
    assert master.get(f"classes/Big/{oid}").json_body["blob"] == "x"


def test_unicode_and_large_numbers(master: ParseClient) -> None:
    values: dict[str, Any] = {"s": "日本語 😀 end", "big": 2**53, "neg": -1.5e-9}
    r = master.post("classes/Odd", values)
    assert r.status_code == 201, r.json_body
    got = master.get(f"classes/Odd/{r.json_body['objectId']}").json_body
    assert got == {**got, **values}


@pytest.mark.parametrize(
    "body",
    [
        {"s": "a\u0000b"},
        {"o": {"k\u0000": 1}},
        {"arr": {"__op": "Add", "objects": ["\u0000"]}},
    ],
)
def test_nul_characters_are_refused_on_every_backend(body: Any, master: ParseClient) -> None:
    # PostgreSQL's jsonb cannot hold U+0000: refused up front, never a 500
    r = master.post("classes/Odd", body)
    assert r.status_code == 400 and r.json_body["code"] in (107, 121), r.json_body
    r = master.get("classes/Odd", where={"s": "a\u0000b"})
    assert r.status_code == 400 and r.json_body["code"] == 102
    assert master.get("classes/Odd", count=1, limit=0).json_body["count"] == 0
