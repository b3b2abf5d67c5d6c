"""Offline auth providers of the conformance modes, written the way a user adds one.

A provider subclasses ``AuthProvider`` and implements ``validate``; it is enabled by
listing it in ``BACKEND_KIT["AUTH_PROVIDERS"]``.
"""

from __future__ import annotations

from typing import Any

from backend_kit.accounts.providers.base import AuthProvider
from backend_kit.errors import Code, ParseError


class ConformanceProvider(AuthProvider):
    """``authData.conformance = {id, token}`` is valid when ``token == "valid-" + id``."""

    def validate(self, auth_data: dict[str, Any], *, ctx: Any = None) -> str:
        uid = self.uid(auth_data)
        if auth_data.get("token") != f"valid-{uid}":
            raise ParseError(Code.OBJECT_NOT_FOUND, "conformance auth: invalid token")
        return uid


class AcceptAnyProvider(AuthProvider):
    """Accepts any authData with an id (the SDK suite's ``myAuth`` and ``twitter``)."""

    def uid(self, auth_data: dict[str, Any]) -> str:
        uid = auth_data.get("id")
        if isinstance(uid, (int, float)) and not isinstance(uid, bool):
            return str(uid)
        return super().uid(auth_data)

    def validate(self, auth_data: dict[str, Any], *, ctx: Any = None) -> str:
        return self.uid(auth_data)


class FacebookTestProvider(AuthProvider):
    """The SDK suite's facebook: only ``{id: "test", access_token: "test"}``, no network."""

    def validate(self, auth_data: dict[str, Any], *, ctx: Any = None) -> str:
        uid = self.uid(auth_data)
        if uid != "test" or auth_data.get("access_token") != "test":
            raise ParseError(Code.OBJECT_NOT_FOUND, "Facebook auth is invalid for this user.")
        return uid
