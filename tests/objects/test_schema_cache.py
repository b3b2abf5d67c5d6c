"""The schema cache checks the shared version once per request, on every lookup elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from backend_kit.cache import shared_cache
from backend_kit.objects import schema
from tests.conftest import ParseClient

# Committed for real: inside a test's open transaction a schema change made by the same
# connection is read from the database, past the cache, until the commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def version_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    original = schema._shared_version

    def counting() -> Any:
        reads.append(1)
        return original()

    monkeypatch.setattr(schema, "_shared_version", counting)
    return reads


def test_a_request_reads_the_shared_version_once(
    master: ParseClient, version_reads: list[int]
) -> None:
    created = master.post("classes/Card", {"rank": 1})
    assert created.status_code == 201, created.json_body
    version_reads.clear()
    got = ParseClient().get(f"classes/Card/{created.json_body['objectId']}")
    assert got.status_code == 200
    assert len(version_reads) == 1


def test_outside_a_request_every_lookup_checks(version_reads: list[int]) -> None:
    schema.get_schema("_User")
    schema.get_schema("_User")
    assert len(version_reads) == 2


def test_a_schema_change_by_another_process_is_seen_by_the_next_request(
    master: ParseClient,
) -> None:
    assert master.post("classes/Card", {"rank": 1}).status_code == 201
    assert "suit" not in schema.get_schema("Card").fields
    # another process adds a field: its row changes and it bumps the shared version
    row = schema.ClassSchema.objects.get(class_name="Card")
    row.fields = {**row.fields, "suit": {"type": "String"}}
    row.save()
    shared_cache().set(schema._VERSION_KEY, -1, None)
    answer = master.get("schemas/Card")
    assert "suit" in answer.json_body["fields"]
