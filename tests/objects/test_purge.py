"""DELETE /purge/<class>: empty a class, keep its schema."""

from __future__ import annotations

import pytest

from backend_kit.objects.models import RelationEntry
from tests.conftest import ParseClient

pytestmark = pytest.mark.django_db


def ptr(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def test_purge_empties_the_class_and_keeps_the_schema(master: ParseClient) -> None:
    for n in range(3):
        master.post("classes/Log", {"n": n})
    other = master.post("classes/Other", {"n": 1}).json_body["objectId"]
    r = master.delete("purge/Log")
    assert r.status_code == 200 and r.json_body == {}
    assert master.get("classes/Log", count=1, limit=0).json_body["count"] == 0
    assert master.get("schemas/Log").json_body["fields"]["n"] == {"type": "Number"}
    # other classes are untouched
    assert master.get(f"classes/Other/{other}").status_code == 200
    # the class is usable afterwards
    assert master.post("classes/Log", {"n": 9}).status_code == 201


def test_purge_drops_the_relation_rows_of_the_class(master: ParseClient) -> None:
    person = master.post("classes/Person", {}).json_body["objectId"]
    master.post("classes/Team", {"m": {"__op": "AddRelation", "objects": [ptr("Person", person)]}})
    master.post("classes/Club", {"m": {"__op": "AddRelation", "objects": [ptr("Person", person)]}})
    master.delete("purge/Team")
    assert not RelationEntry.objects.filter(owner_class="Team").exists()
    assert RelationEntry.objects.filter(owner_class="Club").count() == 1


def test_purge_of_a_missing_class(master: ParseClient) -> None:
    r = master.delete("purge/Nothing")
    assert r.status_code == 200 and r.json_body == {}
    r = master.delete("purge/9bad")
    assert r.status_code == 400 and r.json_body["code"] == 103


def test_purge_is_master_only(api: ParseClient, master: ParseClient) -> None:
    master.post("classes/Log", {"n": 1})
    r = api.delete("purge/Log")
    assert r.status_code == 403
    assert r.json_body == {"error": "Permission denied"}
    assert master.get("classes/Log", count=1, limit=0).json_body["count"] == 1
    # only DELETE is routed
    assert master.get("purge/Log").status_code == 405
