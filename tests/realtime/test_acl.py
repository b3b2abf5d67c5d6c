"""ACLs, roles, sessions and protected fields over real sockets and real accounts.

Users sign up through ``POST /parse/users``; roles are written with the master key.
Absence of an event is proven with a public *marker* saved afterwards (see
``test_protocol``): the marker's event arrives, nothing arrived before it.
"""

from __future__ import annotations

import pytest

from .harness import APP_ID, JS_KEY, MASTER_KEY, AsgiServer, Rest
from .lqclient import LQ, subscribed
from .test_protocol import marker, watch_markers

pytestmark = pytest.mark.slow


def user_pointer(user_id: str) -> dict:
    return {"__type": "Pointer", "className": "_User", "objectId": user_id}


def connect_as(server: AsgiServer, token: str | None) -> LQ:
    lq = LQ(server.ws_url)
    lq.connect(**({"sessionToken": token} if token else {}))
    return lq


def test_acl_protected_object_reaches_only_its_reader(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    alice_id, alice = rest.sign_up("alice-" + tag)
    _, bob = rest.sign_up("bob-" + tag)
    with connect_as(server, alice) as lq_alice, connect_as(server, bob) as lq_bob:
        for lq in (lq_alice, lq_bob):
            watch_markers(lq, tag)
            subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
        with connect_as(server, None) as lq_public:
            watch_markers(lq_public, tag)
            subscribed(lq_public, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
            acl = {alice_id: {"read": True, "write": True}}
            oid = rest.create("LQItem", {"tag": tag, "ACL": acl, "secret": "for alice"})
            event = lq_alice.expect("create", requestId=1)
            assert event["object"]["objectId"] == oid and event["object"]["secret"] == "for alice"
            assert marker(lq_bob, rest, tag) == []
            lq_alice.until("create", 99)
            _, before = lq_public.until("create", 99)
            assert before == []

            # an update Alice may read: Bob and the public still see nothing
            rest.update("LQItem", oid, {"secret": "still for alice"}, master=True)
            lq_alice.expect("update", requestId=1)
            assert marker(lq_bob, rest, tag) == []

            # made public: enter for the others, whose "original" is withheld
            rest.update("LQItem", oid, {"ACL": {"*": {"read": True}}}, master=True)
            assert lq_alice.expect("update", requestId=1)["object"]["objectId"] == oid
            enter = lq_bob.expect("enter", requestId=1)
            assert enter["object"]["objectId"] == oid and "original" not in enter

            # private again: Bob gets "leave" with the last state he could read
            rest.update("LQItem", oid, {"ACL": acl, "secret": "new secret"}, master=True)
            leave = lq_bob.expect("leave", requestId=1)
            assert leave["object"]["secret"] == "still for alice"
            assert "new secret" not in str(leave)
            lq_alice.expect("update", requestId=1)

            # deleted: only Alice hears of it
            rest.delete("LQItem", oid, master=True)
            assert lq_alice.expect("delete", requestId=1)["object"]["objectId"] == oid
            assert marker(lq_bob, rest, tag) == []


def test_role_acl_and_a_role_change_without_reconnecting(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    carol_id, carol = rest.sign_up("carol-" + tag)
    dave_id, dave = rest.sign_up("dave-" + tag)
    role = "editors_" + tag
    role_id = rest.call(
        "POST",
        "roles",
        {
            "name": role,
            "ACL": {"*": {"read": True}},
            "users": {"__op": "AddRelation", "objects": [user_pointer(carol_id)]},
        },
        master=True,
    )["objectId"]
    role_acl = {f"role:{role}": {"read": True}}
    with connect_as(server, carol) as lq_carol, connect_as(server, dave) as lq_dave:
        for lq in (lq_carol, lq_dave):
            watch_markers(lq, tag)
            subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
        first = rest.create("LQItem", {"tag": tag, "ACL": role_acl, "n": 1})
        assert lq_carol.expect("create", requestId=1)["object"]["objectId"] == first
        assert marker(lq_dave, rest, tag) == []

        rest.call(
            "PUT",
            f"roles/{role_id}",
            {"users": {"__op": "AddRelation", "objects": [user_pointer(dave_id)]}},
            master=True,
        )
        # The role refresh travels through the same channel as the events, so the
        # next save is matched with Dave's new roles.
        second = rest.create("LQItem", {"tag": tag, "ACL": role_acl, "n": 2})
        assert lq_dave.expect("create", requestId=1)["object"]["objectId"] == second
        assert lq_carol.expect("create", requestId=1)["object"]["objectId"] == second

        rest.call(
            "PUT",
            f"roles/{role_id}",
            {"users": {"__op": "RemoveRelation", "objects": [user_pointer(carol_id)]}},
            master=True,
        )
        third = rest.create("LQItem", {"tag": tag, "ACL": role_acl, "n": 3})
        assert lq_dave.expect("create", requestId=1)["object"]["objectId"] == third
        assert marker(lq_carol, rest, tag) == []

        # a socket that connects later, and subscribes after the change, sees it too
        with connect_as(server, carol) as late:
            watch_markers(late, tag)
            subscribed(late, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
            rest.create("LQItem", {"tag": tag, "ACL": role_acl, "n": 4})
            assert marker(late, rest, tag) == []


def test_role_granted_to_a_connection_without_subscriptions_yet(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    erin_id, erin = rest.sign_up("erin-" + tag)
    role = "viewers_" + tag
    role_acl = {f"role:{role}": {"read": True}}
    with connect_as(server, erin) as lq:
        rest.call(
            "POST",
            "roles",
            {
                "name": role,
                "ACL": {"*": {"read": True}},
                "users": {"__op": "AddRelation", "objects": [user_pointer(erin_id)]},
            },
            master=True,
        )
        subscribed(lq, 1, "LQItem", {"tag": tag})
        oid = rest.create("LQItem", {"tag": tag, "ACL": role_acl})
        assert lq.expect("create", requestId=1)["object"]["objectId"] == oid


@pytest.mark.parametrize("how", ["logout", "delete-session"])
def test_ending_the_session_ends_its_subscriptions_with_209(
    server: AsgiServer, rest: Rest, tag: str, how: str
) -> None:
    _, token = rest.sign_up(f"frank-{how}-" + tag)
    with connect_as(server, token) as lq:
        subscribed(lq, 1, "LQItem", {"tag": tag})
        subscribed(lq, 2, "LQItem", {"tag": tag, "n": 1})
        if how == "logout":
            rest.call("POST", "logout", {}, session=token)
        else:
            session_id = rest.call("GET", "sessions/me", session=token)["objectId"]
            rest.call("DELETE", f"sessions/{session_id}", master=True)
        errors = [lq.expect("error", code=209), lq.expect("error", code=209)]
        assert {e["requestId"] for e in errors} == {1, 2}
        # the subscriptions are gone, and the connection's session with them
        rest.create("LQItem", {"tag": tag, "n": 1})
        answer = lq.subscribe(3, "LQItem", {"tag": tag})
        assert answer["op"] == "error" and answer["code"] == 209, answer


def test_a_subscription_with_its_own_session_token(
    server: AsgiServer, rest: Rest, tag: str
) -> None:
    gina_id, gina = rest.sign_up("gina-" + tag)
    with connect_as(server, None) as lq:
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}}, session_token=gina)
        subscribed(lq, 2, "LQItem", {"tag": tag, "marker": {"$exists": False}})
        oid = rest.create("LQItem", {"tag": tag, "ACL": {gina_id: {"read": True}}})
        event, before = lq.until("create", 1)
        assert event["object"]["objectId"] == oid
        assert marker(lq, rest, tag) == [] and before == []


def test_protected_fields_are_removed(server: AsgiServer, rest: Rest, tag: str) -> None:
    with connect_as(server, None) as public, LQ(server.ws_url) as master:
        master.send({"op": "connect", "applicationId": APP_ID, "masterKey": MASTER_KEY})
        master.expect("connected")
        subscribed(public, 1, "LQOther", {"tag": tag})
        subscribed(master, 1, "LQOther", {"tag": tag})
        oid = rest.create("LQOther", {"tag": tag, "secret": "s3cret", "open": "yes"})
        seen = public.expect("create", requestId=1)["object"]
        assert seen["open"] == "yes" and "secret" not in seen
        assert master.expect("create", requestId=1)["object"]["secret"] == "s3cret"
        rest.update("LQOther", oid, {"secret": "changed"})
        update = public.expect("update", requestId=1)
        assert "secret" not in update["object"] and "secret" not in update["original"]
        # a query on a protected field would leak it: refused
        answer = public.subscribe(2, "LQOther", {"secret": "s3cret"})
        assert answer["op"] == "error" and answer["code"] == 119, answer
        answer = public.subscribe(3, "LQOther", {"tag": tag}, watch=["secret"])
        assert answer["op"] == "error" and answer["code"] == 119, answer


def test_javascript_key_only_client_is_not_master(server: AsgiServer, rest: Rest, tag: str) -> None:
    with LQ(server.ws_url) as lq:
        lq.send({"op": "connect", "applicationId": APP_ID, "javascriptKey": JS_KEY})
        lq.expect("connected")
        watch_markers(lq, tag)
        subscribed(lq, 1, "LQItem", {"tag": tag, "marker": {"$exists": False}})
        rest.create("LQItem", {"tag": tag, "ACL": {}}, master=True)
        assert marker(lq, rest, tag) == []
