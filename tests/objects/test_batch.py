"""POST /batch: mixed requests, paths, per-item errors, transactions, limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit, tunnel

pytestmark = pytest.mark.django_db


def item(method: str, path: str, body: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"method": method, "path": path}
    if body is not None:
        out["body"] = body
    return out


def count(master: ParseClient, class_name: str) -> int:
    return master.get(f"classes/{class_name}", count=1, limit=0).json_body["count"]


def test_mixed_requests(master: ParseClient) -> None:
    existing = master.post("classes/Post", {"n": 1}).json_body["objectId"]
    doomed = master.post("classes/Post", {"n": 2}).json_body["objectId"]
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 3}),
                item("PUT", f"/parse/classes/Post/{existing}", {"n": {"__op": "Increment"}}),
                item("DELETE", f"/parse/classes/Post/{doomed}"),
                item("GET", f"/parse/classes/Post/{existing}"),
                item("GET", "/parse/classes/Post", {"where": {"n": {"$gte": 2}}, "order": "n"}),
            ]
        },
    )
    assert r.status_code == 200, r.json_body
    created, updated, deleted, got, found = r.json_body
    assert set(created["success"]) == {"objectId", "createdAt"}
    assert updated["success"]["n"] == 2 and "updatedAt" in updated["success"]
    assert deleted == {"success": {}}
    assert got["success"]["objectId"] == existing
    assert [o["n"] for o in found["success"]["results"]] == [2, 3]
    assert count(master, "Post") == 2


def test_paths_with_and_without_the_mount(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 1}),
                item("POST", "/classes/Post", {"n": 2}),
                item("POST", "classes/Post", {"n": 3}),
                item("POST", "http://testserver/parse/classes/Post", {"n": 4}),
            ]
        },
    )
    assert r.status_code == 200, r.json_body
    assert all("success" in x for x in r.json_body), r.json_body
    assert count(master, "Post") == 4


def test_errors_per_item(master: ParseClient, api: ParseClient) -> None:
    master.post("schemas/Locked", {"classLevelPermissions": {"find": {"*": True}}})
    master.post("schemas/Open", {})
    r = api.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Locked", {"a": 1}),
                item("PUT", "/parse/classes/Open/nope", {"a": 1}),
                item("GET", "/parse/classes/Locked"),
                item("GET", "/parse/schemas"),
                item("POST", "/parse/classes/Locked", {"bad-key": 1}),
                item("GET", "/parse/classes/Locked", {"where": {"a": {"$foo": 1}}}),
            ]
        },
    )
    assert r.status_code == 200, r.json_body
    create, update, find, schemas, bad_key, bad_query = r.json_body
    assert create == {"error": {"code": 119, "error": "Permission denied"}}
    assert update["error"]["code"] == 101
    assert find == {"success": {"results": []}}
    assert schemas["error"] == {"code": 119, "error": "Permission denied"}
    assert bad_key["error"]["code"] == 105
    assert bad_query["error"]["code"] == 102


def test_transaction_rolls_back_everything(master: ParseClient) -> None:
    keep = master.post("classes/Post", {"n": 1}).json_body["objectId"]
    r = master.post(
        "batch",
        {
            "transaction": True,
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 2}),
                item("PUT", f"/parse/classes/Post/{keep}", {"n": 10, "extra": "x"}),
                item("POST", "/parse/classes/Brand", {"fresh": True}),
                item("DELETE", f"/parse/classes/Post/{keep}"),
                item("PUT", "/parse/classes/Post/missing", {"n": 3}),
            ],
        },
    )
    assert r.status_code == 404, r.json_body
    assert r.json_body == {"code": 101, "error": "Object not found."}
    assert count(master, "Post") == 1
    got = master.get(f"classes/Post/{keep}").json_body
    assert got["n"] == 1 and "extra" not in got
    # nothing of the schema changes stayed either
    assert master.get("schemas/Brand").status_code == 400
    assert "extra" not in master.get("schemas/Post").json_body["fields"]


def test_transaction_success(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "transaction": True,
            "requests": [item("POST", "/parse/classes/Post", {"n": i}) for i in range(3)],
        },
    )
    assert r.status_code == 200, r.json_body
    assert [set(x["success"]) for x in r.json_body] == [{"objectId", "createdAt"}] * 3
    assert count(master, "Post") == 3


def test_without_transaction_earlier_writes_stay(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 1}),
                item("PUT", "/parse/classes/Post/missing", {"n": 2}),
                item("POST", "/parse/classes/Post", {"n": 3}),
            ]
        },
    )
    assert [list(x) for x in r.json_body] == [["success"], ["error"], ["success"]]
    assert count(master, "Post") == 2


def test_nested_batch_is_refused(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 1}),
                item(
                    "POST",
                    "/parse/batch",
                    {"requests": [item("POST", "/parse/classes/Post", {"n": 2})]},
                ),
            ]
        },
    )
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "nested batch requests are not allowed"}
    assert count(master, "Post") == 0


def test_unroutable_path_refuses_the_batch(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 1}),
                item("GET", "/parse/nowhere/x"),
            ]
        },
    )
    assert r.status_code == 400
    assert r.json_body["code"] == 107
    assert count(master, "Post") == 0


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "requests must be an array"),
        ({"requests": {"a": 1}}, "requests must be an array"),
        ({"requests": [1]}, "batch request path must be a string"),
        ({"requests": [{"method": "POST"}]}, "batch request path must be a string"),
        ({"requests": [{"method": "POST", "path": 5}]}, "batch request path must be a string"),
    ],
)
def test_malformed_batches(body: dict[str, Any], message: str, master: ParseClient) -> None:
    r = master.post("batch", body)
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": message}


def test_unsupported_method_refuses_the_batch(master: ParseClient) -> None:
    r = master.post(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 0}),
                item("PATCH", "/parse/classes/Post", {"n": 1}),
            ]
        },
    )
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "cannot route PATCH /parse/classes/Post"}
    assert count(master, "Post") == 0


@override_settings(BACKEND_KIT=kit(BATCH_REQUEST_LIMIT=2))
def test_batch_request_limit(master: ParseClient, api: ParseClient) -> None:
    master.post("schemas/Post", {})
    requests = [item("POST", "/parse/classes/Post", {"n": i}) for i in range(3)]
    r = api.post("batch", {"requests": requests})
    assert r.status_code == 400
    assert r.json_body == {
        "code": 107,
        "error": "Batch request contains 3 sub-requests, which exceeds the limit of 2.",
    }
    assert count(master, "Post") == 0
    # the master key is not limited
    assert master.post("batch", {"requests": requests}).status_code == 200
    assert count(master, "Post") == 3


def test_batch_through_the_js_sdk_envelope(master: ParseClient) -> None:
    master.post("schemas/Post", {})
    r = tunnel(
        "batch",
        {
            "requests": [
                item("POST", "/parse/classes/Post", {"n": 1}),
                item("GET", "/parse/classes/Post"),
            ]
        },
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body[1]["success"]["results"][0]["n"] == 1


def test_batch_sub_requests_use_the_callers_rights(master: ParseClient, api: ParseClient) -> None:
    master.post("schemas/Post", {})
    hidden = master.post("classes/Post", {"n": 1, "ACL": {}}).json_body["objectId"]
    r = api.post(
        "batch",
        {
            "requests": [
                item("GET", f"/parse/classes/Post/{hidden}"),
                item("PUT", f"/parse/classes/Post/{hidden}", {"n": 2}),
                item("DELETE", f"/parse/classes/Post/{hidden}"),
            ]
        },
    )
    assert [x["error"]["code"] for x in r.json_body] == [101, 101, 101]
    assert master.get(f"classes/Post/{hidden}").json_body["n"] == 1
