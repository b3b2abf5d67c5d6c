"""A write that changes nothing but its row is that one statement, with no transaction.

A create is its INSERT; on PostgreSQL an update is its UPDATE (the database checks the
size limit inside it). Everything else (a trigger, a relation, a new field, a listener
that acts, a caller's transaction) keeps the write inside a transaction of its own.
These tests commit for real: under pytest-django's per-test transaction every write
would see a caller's one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from backend_kit.cloud import after_save, before_save, registry
from backend_kit.objects import signals, writes
from backend_kit.objects.sql import connection
from tests.conftest import ParseClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schema(master: ParseClient) -> None:
    r = master.post(
        "schemas/Note",
        {
            "className": "Note",
            "fields": {
                "n": {"type": "Number"},
                "s": {"type": "String"},
                "links": {"type": "Relation", "targetClass": "Note"},
            },
        },
    )
    assert r.status_code == 200, r.json_body


@pytest.fixture
def inserts(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each row inserted: was a transaction open around the INSERT?"""
    seen: list[bool] = []
    original = writes._insert

    def recording(conn: Any, class_name: str, new: Any) -> str:
        seen.append(conn.in_atomic_block or not conn.get_autocommit())
        return original(conn, class_name, new)

    monkeypatch.setattr(writes, "_insert", recording)
    return seen


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each update by field operations: was a transaction open around the UPDATE?"""
    seen: list[bool] = []
    original = writes._write_ops

    def recording(conn: Any, *args: Any) -> Any:
        seen.append(conn.in_atomic_block or not conn.get_autocommit())
        return original(conn, *args)

    monkeypatch.setattr(writes, "_write_ops", recording)
    return seen


@pytest.fixture
def triggers() -> Iterator[None]:
    snap = registry.snapshot()
    yield
    registry.restore(snap)


def test_a_plain_create_is_its_insert_alone(
    schema: None, api: ParseClient, master: ParseClient, inserts: list[bool]
) -> None:
    r = api.post("classes/Note", {"n": 1, "s": "a"})
    assert r.status_code == 201, r.json_body
    assert inserts == [False]
    got = master.get(f"classes/Note/{r.json_body['objectId']}").json_body
    assert (got["n"], got["s"], got["createdAt"]) == (1, "a", r.json_body["createdAt"])


def test_after_save_and_the_saved_signal_still_follow_the_write(
    schema: None, api: ParseClient, master: ParseClient, inserts: list[bool], triggers: None
) -> None:
    seen: list[Any] = []

    @after_save("Note")
    def note(request: Any) -> None:
        # committed by then: another connection's read would find it
        seen.append(("afterSave", request.object.get("n")))

    def on_saved(sender: str, object: dict[str, Any], **kwargs: Any) -> None:
        seen.append(("signal", object["n"]))

    signals.object_saved.connect(on_saved)
    try:
        r = api.post("classes/Note", {"n": 7})
    finally:
        signals.object_saved.disconnect(on_saved)
    assert r.status_code == 201 and inserts == [False]
    assert seen == [("afterSave", 7), ("signal", 7)]


def test_a_taken_object_id_is_137_and_writes_nothing(
    schema: None, master: ParseClient, inserts: list[bool], settings: Any
) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "ALLOW_CUSTOM_OBJECT_ID": True}
    assert master.post("classes/Note", {"objectId": "fixed01", "n": 1}).status_code == 201
    again = master.post("classes/Note", {"objectId": "fixed01", "n": 2})
    assert again.status_code == 400 and again.json_body["code"] == 137
    assert master.get("classes/Note/fixed01").json_body["n"] == 1
    assert master.get("classes/Note", count=1, limit=0).json_body["count"] == 1


def test_a_new_field_is_added_in_the_same_transaction(
    schema: None, master: ParseClient, inserts: list[bool]
) -> None:
    r = master.post("classes/Note", {"n": 1, "fresh": "field"})
    assert r.status_code == 201 and inserts == [True]
    assert "fresh" in master.get("schemas/Note").json_body["fields"]


def test_a_relation_goes_in_with_its_object(
    schema: None, api: ParseClient, master: ParseClient, inserts: list[bool]
) -> None:
    other = api.post("classes/Note", {"n": 0}).json_body["objectId"]
    r = api.post(
        "classes/Note",
        {
            "n": 1,
            "links": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "Note", "objectId": other}],
            },
        },
    )
    assert r.status_code == 201, r.json_body
    assert inserts == [False, True]


def test_a_before_save_trigger_runs_inside_the_transaction(
    schema: None, api: ParseClient, inserts: list[bool], triggers: None
) -> None:
    @before_save("Note")
    def stamp(request: Any) -> None:
        request.object.set("s", "stamped")

    r = api.post("classes/Note", {"n": 1})
    assert r.status_code == 201 and r.json_body["s"] == "stamped"
    assert inserts == [True]


def test_an_acting_listener_keeps_the_transaction(
    schema: None, api: ParseClient, master: ParseClient, inserts: list[bool]
) -> None:
    refused: list[str] = []

    def refuse_twos(event: writes.WriteEvent) -> None:
        if event.object.get("n") == 2:
            refused.append(event.object["objectId"])
            from backend_kit.errors import ParseError

            raise ParseError(119, "no twos")

    writes.add_write_listener(refuse_twos)  # no acts_on: it may act on any write
    try:
        assert api.post("classes/Note", {"n": 1}).status_code == 201
        r = api.post("classes/Note", {"n": 2})
    finally:
        writes._write_listeners.remove(refuse_twos)
    assert r.status_code == 400 and r.json_body["code"] == 119
    assert inserts == [True, True]
    # the refused row rolled back with its transaction
    assert master.get("classes/Note", where={"n": 2}).json_body["results"] == []
    assert len(refused) == 1


def test_a_listener_that_says_it_acts_elsewhere_does_not(
    schema: None, api: ParseClient, inserts: list[bool]
) -> None:
    calls: list[str] = []

    def audit_cards(event: writes.WriteEvent) -> None:
        calls.append(event.class_name)

    writes.add_write_listener(audit_cards, acts_on=lambda cls, ctx, action: cls == "Card")
    try:
        assert api.post("classes/Note", {"n": 1}).status_code == 201
    finally:
        writes._write_listeners.remove(audit_cards)
        writes._listener_scopes.pop(audit_cards, None)
    assert inserts == [False] and calls == ["Note"]  # still called, after the row went in


def test_master_writes_are_audited_inside_the_transaction(
    schema: None, master: ParseClient, inserts: list[bool]
) -> None:
    from backend_kit.guardrails.models import AuditEntry

    r = master.post("classes/Note", {"n": 1})
    assert r.status_code == 201 and inserts == [True]
    assert AuditEntry.objects.filter(object_id=r.json_body["objectId"]).exists()


def test_a_caller_transaction_takes_the_create_with_it(schema: None, inserts: list[bool]) -> None:
    from backend_kit.context import RequestContext

    ctx = RequestContext(app_id="test-app")
    created: list[str] = []
    with pytest.raises(RuntimeError), transaction.atomic(using=connection(write=True).alias):
        created.append(writes.create(ctx, "Note", {"n": 5}).payload["objectId"])
        raise RuntimeError("the caller changes its mind")
    assert inserts == [True] and len(created) == 1
    from backend_kit.objects import reads

    assert reads.find(ctx.as_master(), "Note", {"where": {"n": 5}})["results"] == []


# --- updates --------------------------------------------------------------------------------


def test_an_update_on_postgresql_is_its_update_alone(
    schema: None, api: ParseClient, master: ParseClient, updates: list[bool]
) -> None:
    oid = api.post("classes/Note", {"n": 1}).json_body["objectId"]
    r = api.put(f"classes/Note/{oid}", {"n": {"__op": "Increment", "amount": 2}, "s": "b"})
    assert r.status_code == 200, r.json_body
    got = master.get(f"classes/Note/{oid}").json_body
    assert (got["n"], got["s"], got["updatedAt"]) == (3, "b", r.json_body["updatedAt"])
    from django.db import connection as default

    assert updates == [default.vendor != "postgresql"]


@pytest.mark.parametrize("as_master", [False, True], ids=["alone", "in-a-transaction"])
def test_an_update_the_database_makes_too_large_writes_nothing(
    schema: None, api: ParseClient, master: ParseClient, settings: Any, as_master: bool
) -> None:
    oid = api.post("classes/Note", {"s": "x" * 100}).json_body["objectId"]
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "MAX_OBJECT_SIZE": 300}
    client = master if as_master else api  # the master's write is audited: a transaction
    grow = {"tags": {"__op": "Add", "objects": ["y" * 150]}}
    assert client.put(f"classes/Note/{oid}", grow).status_code == 200  # new field: schema
    r = client.put(f"classes/Note/{oid}", grow)  # the array the database builds is too large
    assert r.status_code == 400 and r.json_body == {
        "code": 116,
        "error": "Object is larger than 300 bytes",
    }
    assert master.get(f"classes/Note/{oid}").json_body["tags"] == ["y" * 150]


def test_an_update_with_a_relation_keeps_the_transaction(
    schema: None, api: ParseClient, updates: list[bool]
) -> None:
    oid = api.post("classes/Note", {"n": 1}).json_body["objectId"]
    link = {
        "__op": "AddRelation",
        "objects": [{"__type": "Pointer", "className": "Note", "objectId": oid}],
    }
    r = api.put(f"classes/Note/{oid}", {"n": 2, "links": link})
    assert r.status_code == 200, r.json_body
    assert updates == [True]


def test_an_update_refused_by_its_acl_writes_nothing(
    schema: None, api: ParseClient, master: ParseClient
) -> None:
    oid = master.post("classes/Note", {"n": 1, "ACL": {}}).json_body["objectId"]
    r = api.put(f"classes/Note/{oid}", {"n": {"__op": "Increment", "amount": 1}})
    assert r.status_code == 404 and r.json_body["code"] == 101
    assert master.get(f"classes/Note/{oid}").json_body["n"] == 1


# --- object ids -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_object_ids_draw_every_character_alike() -> None:
    ids = [writes.new_object_id() for _ in range(20_000)]
    assert all(len(i) == 10 and set(i) <= set(writes.ID_ALPHABET) for i in ids)
    assert len(set(ids)) == len(ids)
    counts = dict.fromkeys(writes.ID_ALPHABET, 0)
    for i in ids:
        for c in i:
            counts[c] += 1
    expected = 200_000 / 62
    # chi-square over 61 degrees of freedom: 120 is past its 99.99th percentile; a
    # modulo bias (bytes 248-255 folded onto 8 characters) gives thousands
    assert sum((n - expected) ** 2 / expected for n in counts.values()) < 120
    assert len(writes.new_object_id(25)) == 25
