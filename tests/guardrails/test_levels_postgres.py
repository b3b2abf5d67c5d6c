"""PostgreSQL only: the level triggers' functions, and their upgrade in place."""

from __future__ import annotations

import pytest
from django.db import connection

from backend_kit.guardrails import levels
from backend_kit.guardrails.models import UsageLevel

pytestmark = pytest.mark.postgres

# What an install of 0.1.0.dev0 left: trigger functions calling a shared SQL function,
# which PostgreSQL planned again on every call.
OLD_SHARED_FUNCTION = """
CREATE OR REPLACE FUNCTION bk_gr_level_add(m text, delta bigint) RETURNS void LANGUAGE sql AS $$
  INSERT INTO backend_kit_guardrails_usagelevel (metric, stripe, value)
  VALUES (m, pg_backend_pid() % 16, delta)
  ON CONFLICT (metric, stripe) DO UPDATE SET value = backend_kit_guardrails_usagelevel.value + EXCLUDED.value;
$$"""
OLD_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT {sign}count(*) INTO n FROM {rows};
  IF n <> 0 THEN PERFORM bk_gr_level_add('objects_stored', n); END IF;
  RETURN NULL;
END $$"""


def function_sources() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE %s", ["bk_gr_%"])
        return dict(cursor.fetchall())


def create_objects(n: int, prefix: str) -> list[str]:
    ids = [f"{prefix}{i}" for i in range(n)]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO backend_kit_objects_parseobject (class_name, object_id, data, acl, "
            "read_principals, write_principals, created_at, updated_at) "
            "VALUES ('Lv', %s, '{}', NULL, '{}', '{}', now(), now())",
            [[i] for i in ids],
        )
    return ids


def delete_objects(ids: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM backend_kit_objects_parseobject WHERE class_name = 'Lv' AND object_id = ANY(%s)",
            [ids],
        )


@pytest.mark.django_db
def test_the_trigger_functions_hold_their_own_statements() -> None:
    levels.install(force=True)
    sources = function_sources()
    assert {"bk_gr_obj_ins", "bk_gr_obj_del"} <= set(sources)
    assert levels.RETIRED_PG_FUNCTION not in sources
    assert all(levels.RETIRED_PG_FUNCTION not in body for body in sources.values())
    base = levels.read("objects_stored")
    ids = create_objects(3, "a")
    assert levels.read("objects_stored") == base + 3
    delete_objects(ids[:2])
    assert levels.read("objects_stored") == base + 1


@pytest.mark.django_db
def test_an_earlier_install_is_upgraded_in_place_without_a_recount() -> None:
    levels.install(force=True)
    with connection.cursor() as cursor:
        cursor.execute(OLD_SHARED_FUNCTION)
        cursor.execute(OLD_TRIGGER_FUNCTION.format(name="bk_gr_obj_ins", sign="", rows="new_rows"))
        cursor.execute(OLD_TRIGGER_FUNCTION.format(name="bk_gr_obj_del", sign="-", rows="old_rows"))
    base = levels.read("objects_stored")
    ids = create_objects(2, "old")  # counted by the old functions
    assert levels.read("objects_stored") == base + 2
    # a level that disagrees with the table on purpose: a recount would put it right
    UsageLevel.objects.create(metric="objects_stored", stripe=99, value=1000)

    assert levels.install() == []  # the triggers were in place: nothing reinstalled

    sources = function_sources()
    assert levels.RETIRED_PG_FUNCTION not in sources
    assert all(levels.RETIRED_PG_FUNCTION not in body for body in sources.values())
    assert levels.read("objects_stored") == base + 2 + 1000  # not recounted
    more = create_objects(4, "new")
    delete_objects([ids[0], *more[:1]])
    assert levels.read("objects_stored") == base + 2 + 1000 + 4 - 2
    assert levels.install() == []
    assert function_sources() == sources  # the second time there is nothing to do
