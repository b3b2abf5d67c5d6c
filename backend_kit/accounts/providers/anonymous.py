from __future__ import annotations

from typing import Any

from ...context import RequestContext
from .base import AuthProvider


class AnonymousProvider(AuthProvider):
    """``authData.anonymous = {id}``: any client-chosen id (a UUID in the SDKs)."""

    def validate(self, auth_data: dict[str, Any], *, ctx: RequestContext | None = None) -> str:
        return self.uid(auth_data)
