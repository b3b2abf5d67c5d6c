"""A find's results spliced from the stored JSON (``encoding.encoded_bytes``) say exactly
what the decoded and re-encoded objects say, and only where that is so."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection

from backend_kit.objects import encoding, reads
from tests.conftest import ParseClient
from tests.support import MASTER

CREATED = "2026-01-02T03:04:05.678Z"
UPDATED = "2026-02-03T04:05:06.789Z"


def decoded(object_id: str, data: str, acl: str | None) -> dict[str, Any]:
    return encoding.encode_object(
        object_id, orjson.loads(data), orjson.loads(acl) if acl else None, CREATED, UPDATED
    )


@pytest.mark.parametrize(
    "data, acl",
    [
        ('{"a": 1, "b": "two", "c": [1, {"d": null}], "e": {"f": true}}', '{"*": {"read": true}}'),
        ("{}", None),
        ("  { }  ", None),
        ('{"p": {"__type": "Pointer", "className": "T", "objectId": "x"}}', None),
        ('{"when": {"__type": "Date", "iso": "2026-01-01T00:00:00.000Z"}}', None),
        ('{"q": "a \\"quoted\\" \\\\ value", "u": "caf\\u00e9 \\ud83d\\ude00 é"}', None),
        ('{"n": 1.5e300, "m": -0.0, "i": 9007199254740993}', None),
        ('{"objectId": "spoof", "createdAt": "x", "ACL": {"*": {"read": false}}}', '{"*": {}}'),
    ],
)
def test_the_splice_reads_as_the_decoded_object(data: str, acl: str | None) -> None:
    fragment = encoding.encoded_bytes("id1", data, acl, CREATED, UPDATED)
    assert fragment is not None
    spliced = orjson.loads(orjson.dumps({"results": [fragment]}))["results"][0]
    assert spliced == decoded("id1", data, acl)
    # the same keys in the same order (a duplicated key: the last one wins, as in JS)
    assert list(spliced) == list(decoded("id1", data, acl))


@pytest.mark.parametrize(
    "data, acl, created",
    [
        ('{"_hashed_password": "x", "a": 1}', None, CREATED),  # internal field
        ('{"a": {"_private": 1}}', None, CREATED),  # an underscore key anywhere
        ('{"f": {"__type": "File", "name": "a.txt"}}', None, CREATED),  # needs its URL
        ({"a": 1}, None, CREATED),  # already decoded (SQLite's JSON1 through Django)
        ('{"a": 1}', {"*": {}}, CREATED),
        ('{"a": 1}', None, "2026-01-02 03:04:05.678+00"),  # not the wire form
        ('["not", "an", "object"]', None, CREATED),
    ],
)
def test_rows_that_need_the_decoder_are_left_to_it(data: Any, acl: Any, created: str) -> None:
    assert encoding.encoded_bytes("id1", data, acl, created, UPDATED) is None


@pytest.fixture
def spliced_count(monkeypatch: Any) -> list[int]:
    """How many results of the requests that follow were spliced."""
    count = [0]
    real = reads.encoded_bytes

    def counting(*args: Any) -> Any:
        fragment = real(*args)
        count[0] += fragment is not None
        return fragment

    monkeypatch.setattr(reads, "encoded_bytes", counting)
    return count


def test_a_find_answers_the_same_either_way(
    master: ParseClient, api: ParseClient, spliced_count: list[int]
) -> None:
    master.post("schemas/Mixed", {"className": "Mixed", "fields": {"f": {"type": "File"}}})
    bodies = [
        {"n": 1, "s": "plain", "nested": {"k": [1, 2, {"deep": "é"}]}},
        {"n": 2, "when": {"__type": "Date", "iso": "2026-05-06T07:08:09.010Z"}},
        {"n": 3, "ptr": {"__type": "Pointer", "className": "Mixed", "objectId": "abc"}},
        {"n": 4, "geo": {"__type": "GeoPoint", "latitude": 1.5, "longitude": -2}},
        {"n": 5, "f": {"__type": "File", "name": "x.txt"}},
        {"n": 6, "ACL": {"*": {"read": True}}},
        {"n": 7, "s": "_leading underscore value"},
    ]
    for body in bodies:
        assert master.post("classes/Mixed", body).status_code == 201
    r = api.get("classes/Mixed", order="n", limit=10)
    assert r.status_code == 200, r.json_body
    over_http = r.json_body
    assert over_http == reads.find(MASTER, "Mixed", {"order": "n", "limit": 10})
    assert [o["n"] for o in over_http["results"]] == [1, 2, 3, 4, 5, 6, 7]
    assert over_http["results"][4]["f"]["url"].endswith("x.txt")
    if connection.vendor == "postgresql":
        # all but the File and the underscore-valued rows were spliced
        assert spliced_count[0] == 5
    else:
        assert spliced_count[0] == 0  # SQLite's timestamps are not read in the wire form


def test_what_needs_dictionaries_gets_them(master: ParseClient, spliced_count: list[int]) -> None:
    for n in range(3):
        master.post(
            "classes/Plain",
            {
                "n": n,
                "secret": f"s{n}",
                "other": {"__type": "Pointer", "className": "Plain", "objectId": "z"},
            },
        )
    for params in (
        {"keys": "n"},
        {"excludeKeys": "secret"},
        {"include": "other"},
        {"include": "*"},
        {"redirectClassNameForKey": "nothing"},
    ):
        r = master.get("classes/Plain", order="n", **params)
        assert r.status_code == 200, (params, r.json_body)
        assert [o["n"] for o in r.json_body["results"]] == [0, 1, 2], params
    assert spliced_count[0] == 0
    r = master.get("classes/Plain", order="n", keys="n")
    assert all("secret" not in o for o in r.json_body["results"])
