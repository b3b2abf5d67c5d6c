"""The DRF browsable API for a logged-in superuser, and the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.support import kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: Any) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/parse/classes/Game",
        "/parse/schemas",
        "/parse/config",
        "/parse/schemas/Game",
        "/parse/serverInfo",
    ],
)
def test_superuser_gets_html_pages(path: str, admin_client: Client) -> None:
    from backend_kit.objects import writes
    from backend_kit.objects.schema import create_class
    from tests.support import MASTER

    create_class("Game", {"score": {"type": "Number"}})
    writes.create(MASTER, "Game", {"score": 7})
    r = admin_client.get(path, HTTP_ACCEPT="text/html")
    assert r.status_code == 200, r.content[:500]
    assert r["Content-Type"].startswith("text/html")
    html = r.content.decode()
    assert "<html" in html.lower()
    if path == "/parse/classes/Game":
        assert "score" in html


def test_superuser_json_without_html(admin_client: Client) -> None:
    r = admin_client.get("/parse/schemas", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    assert r.json()["results"]


def test_superuser_writes_need_the_csrf_token(admin_client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = admin_client.cookies
    r = csrf_client.post("/parse/classes/Game", b'{"a": 1}', content_type="application/json")
    assert r.status_code == 403
    assert "CSRF" in r.json()["error"]


def test_plain_user_and_anonymous_get_no_master_rights(db: Any) -> None:
    user = get_user_model().objects.create_user("plain", "p@example.com", "pw-123456")
    client = Client()
    client.force_login(user)
    r = client.get("/parse/schemas", HTTP_ACCEPT="text/html")
    assert r.status_code == 403
    assert Client().get("/parse/schemas", HTTP_ACCEPT="text/html").status_code == 403


@override_settings(BACKEND_KIT=kit(BROWSABLE_API_SUPERUSER_IS_MASTER=False))
def test_superuser_is_not_master_when_turned_off(admin_client: Client) -> None:
    assert admin_client.get("/parse/schemas", HTTP_ACCEPT="text/html").status_code == 403


def test_openapi_schema_generates(db: Any) -> None:
    r = Client().get("/api/schema/")
    assert r.status_code == 200, r.content[:500]
    schema = yaml.safe_load(r.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/parse/classes/{class_name}",
        "/parse/classes/{class_name}/{object_id}",
        "/parse/schemas",
        "/parse/batch",
        "/parse/config",
    ):
        assert path in paths, sorted(paths)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ParseApplicationId"]["name"] == "X-Parse-Application-Id"
    ops = [
        op["operationId"]
        for methods in paths.values()
        for op in methods.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ops) == len(set(ops)), "operation ids must be unique"


def test_openapi_schema_has_no_generator_warnings(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)


@pytest.mark.parametrize(
    "method,path,body,status",
    [
        ("GET", "/parse/classes/Game", None, 403),  # no keys
        ("POST", "/parse/classes/Game", b"{nope", 400),  # bad JSON, keys in headers
        ("GET", "/parse/classes/Game/missing", None, 404),
    ],
)
def test_errors_render_as_html_without_crashing(
    method: str, path: str, body: Any, status: int, db: Any
) -> None:
    headers = (
        {}
        if status == 403
        else {"X-Parse-Application-Id": "test-app", "X-Parse-Master-Key": "test-master-key"}
    )
    r = Client().generic(
        method,
        path,
        body or b"",
        content_type="application/json",
        HTTP_ACCEPT="text/html",
        headers=headers,
    )
    assert r.status_code == status, r.content[:300]
    assert r["Content-Type"].split(";")[0] in ("text/html", "application/json")
