"""The request envelope: X-Parse headers, JS SDK tunnelling, keys, CORS, body limits."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client, override_settings

from backend_kit.objects import hooks

from .conftest import APP_ID, JS_KEY, MASTER_KEY, REST_KEY, ParseClient
from .support import ids, kit, master_headers, raw_request, tunnel

pytestmark = pytest.mark.django_db

READ_ONLY_KEY = "test-read-only-master-key"


class RecordingTriggers(hooks.Triggers):
    """Captures the request context a beforeSave on ``Probe`` sees."""

    def __init__(self) -> None:
        self.contexts: list[Any] = []
        self.objects: list[dict[str, Any]] = []

    def has(self, trigger: str, class_name: str) -> bool:
        return trigger == "beforeSave" and class_name == "Probe"

    def before_save(self, ctx: Any, class_name: str, obj: Any, original: Any) -> Any:
        self.contexts.append(ctx)
        self.objects.append(dict(obj))
        return None


@pytest.fixture(autouse=True)
def probe_class(db: Any) -> None:
    """Clients may not create classes: ``Probe`` exists from the start."""
    from backend_kit.objects.schema import create_class

    create_class("Probe")


@pytest.fixture
def recorder() -> Any:
    previous = hooks.triggers()  # the cloud app's, when installed
    triggers = RecordingTriggers()
    hooks.install(triggers)
    yield triggers
    hooks.install(previous)


# --- X-Parse headers ---------------------------------------------------------------------


def test_rest_headers_create_and_read(api: ParseClient, master: ParseClient) -> None:
    master.post("schemas/Note", {"className": "Note"})
    created = api.post("classes/Note", {"text": "hi"})
    assert created.status_code == 201, created.json_body
    assert set(created.json_body) == {"objectId", "createdAt"}
    got = api.get(f"classes/Note/{created.json_body['objectId']}")
    assert got.status_code == 200
    assert got.json_body["text"] == "hi"
    assert got["Content-Type"].startswith("application/json")


def test_get_params_are_json_decoded(master: ParseClient) -> None:
    for n in range(5):
        master.post("classes/Item", {"n": n, "tag": "t" if n % 2 else "u"})
    # raw query strings as a REST client writes them
    r = raw_request(
        "GET",
        "classes/Item",
        headers=master_headers(),
        where='{"n":{"$gte":2}}',
        limit="2",
        order="-n",
        count="1",
    )
    assert r.status_code == 200, r.json_body
    assert [o["n"] for o in r.json_body["results"]] == [4, 3]
    assert r.json_body["count"] == 3
    # a value that is not JSON stays a string: keys=n,tag
    r = raw_request("GET", "classes/Item", headers=master_headers(), keys="n", limit="1")
    assert set(r.json_body["results"][0]) == {"objectId", "n", "createdAt", "updatedAt"}


# --- the JS SDK envelope -------------------------------------------------------------------


def test_tunnelled_create_find_get_update_delete(db: Any) -> None:
    created = tunnel("classes/Probe", {"score": 1})
    assert created.status_code == 201, created.json_body
    oid = created.json_body["objectId"]

    found = tunnel("classes/Probe", {"where": {"score": 1}}, method="GET")
    assert found.status_code == 200, found.json_body
    assert ids(found.json_body["results"]) == [oid]

    got = tunnel(f"classes/Probe/{oid}", {}, method="GET")
    assert got.status_code == 200 and got.json_body["score"] == 1

    updated = tunnel(
        f"classes/Probe/{oid}", {"score": {"__op": "Increment", "amount": 4}}, method="PUT"
    )
    assert updated.status_code == 200, updated.json_body
    assert updated.json_body["score"] == 5

    deleted = tunnel(f"classes/Probe/{oid}", {}, method="DELETE")
    assert deleted.status_code == 200 and deleted.json_body == {}
    assert tunnel(f"classes/Probe/{oid}", {}, method="GET").status_code == 404


def test_tunnelled_get_params_in_body(master: ParseClient) -> None:
    for n in range(4):
        master.post("classes/Row", {"n": n})
    r = tunnel(
        "classes/Row",
        {"where": {"n": {"$lt": 3}}, "order": "-n", "limit": 2, "count": 1, "keys": "n"},
        method="GET",
    )
    assert r.status_code == 200, r.json_body
    assert [o["n"] for o in r.json_body["results"]] == [2, 1]
    assert r.json_body["count"] == 3


def test_envelope_keys_are_not_stored(recorder: RecordingTriggers, master: ParseClient) -> None:
    r = tunnel(
        "classes/Probe",
        {
            "name": "x",
            "_InstallationId": "inst-1",
            "_ClientVersion": "js8.6.0",
            "_context": {"source": "sdk"},
            "_ContentType": "application/json",
            "_RevocableSession": "1",
        },
    )
    assert r.status_code == 201, r.json_body
    stored = master.get(f"classes/Probe/{r.json_body['objectId']}").json_body
    assert not [k for k in stored if k.startswith("_")]
    assert stored["name"] == "x"
    ctx = recorder.contexts[-1]
    assert ctx.installation_id == "inst-1"
    assert ctx.client_version == "js8.6.0"
    assert ctx.cloud_context == {"source": "sdk"}
    assert ctx.revocable_session is True
    assert not ctx.is_master


def test_tunnelled_context_as_json_string(recorder: RecordingTriggers) -> None:
    r = tunnel("classes/Probe", {"_context": '{"a": 1}'})
    assert r.status_code == 201, r.json_body
    assert recorder.contexts[-1].cloud_context == {"a": 1}


@pytest.mark.parametrize("bad", ['"text"', "[1]", "not json", 5])
def test_tunnelled_bad_context_is_107(bad: Any, recorder: RecordingTriggers) -> None:
    r = tunnel("classes/Probe", {"_context": bad})
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "Invalid object for context."}
    assert not recorder.contexts


def test_headers_carry_installation_version_and_context(
    recorder: RecordingTriggers, api: ParseClient
) -> None:
    r = api.post(
        "classes/Probe",
        {"a": 1},
        headers={
            "X-Parse-Installation-Id": "inst-2",
            "X-Parse-Client-Version": "i2.0",
            "X-Parse-Cloud-Context": '{"k": [1, 2]}',
        },
    )
    assert r.status_code == 201, r.json_body
    ctx = recorder.contexts[-1]
    assert (ctx.installation_id, ctx.client_version, ctx.cloud_context) == (
        "inst-2",
        "i2.0",
        {"k": [1, 2]},
    )


@pytest.mark.parametrize("bad", ["{not json", "[]", '"s"', "3"])
def test_cloud_context_header_bad_json_is_107(bad: str, api: ParseClient) -> None:
    r = api.post("classes/Probe", {"a": 1}, headers={"X-Parse-Cloud-Context": bad})
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "Invalid object for context."}
    r = api.request("GET", "classes/Probe", headers={"X-Parse-Cloud-Context": bad})
    assert r.status_code == 400 and r.json_body["code"] == 107


def test_tunnelled_master_key(master: ParseClient) -> None:
    master.post("schemas/Secret", {"className": "Secret", "classLevelPermissions": {}})
    r = tunnel("schemas", {}, method="GET", master_key=MASTER_KEY)
    assert r.status_code == 200, r.json_body
    assert "Secret" in [s["className"] for s in r.json_body["results"]]
    # the CLP allows nobody, only the master key passes
    assert tunnel("classes/Secret", {"a": 1}).status_code == 400
    r = tunnel("classes/Secret", {"a": 1}, master_key=MASTER_KEY)
    assert r.status_code == 201, r.json_body


def test_tunnelled_wrong_master_key_is_not_master(db: Any) -> None:
    r = tunnel("schemas", {}, method="GET", master_key="nope")
    assert r.status_code == 403
    assert r.json_body == {"error": "Permission denied"}
    r = tunnel("schemas", {}, method="GET", master_key="nope", js_key=None)
    assert r.status_code == 403
    assert r.json_body == {"error": "unauthorized"}


def test_tunnelled_session_token_without_accounts_is_209(db: Any) -> None:
    r = tunnel("classes/Probe", {"_SessionToken": "r:abc"}, method="GET")
    assert r.status_code == 400
    assert r.json_body["code"] == 209


def test_session_token_header_without_accounts_is_209(db: Any) -> None:
    r = ParseClient(session_token="r:whatever").get("classes/Probe")
    assert r.status_code == 400
    assert r.json_body["code"] == 209


def test_tunnelled_non_string_key_is_unauthorized(db: Any) -> None:
    r = tunnel("classes/Probe", {"_SessionToken": 5})
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}


def test_tunnelled_method_override_only_from_post(master: ParseClient) -> None:
    # a real PUT with _method=DELETE in its body is a PUT
    oid = master.post("classes/Probe", {"a": 1}).json_body["objectId"]
    r = master.put(f"classes/Probe/{oid}", {"_method": "DELETE", "a": 2})
    assert r.status_code == 200, r.json_body
    assert master.get(f"classes/Probe/{oid}").json_body["a"] == 2


# --- application id and client keys -----------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Parse-REST-API-Key": REST_KEY},
        {"X-Parse-Application-Id": "other-app", "X-Parse-REST-API-Key": REST_KEY},
        {"X-Parse-Application-Id": "", "X-Parse-REST-API-Key": REST_KEY},
    ],
)
def test_missing_or_wrong_app_id_is_403(headers: dict[str, str], db: Any) -> None:
    for method in ("GET", "POST"):
        r = raw_request(method, "classes/Probe", b'{"a":1}', headers=headers)
        assert r.status_code == 403
        assert r.json_body == {"error": "unauthorized"}


def test_tunnelled_wrong_app_id_is_403(db: Any) -> None:
    r = tunnel("classes/Probe", {}, method="GET", app_id="other")
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}
    r = tunnel("classes/Probe", {}, method="GET", app_id=None)
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}


@pytest.mark.parametrize(
    "key_header,value",
    [
        ("X-Parse-REST-API-Key", REST_KEY),
        ("X-Parse-Javascript-Key", JS_KEY),
    ],
)
def test_any_configured_client_key_passes(key_header: str, value: str, db: Any) -> None:
    r = raw_request(
        "GET", "classes/Probe", headers={"X-Parse-Application-Id": APP_ID, key_header: value}
    )
    assert r.status_code == 200, r.json_body


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Parse-Application-Id": APP_ID},
        {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": "wrong"},
        # a key is only accepted in its own header
        {"X-Parse-Application-Id": APP_ID, "X-Parse-Client-Key": REST_KEY},
        {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": JS_KEY},
    ],
)
def test_client_key_enforced_when_configured(headers: dict[str, str], db: Any) -> None:
    r = raw_request("GET", "classes/Probe", headers=headers)
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}


def test_tunnelled_wrong_js_key_is_403(db: Any) -> None:
    r = tunnel("classes/Probe", {}, method="GET", js_key="wrong")
    assert r.status_code == 403
    r = tunnel("classes/Probe", {}, method="GET", js_key=None)
    assert r.status_code == 403


@override_settings(
    BACKEND_KIT=kit(JAVASCRIPT_KEY=None, REST_API_KEY=None, CLIENT_KEY="client-only")
)
def test_client_key_header_and_other_configured_keys(db: Any) -> None:
    ok = raw_request(
        "GET",
        "classes/Probe",
        headers={"X-Parse-Application-Id": APP_ID, "X-Parse-Client-Key": "client-only"},
    )
    assert ok.status_code == 200, ok.json_body
    refused = raw_request(
        "GET",
        "classes/Probe",
        headers={"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": "client-only"},
    )
    assert refused.status_code == 403


@override_settings(BACKEND_KIT=kit(JAVASCRIPT_KEY=None, REST_API_KEY=None))
def test_no_client_key_configured_means_none_needed(db: Any) -> None:
    r = raw_request("GET", "classes/Probe", headers={"X-Parse-Application-Id": APP_ID})
    assert r.status_code == 200, r.json_body
    r = raw_request(
        "GET",
        "classes/Probe",
        headers={"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": "anything"},
    )
    assert r.status_code == 200
    r = tunnel("classes/Probe", {}, method="GET", js_key=None)
    assert r.status_code == 200, r.json_body


# --- master keys ----------------------------------------------------------------------------


def test_master_key_bypasses_client_keys_and_clp(master: ParseClient) -> None:
    master.post("schemas/Locked", {"className": "Locked", "classLevelPermissions": {}})
    r = raw_request(
        "POST", "classes/Locked", b'{"a": 1}', headers=master_headers()
    )  # no client key at all
    assert r.status_code == 201, r.json_body
    r = raw_request("GET", "classes/Locked", headers=master_headers())
    assert len(r.json_body["results"]) == 1


def test_master_only_route_without_master_key(api: ParseClient) -> None:
    r = api.get("schemas")
    assert r.status_code == 403
    assert r.json_body == {"error": "Permission denied"}
    with override_settings(BACKEND_KIT=kit(SANITIZE_PERMISSION_ERRORS=False)):
        r = api.get("schemas")
        assert r.json_body == {"error": "unauthorized: master key is required"}


@override_settings(BACKEND_KIT=kit(JAVASCRIPT_KEY=None, REST_API_KEY=None))
def test_wrong_master_key_without_client_keys_is_a_public_caller(master: ParseClient) -> None:
    # Parse Server: a master key that matches nothing is simply not the master key
    master.post("schemas/Locked", {"className": "Locked", "classLevelPermissions": {}})
    headers = {"X-Parse-Application-Id": APP_ID, "X-Parse-Master-Key": "wrong"}
    r = raw_request("GET", "classes/Locked", headers=headers)
    assert r.status_code == 400 and r.json_body["code"] == 119
    r = raw_request("GET", "schemas", headers=headers)
    assert r.status_code == 403


def test_wrong_master_key_with_client_keys_is_403(db: Any) -> None:
    r = raw_request(
        "GET",
        "classes/Probe",
        headers={"X-Parse-Application-Id": APP_ID, "X-Parse-Master-Key": "x"},
    )
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}


@override_settings(BACKEND_KIT=kit(READ_ONLY_MASTER_KEY=READ_ONLY_KEY))
def test_read_only_master_key_refusals_are_sanitized_by_default(master: ParseClient) -> None:
    oid = master.post("classes/Probe", {"a": 1}).json_body["objectId"]
    ro = ParseClient()
    headers = {"X-Parse-Master-Key": READ_ONLY_KEY}
    for method, path in [("PUT", f"classes/Probe/{oid}"), ("PUT", "schemas/Probe")]:
        r = ro.request(method, path, {"a": 2}, headers=headers)
        assert r.json_body == {"code": 119, "error": "Permission denied"}


@override_settings(
    BACKEND_KIT=kit(READ_ONLY_MASTER_KEY=READ_ONLY_KEY, SANITIZE_PERMISSION_ERRORS=False)
)
def test_read_only_master_key(master: ParseClient) -> None:
    master.post("schemas/Locked", {"className": "Locked", "classLevelPermissions": {}})
    oid = master.post("classes/Locked", {"a": 1, "ACL": {}}).json_body["objectId"]
    master.put("config", {"params": {"secret": 1}, "masterKeyOnly": {"secret": True}})
    ro = ParseClient()
    ro_headers = {"X-Parse-Master-Key": READ_ONLY_KEY}

    def call(method: str, path: str, body: Any = None, **params: Any) -> Any:
        if method == "GET":
            return ro.request("GET", path, params=params, headers=ro_headers)
        return ro.request(method, path, body, headers=ro_headers)

    # reads: ACL and CLP do not apply, master-only routes answer
    r = call("GET", "classes/Locked")
    assert ids(r.json_body["results"]) == [oid]
    assert call("GET", f"classes/Locked/{oid}").json_body["a"] == 1
    assert call("GET", "classes/Locked", count=1, limit=0).json_body["count"] == 1
    assert call("GET", "schemas").status_code == 200
    assert call("GET", "schemas/Locked").status_code == 200
    assert call("GET", "config").json_body["params"] == {"secret": 1}

    # writes are refused with 119 and nothing changes
    for method, path, body, op in [
        ("POST", "classes/Locked", {"a": 2}, "create"),
        ("PUT", f"classes/Locked/{oid}", {"a": 3}, "update"),
        ("DELETE", f"classes/Locked/{oid}", None, "delete"),
    ]:
        r = call(method, path, body)
        assert r.status_code == 400, (method, r.json_body)
        assert r.json_body == {
            "code": 119,
            "error": f"read-only masterKey isn't allowed to perform the {op} operation.",
        }
    for method, path, body, message in [
        ("POST", "schemas/Other", {}, "read-only masterKey isn't allowed to create a schema."),
        (
            "PUT",
            "schemas/Locked",
            {"fields": {}},
            "read-only masterKey isn't allowed to update a schema.",
        ),
        ("DELETE", "schemas/Locked", None, "read-only masterKey isn't allowed to delete a schema."),
        (
            "PUT",
            "config",
            {"params": {"x": 1}},
            "read-only masterKey isn't allowed to update the config.",
        ),
        ("DELETE", "purge/Locked", None, "read-only masterKey isn't allowed to purge a schema."),
    ]:
        r = call(method, path, body)
        assert r.status_code == 400, (method, path, r.json_body)
        assert r.json_body == {"code": 119, "error": message}
    r = call(
        "POST",
        "batch",
        {"requests": [{"method": "POST", "path": "/parse/classes/Locked", "body": {"a": 9}}]},
    )
    assert r.status_code == 200
    assert r.json_body[0]["error"]["code"] == 119
    assert master.get("classes/Locked", count=1, limit=0).json_body["count"] == 1
    assert master.get(f"classes/Locked/{oid}").json_body["a"] == 1
    assert "x" not in master.get("config").json_body["params"]
    assert master.get("schemas/Other").status_code == 400


@override_settings(BACKEND_KIT=kit(MASTER_KEY_IPS=["10.0.0.0/8", "::1"]))
def test_master_key_from_an_address_not_allowed_is_403(db: Any) -> None:
    # the test client connects from 127.0.0.1
    r = raw_request("GET", "schemas", headers=master_headers())
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}
    r = tunnel("schemas", {}, method="GET", master_key=MASTER_KEY)
    assert r.status_code == 403


@override_settings(BACKEND_KIT=kit(MASTER_KEY_IPS=["127.0.0.0/24"]))
def test_master_key_from_an_allowed_network(db: Any) -> None:
    r = raw_request("GET", "schemas", headers=master_headers())
    assert r.status_code == 200, r.json_body


@override_settings(BACKEND_KIT=kit(MASTER_KEY_IPS=["10.0.0.0/8"]))
def test_master_key_ips_use_the_client_address(db: Any) -> None:
    client = Client(REMOTE_ADDR="10.9.8.7")
    r = client.get("/parse/schemas", headers=master_headers())
    assert r.status_code == 200, r.content
    client = Client(REMOTE_ADDR="192.168.1.1")
    assert client.get("/parse/schemas", headers=master_headers()).status_code == 403


@override_settings(BACKEND_KIT=kit(MASTER_KEY_IPS=[]))
def test_empty_master_key_ips_refuses_every_address(db: Any) -> None:
    assert raw_request("GET", "schemas", headers=master_headers()).status_code == 403


# --- CORS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["classes/Probe", "classes/Probe/abc", "batch", "schemas", "config", "nowhere/at/all"]
)
def test_cors_preflight(path: str, db: Any) -> None:
    r = Client().options(
        "/parse/" + path,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-parse-application-id, content-type",
        },
    )
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == "*"
    assert "OPTIONS" in r["Access-Control-Allow-Methods"]
    assert "POST" in r["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r["Access-Control-Allow-Headers"].split(",")}
    assert {
        "x-parse-application-id",
        "x-parse-rest-api-key",
        "x-parse-javascript-key",
        "x-parse-master-key",
        "x-parse-session-token",
        "x-parse-installation-id",
        "x-parse-client-version",
        "x-parse-revocable-session",
        "x-parse-request-id",
        "x-parse-cloud-context",
        "content-type",
    } <= allowed
    assert "X-Parse-Job-Status-Id" in r["Access-Control-Expose-Headers"]


def test_cors_headers_on_answers(api: ParseClient) -> None:
    headers = {"Origin": "https://app.example.com"}
    for r in (
        api.request("GET", "classes/Probe", headers=headers),
        api.request("POST", "classes/Probe", {"a": 1}, headers=headers),
        api.request("GET", "classes/Probe/missing", headers=headers),  # an error answer
        api.request("GET", "schemas", headers=headers),  # a 403
        raw_request("GET", "classes/Probe", headers=headers),  # no app id
        raw_request("GET", "unknown/route", headers=master_headers(**headers)),
    ):
        assert r["Access-Control-Allow-Origin"] == "*", r.status_code
        expose = {h.strip() for h in r["Access-Control-Expose-Headers"].split(",")}
        assert {"X-Parse-Job-Status-Id", "X-Parse-Push-Status-Id"} <= expose
        # what a browser may send is the preflight's answer; elsewhere it is ignored
        assert not r.has_header("Access-Control-Allow-Headers")
        assert not r.has_header("Access-Control-Allow-Methods")


@override_settings(BACKEND_KIT=kit(CORS_ALLOWED_ORIGINS=["https://good.example"]))
def test_cors_allowed_origins(api: ParseClient) -> None:
    r = api.request("GET", "classes/Probe", headers={"Origin": "https://good.example"})
    assert r["Access-Control-Allow-Origin"] == "https://good.example"
    vary = {v.strip() for v in r["Vary"].split(",")}
    assert {"Origin", "Accept"} <= vary  # the JSON / browsable choice still varies


# --- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_malformed_json_is_107(content_type: str, db: Any) -> None:
    headers = {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": REST_KEY}
    r = raw_request("POST", "classes/Probe", b'{"a": 1', content_type=content_type, headers=headers)
    assert r.status_code == 400
    assert r.json_body == {"code": 107, "error": "Invalid JSON"}
    r = raw_request("PUT", "classes/Probe/x", b"{,}", content_type=content_type, headers=headers)
    assert r.status_code == 400 and r.json_body["code"] == 107


def test_malformed_tunnelled_body_without_app_id_is_403(db: Any) -> None:
    r = tunnel("classes/Probe", {}, raw=b'{"_ApplicationId": "test-app"')
    assert r.status_code == 403 and r.json_body == {"error": "unauthorized"}


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"3"])
def test_non_object_body_is_a_parse_error(body: bytes, db: Any) -> None:
    headers = {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": REST_KEY}
    r = raw_request("POST", "classes/Probe", body, headers=headers)
    assert r.status_code == 400
    assert r.json_body["code"] == 107


@override_settings(BACKEND_KIT=kit(MAX_BODY_SIZE=1024))
def test_body_over_the_limit_is_413(master: ParseClient) -> None:
    r = master.post("classes/Probe", {"blob": "x" * 2000})
    assert r.status_code == 413
    assert r.json_body["code"] == 116
    assert "1024" in r.json_body["error"]
    r = tunnel("classes/Probe", {"blob": "x" * 2000})
    assert r.status_code == 413 and r.json_body["code"] == 116
    assert master.get("classes/Probe", count=1, limit=0).json_body["count"] == 0
    assert master.post("classes/Probe", {"blob": "x" * 100}).status_code == 201


def test_unknown_route_under_the_mount_is_a_parse_error(db: Any) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        r = raw_request(method, "no/such/endpoint", b"{}", headers=master_headers())
        assert r.status_code == 404
        assert set(r.json_body) == {"code", "error"}
        assert isinstance(r.json_body["code"], int)
        assert r["Content-Type"].startswith("application/json")


def test_method_not_allowed_is_a_parse_error(master: ParseClient) -> None:
    r = master.request("PUT", "classes/Probe", {"a": 1})
    assert r.status_code == 405
    assert set(r.json_body) == {"code", "error"}
    assert r["Allow"] == "GET, POST, HEAD, OPTIONS"  # what HTTP asks of a 405


def test_json_answers_carry_no_allow_header_but_vary_on_accept(master: ParseClient) -> None:
    r = master.request("GET", "classes/Probe")
    assert r.status_code == 200
    assert "Allow" not in r
    assert "Accept" in r["Vary"]  # the browsable API answers the same URL
    page = master.client.get(
        "/parse/classes/Probe", headers=master.headers({"Accept": "text/html"})
    )
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["Allow"]  # DRF's page shows the methods


def test_health_needs_no_keys(db: Any) -> None:
    r = Client().get("/parse/health")
    assert r.status_code == 200
    assert orjson.loads(r.content) == {"status": "ok"}


def test_server_info_is_master_only(master: ParseClient, api: ParseClient) -> None:
    assert api.get("serverInfo").status_code == 403
    info = master.get("serverInfo").json_body
    assert info["features"]["schemas"]["addField"] is True
    assert "parseServerVersion" in info
