"""The shared query case table, run against the SQL compiler and the in-memory matcher.

The same module runs on SQLite (default settings) and on PostgreSQL
(``--ds=tests.projects.postgres.settings``), so one table checks all three.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from backend_kit.context import RequestContext
from backend_kit.objects import reads, writes
from backend_kit.objects.models import ClassSchema, ParseObject, RelationEntry
from backend_kit.objects.query import cases
from backend_kit.objects.query.matcher import Matcher
from backend_kit.objects.query.parser import QueryParser
from backend_kit.objects.query.resolver import DatabaseResolver
from backend_kit.objects.schema import clear_cache, create_class, get_schema

MASTER = RequestContext.master(app_id="test-app")


@pytest.fixture(scope="module")
def case_data(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        clear_cache()
        for class_name, spec in cases.SCHEMAS.items():
            create_class(class_name, spec["fields"])
        with override_settings(BACKEND_KIT={**_kit(), "ALLOW_CUSTOM_OBJECT_ID": True}):
            for class_name, object_id, fields in cases.OBJECTS:
                body = {"objectId": object_id, **fields}
                for owner_class, owner_id, key, related in cases.RELATIONS:
                    if (owner_class, owner_id) == (class_name, object_id):
                        body[key] = {
                            "__op": "AddRelation",
                            "objects": [cases.ptr("QCOther", r) for r in related],
                        }
                writes.create(MASTER, class_name, body)
        yield
        ParseObject.objects.all().delete()
        RelationEntry.objects.all().delete()
        ClassSchema.objects.filter(class_name__in=cases.SCHEMAS).delete()
        clear_cache()


def _kit() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.BACKEND_KIT)


def _ids(results: list[dict[str, Any]]) -> list[str]:
    return [o["objectId"] for o in results]


@pytest.mark.parametrize("case", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_sql_compiler(case: Any, case_data: Any, db: Any) -> None:
    _, class_name, where, order, expected = case
    params: dict[str, Any] = {"where": where, "limit": 1000}
    if order:
        params["order"] = order
    got = _ids(reads.find(MASTER, class_name, params)["results"])
    if isinstance(expected, list):
        assert got == expected
    else:
        assert set(got) == expected


@pytest.mark.parametrize("case", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_matcher(case: Any, case_data: Any, db: Any) -> None:
    _, class_name, where, _order, expected = case
    query = QueryParser(get_schema).parse_query(class_name, where)
    objects = reads.find(MASTER, class_name, {"limit": 1000})["results"]
    matcher = Matcher(DatabaseResolver(None), class_name=class_name)
    got = {o["objectId"] for o in objects if matcher.matches(query.where, o)}
    assert got == set(expected)


def test_count_matches_find(case_data: Any, db: Any) -> None:
    for _, class_name, where, _order, expected in cases.CASES:
        response = reads.find(MASTER, class_name, {"where": where, "count": 1, "limit": 0})
        assert response["results"] == []
        assert response["count"] == len(expected), where
