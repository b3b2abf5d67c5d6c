"""ACLs and class-level permissions, driven through reads/writes with fake callers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from backend_kit.context import RequestContext
from backend_kit.errors import ParseError
from backend_kit.objects import reads, writes
from backend_kit.objects.schema import create_class
from tests.conftest import ParseClient
from tests.support import MASTER, ids, kit, public_ctx, user_ctx

pytestmark = pytest.mark.django_db

U1 = user_ctx("u1")
U2 = user_ctx("u2")
ADMIN = user_ctx("u3", ["Admins"])
PUBLIC = public_ctx()


def user_ptr(uid: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": "_User", "objectId": uid}


def new(class_name: str, body: dict[str, Any], ctx: RequestContext = MASTER) -> str:
    return writes.create(ctx, class_name, body).payload["objectId"]


def visible(ctx: RequestContext, class_name: str, **params: Any) -> list[str]:
    return ids(reads.find(ctx, class_name, params)["results"])


def can_get(ctx: RequestContext, class_name: str, oid: str) -> bool:
    try:
        reads.get(ctx, class_name, oid, {})
    except ParseError as exc:
        assert exc.code == 101, exc
        return False
    return True


def refused(call: Any, code: int = 119) -> ParseError:
    with pytest.raises(ParseError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


# --- ACL reads ------------------------------------------------------------------------------


@pytest.fixture
def docs() -> dict[str, str]:
    create_class("Doc")
    return {
        "none": new("Doc", {"n": "none", "ACL": {}}),
        "public": new("Doc", {"n": "public", "ACL": {"*": {"read": True}}}),
        "open": new("Doc", {"n": "open"}),  # no ACL: public read and write
        "u1": new("Doc", {"n": "u1", "ACL": {"u1": {"read": True, "write": True}}}),
        "u1_read": new("Doc", {"n": "u1_read", "ACL": {"u1": {"read": True}}}),
        "admins": new(
            "Doc", {"n": "admins", "ACL": {"role:Admins": {"read": True, "write": True}}}
        ),
        "public_read_u2_write": new(
            "Doc", {"n": "prw", "ACL": {"*": {"read": True}, "u2": {"write": True}}}
        ),
    }


@pytest.mark.parametrize(
    "ctx,expected",
    [
        (PUBLIC, {"public", "open", "public_read_u2_write"}),
        (U1, {"public", "open", "u1", "u1_read", "public_read_u2_write"}),
        (U2, {"public", "open", "public_read_u2_write"}),
        (ADMIN, {"public", "open", "admins", "public_read_u2_write"}),
        (MASTER, {"none", "public", "open", "u1", "u1_read", "admins", "public_read_u2_write"}),
    ],
    ids=["public", "u1", "u2", "admin", "master"],
)
def test_acl_reads(ctx: RequestContext, expected: set[str], docs: dict[str, str]) -> None:
    by_id = {v: k for k, v in docs.items()}
    assert {by_id[i] for i in visible(ctx, "Doc")} == expected
    assert {name for name, oid in docs.items() if can_get(ctx, "Doc", oid)} == expected
    count = reads.find(ctx, "Doc", {"count": 1, "limit": 0})["count"]
    assert count == len(expected)


@pytest.mark.parametrize(
    "ctx,writable",
    [
        (PUBLIC, {"open"}),
        (U1, {"open", "u1"}),
        (U2, {"open", "public_read_u2_write"}),
        (ADMIN, {"open", "admins"}),
    ],
    ids=["public", "u1", "u2", "admin"],
)
def test_acl_writes(ctx: RequestContext, writable: set[str], docs: dict[str, str]) -> None:
    for name, oid in docs.items():
        if name in writable:
            writes.update(ctx, "Doc", oid, {"touched": True})
        else:
            error = refused(lambda oid=oid: writes.update(ctx, "Doc", oid, {"touched": True}), 101)
            assert error.message == "Object not found."
    touched = {
        name for name, oid in docs.items() if reads.get(MASTER, "Doc", oid, {}).get("touched")
    }
    assert touched == writable
    for name, oid in docs.items():
        if name in writable:
            writes.delete(ctx, "Doc", oid)
        else:
            refused(lambda oid=oid: writes.delete(ctx, "Doc", oid), 101)
    remaining = set(visible(MASTER, "Doc"))
    assert remaining == {oid for name, oid in docs.items() if name not in writable}


def test_acl_is_part_of_the_query_so_limit_skip_count_stay_exact() -> None:
    create_class("Row")
    mine = []
    for i in range(12):
        acl = {"u1": {"read": True}} if i % 3 == 0 else {"u2": {"read": True}}
        oid = new("Row", {"i": i, "ACL": acl})
        if i % 3 == 0:
            mine.append(oid)
    page = reads.find(U1, "Row", {"order": "i", "limit": 2, "skip": 1, "count": 1})
    assert [o["i"] for o in page["results"]] == [3, 6]
    assert page["count"] == 4
    assert [o["i"] for o in reads.find(U1, "Row", {"order": "-i", "limit": 3})["results"]] == [
        9,
        6,
        3,
    ]
    assert reads.find(U1, "Row", {"skip": 4})["results"] == []


def test_acl_applies_inside_sub_queries() -> None:
    create_class("Author")
    create_class("Post")
    seen = new("Author", {"name": "seen"})
    hidden = new("Author", {"name": "hidden", "ACL": {}})
    p1 = new("Post", {"author": {"__type": "Pointer", "className": "Author", "objectId": seen}})
    new("Post", {"author": {"__type": "Pointer", "className": "Author", "objectId": hidden}})
    where = {"author": {"$inQuery": {"className": "Author", "where": {}}}}
    assert visible(U1, "Post", where=where) == [p1]
    assert len(visible(MASTER, "Post", where=where)) == 2
    where = {"author": {"$notInQuery": {"className": "Author", "where": {}}}}
    assert len(visible(U1, "Post", where=where)) == 1
    assert visible(MASTER, "Post", where=where) == []


def test_acl_on_update_replaces_and_delete_op_makes_public(docs: dict[str, str]) -> None:
    writes.update(U1, "Doc", docs["u1"], {"ACL": {"u2": {"read": True, "write": True}}})
    assert not can_get(U1, "Doc", docs["u1"])
    assert can_get(U2, "Doc", docs["u1"])
    writes.update(U2, "Doc", docs["u1"], {"ACL": {"__op": "Delete"}})
    assert can_get(PUBLIC, "Doc", docs["u1"])
    assert "ACL" not in reads.get(MASTER, "Doc", docs["u1"], {})


@pytest.mark.parametrize(
    "acl",
    [
        {"u1": {"read": "yes"}},
        {"u1": True},
        {"u1": {"delete": True}},
        {"role:": {"read": True}},
        {"bad key!": {"read": True}},
        ["u1"],
        "public",
    ],
)
def test_invalid_acls_are_123(acl: Any) -> None:
    create_class("Doc")
    refused(lambda: writes.create(MASTER, "Doc", {"ACL": acl}), 123)
    assert visible(MASTER, "Doc") == []


def test_acl_false_entries_are_dropped() -> None:
    create_class("Doc")
    oid = new("Doc", {"ACL": {"u1": {"read": True, "write": False}, "u2": {"read": False}}})
    assert reads.get(MASTER, "Doc", oid, {})["ACL"] == {"u1": {"read": True}}


# --- CLPs: operations ------------------------------------------------------------------------


def clp_class(name: str, clp: dict[str, Any], fields: dict[str, Any] | None = None) -> None:
    create_class(name, fields or {}, clp)


@pytest.mark.parametrize(
    "operation",
    ["find", "get", "count", "create", "update", "delete", "addField"],
)
def test_each_clp_operation(operation: str) -> None:
    others = {"find", "get", "count", "create", "update", "delete", "addField"} - {operation}
    clp = {op: {"*": True} for op in others}
    clp[operation] = {"u1": True, "role:Admins": True}
    clp_class("Game", clp, {"score": {"type": "Number"}})
    oid = new("Game", {"score": 1})

    def run(ctx: RequestContext) -> Any:
        if operation == "find":
            return reads.find(ctx, "Game", {})
        if operation == "get":
            return reads.get(ctx, "Game", oid, {})
        if operation == "count":
            return reads.find(ctx, "Game", {"count": 1, "limit": 0})
        if operation == "create":
            return writes.create(ctx, "Game", {"score": 2})
        if operation == "update":
            return writes.update(ctx, "Game", oid, {"score": 3})
        if operation == "delete":
            return writes.delete(ctx, "Game", new("Game", {"score": 0}))
        return writes.create(ctx, "Game", {"newField": 1})

    for ctx in (PUBLIC, U2):
        error = refused(lambda ctx=ctx: run(ctx))
        assert error.message == "Permission denied"
    for ctx in (U1, ADMIN, MASTER):
        run(ctx)


def test_count_with_results_needs_find_and_count() -> None:
    clp_class("Game", {"find": {"*": True}, "count": {}, "get": {"*": True}})
    new("Game", {"a": 1})
    assert len(reads.find(PUBLIC, "Game", {})["results"]) == 1
    refused(lambda: reads.find(PUBLIC, "Game", {"count": 1}))
    refused(lambda: reads.find(PUBLIC, "Game", {"count": 1, "limit": 0}))
    clp_class("Counted", {"find": {}, "count": {"*": True}})
    new("Counted", {"a": 1})
    assert reads.find(PUBLIC, "Counted", {"count": 1, "limit": 0})["count"] == 1
    refused(lambda: reads.find(PUBLIC, "Counted", {"count": 1, "limit": 5}))


def test_add_field_on_update() -> None:
    clp_class(
        "Game",
        {**{op: {"*": True} for op in ("find", "get", "create", "update")}, "addField": {}},
        {"a": {"type": "Number"}},
    )
    oid = new("Game", {"a": 1}, PUBLIC)
    writes.update(PUBLIC, "Game", oid, {"a": 2})
    refused(lambda: writes.update(PUBLIC, "Game", oid, {"b": 2}))
    assert "b" not in reads.get(MASTER, "Game", oid, {})
    # deleting a field that is not in the schema adds nothing
    writes.update(PUBLIC, "Game", oid, {"c": {"__op": "Delete"}})


def test_requires_authentication() -> None:
    clp_class(
        "Game",
        {
            op: {"requiresAuthentication": True}
            for op in ("find", "get", "count", "create", "update", "delete", "addField")
        },
    )
    error = refused(lambda: reads.find(PUBLIC, "Game", {}), 101)
    assert error.message == "Permission denied"
    refused(lambda: writes.create(PUBLIC, "Game", {"a": 1}), 101)
    oid = new("Game", {"a": 1}, U1)
    assert visible(U2, "Game") == [oid]
    writes.update(U2, "Game", oid, {"a": 2})
    refused(lambda: writes.update(PUBLIC, "Game", oid, {"a": 3}), 101)
    writes.delete(U2, "Game", oid)


def test_requires_authentication_through_the_api(api: ParseClient) -> None:
    clp_class("Game", {"find": {"requiresAuthentication": True}})
    r = api.get("classes/Game")
    assert r.status_code == 404
    assert r.json_body == {"code": 101, "error": "Permission denied"}


def test_sanitizing_can_be_turned_off() -> None:
    clp_class("Game", {"find": {}})
    with override_settings(BACKEND_KIT=kit(SANITIZE_PERMISSION_ERRORS=False)):
        error = refused(lambda: reads.find(PUBLIC, "Game", {}))
        assert error.message == "Permission denied for action find on class Game."


# --- CLPs: pointer permissions ---------------------------------------------------------------


@pytest.fixture
def owned() -> dict[str, str]:
    clp_class(
        "Owned",
        {
            "find": {},
            "get": {},
            "count": {},
            "create": {"*": True},
            "update": {},
            "delete": {},
            "addField": {"*": True},
            "readUserFields": ["owner", "readers"],
            "writeUserFields": ["owner"],
        },
        {"owner": {"type": "Pointer", "targetClass": "_User"}, "readers": {"type": "Array"}},
    )
    return {
        "u1": new("Owned", {"name": "u1's", "owner": user_ptr("u1")}),
        "u2": new("Owned", {"name": "u2's", "owner": user_ptr("u2"), "readers": [user_ptr("u1")]}),
        "nobody": new("Owned", {"name": "nobody's"}),
    }


def test_read_user_fields(owned: dict[str, str]) -> None:
    assert set(visible(U1, "Owned")) == {owned["u1"], owned["u2"]}
    assert visible(U2, "Owned") == [owned["u2"]]
    assert visible(PUBLIC, "Owned") == []
    assert reads.find(U1, "Owned", {"count": 1, "limit": 0})["count"] == 2
    assert can_get(U1, "Owned", owned["u2"])
    assert not can_get(U2, "Owned", owned["u1"])
    assert not can_get(PUBLIC, "Owned", owned["nobody"])
    # the pointer restriction combines with the caller's own where
    assert visible(U1, "Owned", where={"name": "u1's"}) == [owned["u1"]]
    assert visible(U1, "Owned", where={"name": "nobody's"}) == []


def test_write_user_fields(owned: dict[str, str]) -> None:
    writes.update(U1, "Owned", owned["u1"], {"name": "changed"})
    # u1 reads u2's object through "readers" but may not write it
    refused(lambda: writes.update(U1, "Owned", owned["u2"], {"name": "x"}), 101)
    refused(lambda: writes.delete(U1, "Owned", owned["u2"]), 101)
    refused(lambda: writes.update(PUBLIC, "Owned", owned["nobody"], {"name": "x"}), 101)
    writes.delete(U2, "Owned", owned["u2"])
    assert set(visible(MASTER, "Owned")) == {owned["u1"], owned["nobody"]}


def test_write_user_fields_never_allow_create() -> None:
    clp_class(
        "Owned",
        {"create": {}, "writeUserFields": ["owner"]},
        {"owner": {"type": "Pointer", "targetClass": "_User"}},
    )
    refused(lambda: writes.create(U1, "Owned", {"owner": user_ptr("u1")}))


def test_operation_pointer_fields() -> None:
    clp_class(
        "Task",
        {
            "find": {"pointerFields": ["assignee"]},
            "get": {"pointerFields": ["assignee"]},
            "update": {"pointerFields": ["assignee"]},
            "create": {"*": True},
            "addField": {"pointerFields": ["assignee"]},
        },
        {"assignee": {"type": "Pointer", "targetClass": "_User"}},
    )
    mine = new("Task", {"assignee": user_ptr("u1")})
    new("Task", {"assignee": user_ptr("u2")})
    assert visible(U1, "Task") == [mine]
    # addField through pointerFields is allowed on update only
    writes.update(U1, "Task", mine, {"note": "new field"})
    refused(lambda: writes.create(U1, "Task", {"other": 1}))


# --- protected fields ------------------------------------------------------------------------


@pytest.fixture
def profiles() -> dict[str, str]:
    clp_class(
        "Profile",
        {
            "find": {"*": True},
            "get": {"*": True},
            "protectedFields": {
                "*": ["email", "phone", "secret"],
                "authenticated": ["phone", "secret"],
                "role:Admins": ["secret"],
                "userField:owner": [],
            },
        },
        {
            "email": {"type": "String"},
            "phone": {"type": "String"},
            "secret": {"type": "String"},
            "owner": {"type": "Pointer", "targetClass": "_User"},
            "owners": {"type": "Array"},
        },
    )
    body = {"email": "e", "phone": "p", "secret": "s", "name": "n"}
    return {
        "u1": new("Profile", {**body, "owner": user_ptr("u1")}),
        "u2": new("Profile", {**body, "owner": user_ptr("u2")}),
    }


@pytest.mark.parametrize(
    "ctx,hidden",
    [
        (PUBLIC, {"email", "phone", "secret"}),
        (U2, {"phone", "secret"}),
        (ADMIN, {"secret"}),
        (MASTER, set()),
    ],
    ids=["public", "authenticated", "admin", "master"],
)
def test_protected_fields(ctx: RequestContext, hidden: set[str], profiles: dict[str, str]) -> None:
    obj = reads.get(ctx, "Profile", profiles["u1"], {})
    assert {"email", "phone", "secret"} - set(obj) == hidden
    assert obj["name"] == "n"
    for found in reads.find(ctx, "Profile", {})["results"]:
        if found["objectId"] == profiles["u1"]:
            assert {"email", "phone", "secret"} - set(found) == hidden


def test_protected_fields_user_field(profiles: dict[str, str]) -> None:
    # the owner sees everything of its own profile, not of the other one
    own = reads.get(U1, "Profile", profiles["u1"], {})
    assert {"email", "phone", "secret"} <= set(own)
    other = reads.get(U1, "Profile", profiles["u2"], {})
    assert not {"phone", "secret"} & set(other)


def test_protected_fields_user_field_on_arrays() -> None:
    clp_class(
        "Shared",
        {
            "find": {"*": True},
            "get": {"*": True},
            "protectedFields": {"*": ["secret"], "userField:owners": []},
        },
        {"secret": {"type": "String"}, "owners": {"type": "Array"}},
    )
    oid = new("Shared", {"secret": "s", "owners": [user_ptr("u1"), user_ptr("u9")]})
    assert reads.get(U1, "Shared", oid, {})["secret"] == "s"
    assert "secret" not in reads.get(U2, "Shared", oid, {})


def test_protected_fields_cannot_be_queried_or_sorted(profiles: dict[str, str]) -> None:
    refused(lambda: reads.find(PUBLIC, "Profile", {"where": {"secret": "s"}}))
    refused(
        lambda: reads.find(PUBLIC, "Profile", {"where": {"$or": [{"email": "e"}, {"name": "n"}]}})
    )
    refused(lambda: reads.find(PUBLIC, "Profile", {"order": "-secret"}))
    assert (
        len(reads.find(ADMIN, "Profile", {"where": {"email": "e"}, "order": "phone"})["results"])
        == 2
    )
    assert len(reads.find(MASTER, "Profile", {"where": {"secret": "s"}})["results"]) == 2


def test_protected_fields_apply_to_included_objects(profiles: dict[str, str]) -> None:
    create_class("Card")
    new(
        "Card",
        {"profile": {"__type": "Pointer", "className": "Profile", "objectId": profiles["u2"]}},
    )
    card = reads.find(PUBLIC, "Card", {"include": "profile"})["results"][0]
    assert card["profile"]["name"] == "n"
    assert not {"email", "phone", "secret"} & set(card["profile"])


# --- default ACL from the CLP, system classes -------------------------------------------------


def test_default_acl_from_the_clp() -> None:
    clp_class(
        "Note",
        {
            **{op: {"*": True} for op in ("find", "get", "create", "update", "addField")},
            "ACL": {"*": {"read": True}, "currentUser": {"read": True, "write": True}},
        },
    )
    result = writes.create(U1, "Note", {"text": "x"})
    assert result.payload["ACL"] == {"*": {"read": True}, "u1": {"read": True, "write": True}}
    oid = result.payload["objectId"]
    assert reads.get(MASTER, "Note", oid, {})["ACL"] == result.payload["ACL"]
    refused(lambda: writes.update(U2, "Note", oid, {"text": "y"}), 101)
    # an explicit ACL wins
    result = writes.create(U1, "Note", {"text": "x", "ACL": {"u2": {"read": True}}})
    assert "ACL" not in result.payload
    assert reads.get(MASTER, "Note", result.payload["objectId"], {})["ACL"] == {
        "u2": {"read": True}
    }


@pytest.mark.parametrize(
    "class_name", ["_JobStatus", "_PushStatus", "_Hooks", "_Idempotency", "_Audience"]
)
def test_master_only_system_classes(class_name: str) -> None:
    oid = new(class_name, {})
    refused(lambda: reads.find(U1, class_name, {}))
    refused(lambda: reads.get(U1, class_name, oid, {}))
    refused(lambda: writes.create(U1, class_name, {}))
    refused(lambda: writes.update(U1, class_name, oid, {"x": 1}))
    refused(lambda: writes.delete(U1, class_name, oid))
    assert visible(MASTER, class_name) == [oid]
    assert visible(RequestContext(app_id="test-app", is_read_only_master=True), class_name) == [oid]


def test_clients_may_not_find_or_delete_installations() -> None:
    oid = new("_Installation", {"installationId": "i1", "deviceType": "ios"})
    refused(lambda: reads.find(PUBLIC, "_Installation", {}))
    refused(lambda: writes.delete(PUBLIC, "_Installation", oid))
