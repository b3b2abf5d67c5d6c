"""Fixtures of the accounts tests: real users signed up through the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches

from tests.conftest import ParseClient


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Role caches and login throttle counters live in the default cache: none leak across tests."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@dataclass
class Member:
    """A user signed up through ``POST /users``, with a client carrying its session token."""

    user_id: str
    username: str
    password: str
    token: str
    email: str | None = None

    @property
    def client(self) -> ParseClient:
        return ParseClient(session_token=self.token)


def sign_up(
    username: str, password: str | None = None, email: str | None = None, **fields: Any
) -> Member:
    password = password or f"{username}-Pass-9"
    body: dict[str, Any] = {"username": username, "password": password, **fields}
    if email:
        body["email"] = email
    response = ParseClient().post("users", body)
    assert response.status_code == 201, response.json_body
    return Member(
        response.json_body["objectId"],
        username,
        password,
        response.json_body["sessionToken"],
        email,
    )


def log_in(username: str, password: str, **extra: Any) -> Any:
    return ParseClient().post("login", {"username": username, "password": password, **extra})


def user_pointer(user_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": "_User", "objectId": user_id}


def role_pointer(role_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": "_Role", "objectId": role_id}


def add_relation(*pointers: dict[str, str]) -> dict[str, Any]:
    return {"__op": "AddRelation", "objects": list(pointers)}


def error_of(response: Any) -> tuple[int, int | None]:
    """``(HTTP status, Parse code)`` of a response."""
    body = response.json_body if isinstance(response.json_body, dict) else {}
    return response.status_code, body.get("code")
