from tests.conftest import ParseClient


def test_functions(api: ParseClient, master: ParseClient, conformance_cloud) -> None:
    assert api.post("functions/hello", {}).json_body == {"result": "Hello world"}
    assert api.post("functions/hello", {"name": "Ada"}).json_body == {"result": "Hello Ada"}
    params = {
        "d": {"__type": "Date", "iso": "2026-01-01T00:00:00.000Z"},
        "p": {"__type": "Pointer", "className": "X", "objectId": "abc"},
        "g": {"__type": "GeoPoint", "latitude": 1.5, "longitude": 2.5},
        "n": [1, {"a": None}],
    }
    assert api.post("functions/echo", params).json_body == {"result": params}
    assert api.post("functions/whoami", {}).json_body == {
        "result": {"userId": None, "master": False}
    }
    assert master.post("functions/whoami", {}).json_body == {
        "result": {"userId": None, "master": True}
    }
    r = api.post("functions/throwPlainError", {})
    assert r.status_code == 400 and r.json_body == {"code": 141, "error": "plain failure"}
    assert api.post("functions/throwString", {}).json_body == {
        "code": 141,
        "error": "string failure",
    }
    assert api.post("functions/throwParseError", {}).json_body == {
        "code": 119,
        "error": "custom failure",
    }
    assert api.post("functions/throwParseError", {"code": 3001, "message": "m"}).json_body == {
        "code": 3001,
        "error": "m",
    }
    assert api.post("functions/requireUser", {}).json_body == {
        "code": 142,
        "error": "Validation failed. Please login to continue.",
    }
    token = api.post("users", {"username": "zed", "password": "zed-password"}).json_body[
        "sessionToken"
    ]
    assert ParseClient(session_token=token).post("functions/requireUser", {}).json_body == {
        "result": "ok zed"
    }
    assert api.post("functions/masterOnly", {}).json_body == {
        "code": 142,
        "error": "Validation failed. Master key is required to complete this request.",
    }
    assert master.post("functions/masterOnly", {}).json_body == {"result": "master ok"}
    assert api.post("functions/nope", {}).json_body == {
        "code": 141,
        "error": 'Invalid function: "nope"',
    }


def test_triggers(
    api: ParseClient, master: ParseClient, conformance_cloud, django_capture_on_commit_callbacks
) -> None:
    bad = master.post("classes/CCValidated", {"score": -1})
    assert bad.json_body == {"code": 142, "error": "score must be non-negative"}
    assert master.post("classes/CCValidated", {"name": "forbidden"}).json_body == {
        "code": 119,
        "error": "name is forbidden",
    }
    assert master.post("classes/CCValidated", {"name": "string-reject"}).json_body == {
        "code": 141,
        "error": "string rejection",
    }
    ok = master.post("classes/CCValidated", {"score": 3})
    assert ok.status_code == 201
    upd = master.put(f"classes/CCValidated/{ok.json_body['objectId']}", {"score": -5})
    assert upd.json_body == {"code": 142, "error": "score must be non-negative"}
    mod = master.post("classes/CCModified", {"name": "HeLLo"})
    assert (
        mod.status_code == 201
        and mod.json_body["normalized"] == "hello"
        and mod.json_body["saves"] == 1
    )
    mod2 = master.put(f"classes/CCModified/{mod.json_body['objectId']}", {"name": "ABC"})
    assert mod2.json_body["normalized"] == "abc" and mod2.json_body["saves"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        saved = master.post("classes/CCAfterSave", {"marker": "m1"}).json_body
    audits = master.get("classes/CCAudit", where={"sourceId": saved["objectId"]}).json_body[
        "results"
    ]
    assert [(a["marker"], a["isNew"]) for a in audits] == [("m1", True)]
    locked = master.post("classes/CCNoDelete", {"locked": True, "marker": "L"}).json_body
    refused = master.delete(f"classes/CCNoDelete/{locked['objectId']}")
    assert refused.json_body == {"code": 141, "error": "locked objects cannot be deleted"}
    free = master.post("classes/CCNoDelete", {"locked": False, "marker": "F"}).json_body
    with django_capture_on_commit_callbacks(execute=True):
        assert master.delete(f"classes/CCNoDelete/{free['objectId']}").status_code == 200
    audits = master.get("classes/CCAudit", where={"sourceId": free["objectId"]}).json_body[
        "results"
    ]
    assert audits[0]["deleted"] is True
    master.post("classes/CCHidden", {"hidden": True, "ACL": {"*": {"read": True}}})
    master.post("classes/CCHidden", {"hidden": False, "ACL": {"*": {"read": True}}})
    assert len(api.get("classes/CCHidden").json_body["results"]) == 1
    assert api.get("classes/CCHidden", count=1, limit=0).json_body["count"] == 1
    assert len(master.get("classes/CCHidden").json_body["results"]) == 2
    master.post("classes/CCAfterFind", {"x": 1})
    found = master.get("classes/CCAfterFind").json_body["results"]
    assert found[0]["decorated"] is True
