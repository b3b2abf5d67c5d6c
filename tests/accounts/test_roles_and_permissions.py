"""Roles (rules, inherited membership, caching) and permissions exercised with real users."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend_kit.accounts import roles
from tests.conftest import ParseClient

from .conftest import Member, add_relation, error_of, role_pointer, sign_up, user_pointer

pytestmark = pytest.mark.django_db

PUBLIC_READ = {"*": {"read": True}}


def make_role(
    master: ParseClient, name: str, *, users: list[Member] = (), children: list[str] = ()
) -> str:  # type: ignore[assignment]
    body: dict[str, Any] = {"name": name, "ACL": PUBLIC_READ}
    if users:
        body["users"] = add_relation(*(user_pointer(u.user_id) for u in users))
    if children:
        body["roles"] = add_relation(*(role_pointer(c) for c in children))
    response = master.post("roles", body)
    assert response.status_code == 201, response.json_body
    return response.json_body["objectId"]


def visible(member: Member | None, class_name: str = "Doc", **params: Any) -> list[str]:
    client = member.client if member else ParseClient()
    response = client.get(f"classes/{class_name}", **params)
    assert response.status_code == 200, response.json_body
    return sorted(o["t"] for o in response.json_body["results"])


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", None, 7, "has/slash", "dots.no", "ünïcode", "a\nb"])
def test_role_names_must_be_valid(master: ParseClient, name: Any) -> None:
    body = {"ACL": PUBLIC_READ} if name is None else {"name": name, "ACL": PUBLIC_READ}
    response = master.post("roles", body)
    assert response.status_code == 400 and response.json_body["code"] == 139, response.json_body


@pytest.mark.django_db(transaction=True)
def test_role_rules(master: ParseClient) -> None:
    ada = sign_up("ada")
    staff = make_role(master, "Staff Team_1-a")
    duplicate = master.post("roles", {"name": "Staff Team_1-a", "ACL": PUBLIC_READ})
    assert duplicate.json_body == {
        "code": 137,
        "error": "A duplicate value for a field with unique values was provided",
    }
    renamed = master.put(f"roles/{staff}", {"name": "Other"})
    assert renamed.json_body == {
        "code": 139,
        "error": "A role's name can only be set before it has been saved.",
    }
    assert master.put(f"roles/{staff}", {"name": "Staff Team_1-a"}).status_code == 200
    assert master.get(f"roles/{staff}").json_body["name"] == "Staff Team_1-a"
    # a caller who cannot write a role learns nothing about its name (101 whatever the name)
    secret = master.post("roles", {"name": "Secret", "ACL": {}}).json_body["objectId"]
    for guess in ("Secret", "Wrong"):
        assert error_of(ada.client.put(f"roles/{secret}", {"name": guess})) == (404, 101)
    assert error_of(ada.client.put("roles/nosuchrole", {"name": "X"})) == (404, 101)
    locked = {"create": {}, "find": {"*": True}, "get": {"*": True}}
    assert master.put("schemas/_Role", {"classLevelPermissions": locked}).status_code == 200
    for name in ("Secret", "Fresh"):
        assert ada.client.post("roles", {"name": name, "ACL": {}}).json_body["code"] == 119
    assert master.put("schemas/_Role", {"classLevelPermissions": None}).status_code == 200
    # a client must give its role an ACL
    assert ada.client.post("roles", {"name": "Mine"}).json_body["code"] == 142
    own = ada.client.post(
        "roles", {"name": "Mine", "ACL": {ada.user_id: {"read": True, "write": True}}}
    )
    assert own.status_code == 201
    # and can change only what the role's ACL lets it write
    assert error_of(ada.client.put(f"roles/{staff}", {"users": add_relation()}))[1] in (101, 111)
    joined = ada.client.put(
        f"roles/{own.json_body['objectId']}", {"users": add_relation(user_pointer(ada.user_id))}
    )
    assert joined.status_code == 200
    assert roles.role_names_for_user(ada.user_id) == ["Mine"]
    listed = master.get("roles", where={"name": "Mine"}).json_body["results"][0]
    assert listed["users"] == {"__type": "Relation", "className": "_User"}
    assert listed["roles"] == {"__type": "Relation", "className": "_Role"}
    members = master.get(
        "users",
        where={"$relatedTo": {"object": role_pointer(listed["objectId"]), "key": "users"}},
    ).json_body["results"]
    assert [m["objectId"] for m in members] == [ada.user_id]


# --- membership --------------------------------------------------------------------------------


def test_roles_are_inherited_to_any_depth_and_through_cycles(master: ParseClient) -> None:
    ada, bob, cy = sign_up("ada"), sign_up("bob"), sign_up("cy")
    writers = make_role(master, "Writers", users=[ada])
    editors = make_role(master, "Editors", users=[bob], children=[writers])
    admins = make_role(master, "Admins", children=[editors])
    # a cycle: Admins' users (none directly) also hold Writers, which holds Editors...
    master.put(f"roles/{writers}", {"roles": add_relation(role_pointer(admins))})
    make_role(master, "Loner", users=[cy])
    assert roles.role_names_for_user(ada.user_id) == ["Admins", "Editors", "Writers"]
    assert roles.role_names_for_user(bob.user_id) == ["Admins", "Editors", "Writers"]
    assert roles.role_names_for_user(cy.user_id) == ["Loner"]
    for name in ("Writers", "Editors", "Admins", "Loner"):
        master.post("classes/Doc", {"t": name, "ACL": {f"role:{name}": {"read": True}}})
    master.post("classes/Doc", {"t": "ada-only", "ACL": {ada.user_id: {"read": True}}})
    assert visible(ada) == ["Admins", "Editors", "Writers", "ada-only"]
    assert visible(bob) == ["Admins", "Editors", "Writers"]
    assert visible(cy) == ["Loner"]
    assert visible(None) == []


def test_role_resolution_takes_the_same_queries_at_any_depth(
    master: ParseClient, django_assert_max_num_queries: Any
) -> None:
    ada = sign_up("ada")
    chain = [make_role(master, "Level0", users=[ada])]
    request_costs = {}
    for depth in (1, 4, 16, 40):
        while len(chain) < depth:  # Level<n>'s users hold Level<n+1>
            chain.append(make_role(master, f"Level{len(chain)}", children=[chain[-1]]))
        top = f"Level{depth - 1}"
        master.post("classes/Doc", {"t": top, "ACL": {f"role:{top}": {"read": True}}})
        roles.bump_version()  # nothing cached: resolved from the database
        with django_assert_max_num_queries(1):
            names = roles.role_names_for_user(ada.user_id)
        assert len(names) == depth
        roles.bump_version()
        with CaptureQueriesContext(connection) as queries:
            assert top in visible(ada)
        role_queries = [q for q in queries.captured_queries if "WITH RECURSIVE" in q["sql"]]
        assert len(role_queries) == 1
        request_costs[depth] = len(queries.captured_queries)
    # a whole request (session, roles, query) costs the same at any depth
    assert len(set(request_costs.values())) == 1, request_costs


@pytest.mark.django_db(transaction=True)
def test_role_changes_apply_at_once(master: ParseClient) -> None:
    ada, bob = sign_up("ada"), sign_up("bob")
    staff = make_role(master, "Staff", users=[ada])
    master.post("classes/Doc", {"t": "staff", "ACL": {"role:Staff": {"read": True}}})
    assert visible(ada) == ["staff"] and visible(bob) == []  # bob's roles are now cached
    master.put(f"roles/{staff}", {"users": add_relation(user_pointer(bob.user_id))})
    assert visible(bob) == ["staff"]
    master.put(
        f"roles/{staff}",
        {"users": {"__op": "RemoveRelation", "objects": [user_pointer(ada.user_id)]}},
    )
    assert visible(ada) == []
    # through a parent role, then the parent's deletion
    boss = make_role(master, "Boss", users=[ada])
    master.put(f"roles/{staff}", {"roles": add_relation(role_pointer(boss))})
    assert visible(ada) == ["staff"]
    assert master.delete(f"roles/{boss}").status_code == 200
    assert visible(ada) == []
    assert master.delete(f"roles/{staff}").status_code == 200
    assert visible(bob) == []


# --- ACLs and class-level permissions with real users -----------------------------------------


def test_per_user_and_per_role_acls(master: ParseClient) -> None:
    ada, bob, cy = sign_up("ada"), sign_up("bob"), sign_up("cy")
    make_role(master, "Staff", users=[bob])
    docs = {
        "ada-rw": {ada.user_id: {"read": True, "write": True}},
        "ada-r": {ada.user_id: {"read": True}, "role:Staff": {"write": True}},
        "staff-rw": {"role:Staff": {"read": True, "write": True}},
        "public-r": {"*": {"read": True}},
    }
    ids = {
        t: master.post("classes/Doc", {"t": t, "ACL": acl}).json_body["objectId"]
        for t, acl in docs.items()
    }
    assert visible(ada) == ["ada-r", "ada-rw", "public-r"]
    assert visible(bob) == ["public-r", "staff-rw"]
    assert visible(cy) == ["public-r"]
    assert ada.client.get("classes/Doc", count=1, limit=0).json_body == {
        "results": [],
        "count": 3,
    }

    def can_write(member: Member, t: str) -> bool:
        response = member.client.put(f"classes/Doc/{ids[t]}", {"n": 1})
        assert response.status_code in (200, 404), response.json_body
        return response.status_code == 200

    assert [t for t in docs if can_write(ada, t)] == ["ada-rw"]
    assert [t for t in docs if can_write(bob, t)] == ["ada-r", "staff-rw"]  # write without read
    assert [t for t in docs if can_write(cy, t)] == []
    assert error_of(cy.client.delete(f"classes/Doc/{ids['public-r']}")) == (404, 101)
    assert bob.client.delete(f"classes/Doc/{ids['ada-r']}").status_code == 200


def set_clp(master: ParseClient, fields: dict[str, Any], clp: dict[str, Any]) -> None:
    response = master.post("schemas/Doc", {"fields": fields, "classLevelPermissions": clp})
    assert response.status_code == 200, response.json_body


def test_requires_authentication(master: ParseClient) -> None:
    ada = sign_up("ada")
    auth_only = {"requiresAuthentication": True}
    set_clp(
        master,
        {"t": {"type": "String"}},
        dict.fromkeys(("find", "get", "count", "create", "update", "delete"), auth_only),
    )
    oid = master.post("classes/Doc", {"t": "x", "ACL": PUBLIC_READ}).json_body["objectId"]
    for response in (
        ParseClient().get("classes/Doc"),
        ParseClient().get(f"classes/Doc/{oid}"),
        ParseClient().post("classes/Doc", {"t": "y"}),
    ):
        assert response.json_body == {"code": 101, "error": "Permission denied"}
    assert visible(ada) == ["x"]
    assert ada.client.post("classes/Doc", {"t": "mine"}).status_code == 201


def test_read_and_write_user_fields(master: ParseClient) -> None:
    ada, bob, cy = sign_up("ada"), sign_up("bob"), sign_up("cy")
    set_clp(
        master,
        {
            "t": {"type": "String"},
            "owner": {"type": "Pointer", "targetClass": "_User"},
            "editors": {"type": "Array"},
        },
        {
            "find": {},
            "get": {},
            "count": {},
            "create": {},
            "update": {},
            "delete": {"pointerFields": ["owner"]},
            "addField": {},
            "readUserFields": ["owner", "editors"],
            "writeUserFields": ["editors"],
        },
    )
    ids = {}
    for t, owner, editors in (("ada", ada, [bob]), ("bob", bob, []), ("none", None, [ada, cy])):
        body: dict[str, Any] = {"t": t, "editors": [user_pointer(e.user_id) for e in editors]}
        if owner:
            body["owner"] = user_pointer(owner.user_id)
        ids[t] = "classes/Doc/" + master.post("classes/Doc", body).json_body["objectId"]
    assert visible(ada) == ["ada", "none"]
    assert visible(bob) == ["ada", "bob"]
    assert visible(cy) == ["none"]
    assert visible(None) == []
    assert bob.client.get("classes/Doc", count=1, limit=0).json_body["count"] == 2
    assert error_of(cy.client.get(ids["bob"])) == (404, 101)
    # writes follow writeUserFields (editors); deletes also the delete pointerFields (owner)
    assert bob.client.put(ids["ada"], {"t": "ada"}).status_code == 200
    assert error_of(ada.client.put(ids["ada"], {"t": "x"})) == (404, 101)
    assert error_of(cy.client.delete(ids["ada"])) == (404, 101)
    assert ada.client.delete(ids["ada"]).status_code == 200
    assert bob.client.delete(ids["bob"]).status_code == 200
    assert error_of(bob.client.delete(ids["none"])) == (404, 101)
    assert cy.client.delete(ids["none"]).status_code == 200
    assert ParseClient().post("classes/Doc", {"t": "new"}).json_body["code"] == 119


def test_protected_fields_with_real_users(master: ParseClient) -> None:
    ada, bob, cy = sign_up("ada"), sign_up("bob"), sign_up("cy")
    make_role(master, "Auditors", users=[cy])
    set_clp(
        master,
        {
            "t": {"type": "String"},
            "salary": {"type": "Number"},
            "phone": {"type": "String"},
            "owner": {"type": "Pointer", "targetClass": "_User"},
        },
        {
            "find": {"*": True},
            "get": {"*": True},
            "protectedFields": {
                "*": ["salary", "phone"],
                "authenticated": ["salary"],
                "role:Auditors": [],
                "userField:owner": [],
            },
        },
    )
    master.post(
        "classes/Doc",
        {
            "t": "ada",
            "salary": 10,
            "phone": "1",
            "owner": user_pointer(ada.user_id),
            "ACL": PUBLIC_READ,
        },
    )

    def fields(member: Member | None) -> set[str]:
        client = member.client if member else ParseClient()
        (obj,) = client.get("classes/Doc").json_body["results"]
        return set(obj) & {"t", "salary", "phone"}

    assert fields(None) == {"t"}
    assert fields(bob) == {"t", "phone"}  # authenticated: only salary stays hidden
    assert fields(ada) == {"t", "salary", "phone"}  # she is the owner
    assert fields(cy) == {"t", "salary", "phone"}  # auditors see everything
    assert master.get("classes/Doc").json_body["results"][0]["salary"] == 10
    assert bob.client.get("classes/Doc", where={"salary": 10}).json_body["code"] == 119
    assert ParseClient().get("classes/Doc", order="-phone").json_body["code"] == 119
    assert len(cy.client.get("classes/Doc", where={"salary": 10}).json_body["results"]) == 1
