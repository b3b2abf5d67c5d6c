"""Shared fixtures: a Parse-speaking test client and helpers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client

APP_ID = "test-app"
MASTER_KEY = "test-master-key"
REST_KEY = "test-rest-key"
JS_KEY = "test-js-key"


class ParseClient:
    """Sends Parse REST requests (X-Parse headers, JSON bodies) through Django's test client."""

    def __init__(
        self, master: bool = False, session_token: str | None = None, mount: str = "/parse"
    ) -> None:
        self.client = Client()
        self.master = master
        self.session_token = session_token
        self.mount = mount

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-Parse-Application-Id": APP_ID}
        if self.master:
            headers["X-Parse-Master-Key"] = MASTER_KEY
        else:
            headers["X-Parse-REST-API-Key"] = REST_KEY
        if self.session_token:
            headers["X-Parse-Session-Token"] = self.session_token
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        url = self.mount + "/" + path.lstrip("/")
        h = self.headers(headers)
        if method == "GET":
            query = {
                k: (v if isinstance(v, str) else orjson.dumps(v).decode())
                for k, v in (params or {}).items()
            }
            response = self.client.get(url, query, headers=h)
        else:
            data = orjson.dumps(body) if body is not None else b""
            response = self.client.generic(
                method, url, data, content_type="application/json", headers=h
            )
        response.json_body = orjson.loads(response.content) if response.content else None
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(db: Any) -> ParseClient:
    return ParseClient()


@pytest.fixture
def master(db: Any) -> ParseClient:
    return ParseClient(master=True)


@pytest.fixture(autouse=True)
def _clear_schema_cache() -> Any:
    from backend_kit.objects.schema import clear_cache

    clear_cache()
    yield
    clear_cache()


def pytest_runtest_setup(item: Any) -> None:
    """``@pytest.mark.postgres`` tests run only against PostgreSQL, skipped with the reason."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL, this run uses {connection.vendor} "
            "(run with --ds=tests.projects.postgres.settings)"
        )
