"""PostgreSQL only: backend_kit's statements are prepared, Django's are left alone.

The statements are read back from ``pg_prepared_statements`` on the same connection:
what PostgreSQL itself holds prepared, not what the code meant to do.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from backend_kit.objects import prepared
from tests.accounts.conftest import sign_up
from tests.conftest import ParseClient
from tests.support import kit

pytestmark = pytest.mark.postgres

OBJECTS_TABLE = "backend_kit_objects_parseobject"


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def ours(statements: list[str]) -> list[str]:
    return [s for s in statements if OBJECTS_TABLE in s]


@pytest.fixture
def note(master: ParseClient) -> dict[str, Any]:
    """One object only its owner may read, and one anybody may read."""
    owner = sign_up("owner")
    public = master.post("classes/Note", {"n": 2}).json_body
    private = owner.client.post(
        "classes/Note", {"n": 1, "ACL": {owner.user_id: {"read": True, "write": True}}}
    ).json_body
    return {"owner": owner, "private": private["objectId"], "public": public["objectId"]}


def test_a_statement_run_often_is_prepared_with_its_parameters_apart(
    api: ParseClient, note: dict[str, Any]
) -> None:
    for _ in range(prepared.THRESHOLD - 1):
        assert api.get(f"classes/Note/{note['public']}").status_code == 200
    assert not ours(prepared_statements())  # not yet run often enough

    for _ in range(3):
        r = api.get(f"classes/Note/{note['public']}")
        assert r.status_code == 200 and r.json_body["n"] == 2
    held = ours(prepared_statements())
    assert len(held) == 1
    # the caller's ACL keys and the objectId are parameters, not text; the class is
    # written in (compiler.class_is: partial indexes need it to keep one plan)
    assert "$1" in held[0] and note["public"] not in held[0]
    assert "'Note'" in held[0]


def test_a_prepared_read_still_applies_each_callers_acl(
    api: ParseClient, note: dict[str, Any]
) -> None:
    owner = note["owner"].client
    for _ in range(prepared.THRESHOLD + 2):
        # the same statement, alternating callers: the ACL keys are this run's parameters
        mine = owner.get(f"classes/Note/{note['private']}")
        theirs = api.get(f"classes/Note/{note['private']}")
        assert mine.status_code == 200 and mine.json_body["n"] == 1
        assert theirs.status_code == 404 and theirs.json_body["code"] == 101
        found = api.get("classes/Note", where='{"n": {"$gte": 1}}').json_body["results"]
        assert [o["objectId"] for o in found] == [note["public"]]
    assert ours(prepared_statements())


def test_the_hosts_own_queries_are_never_prepared(api: ParseClient, note: dict[str, Any]) -> None:
    users = get_user_model().objects
    for _ in range(prepared.THRESHOLD + 3):
        api.get(f"classes/Note/{note['public']}")
        assert users.filter(username="owner").exists()
    statements = prepared_statements()
    assert ours(statements)
    assert statements == ours(statements)  # none of the user lookups, run as often
    assert connection.connection.prepare_threshold is None  # as Django opened it


@pytest.mark.parametrize(
    "wanted, pooled, expected",
    [(None, False, True), (None, True, False), (True, True, True), (False, False, False)],
)
def test_the_setting_and_transaction_pooling(
    api: ParseClient, note: dict[str, Any], wanted: Any, pooled: bool, expected: bool
) -> None:
    before = connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS", False)
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = pooled
    try:
        with override_settings(BACKEND_KIT=kit(PREPARED_STATEMENTS=wanted)):
            assert prepared.prepares(connection) is expected
            for _ in range(prepared.THRESHOLD + 2):
                assert api.get(f"classes/Note/{note['public']}").status_code == 200
            assert bool(ours(prepared_statements())) is expected
    finally:
        connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = before


def test_a_query_log_sees_the_values(api: ParseClient, note: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as queries:
        for _ in range(prepared.THRESHOLD + 2):
            api.get(f"classes/Note/{note['public']}")
    reads = [q["sql"] for q in queries.captured_queries if OBJECTS_TABLE in (q["sql"] or "")]
    assert len(reads) == prepared.THRESHOLD + 2
    assert all(note["public"] in sql for sql in reads)
    assert not ours(prepared_statements())


@pytest.mark.django_db
def test_principals_reach_postgresql_as_the_same_strings() -> None:
    """The reader's principals go as one ``text[]`` literal (``compiler.text_array``)."""
    from backend_kit.objects.query.compiler import text_array

    principals = ["*", "role:Team A", 'role:q"uote', "role:back\\slash", "a,b", "{x}", "NULL", ""]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array(principals)])
        assert cursor.fetchone()[0] == principals
        cursor.execute("SELECT %s::text[]", [text_array([])])
        assert cursor.fetchone()[0] == []
        # what the ACL test asks: does any of the principals hold a key of the object's
        cursor.execute(
            "SELECT %s::jsonb ?| %s::text[], %s::jsonb ?| %s::text[]",
            [
                '{"role:q\\"uote": true}',
                text_array(principals),
                '{"x": true}',
                text_array(principals),
            ],
        )
        assert cursor.fetchone() == (True, False)
