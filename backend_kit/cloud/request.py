"""The request object cloud code receives (what Parse's ``request`` carries)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..context import RequestContext
from .server import Object, Query

log = logging.getLogger("backend_kit.cloud")


@dataclass
class CloudRequest:
    ctx: RequestContext
    params: dict[str, Any] = field(default_factory=dict)
    object: Object | None = None
    original: Object | None = None
    query: Query | None = None
    objects: list[Object] | None = None
    function_name: str | None = None
    trigger_name: str | None = None
    count: bool = False
    is_get: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def master(self) -> bool:
        return self.ctx.is_master

    @property
    def user(self) -> Object | None:
        """The caller's ``_User`` (as its session resolved it), or None."""
        user = self.ctx.user
        if user is None:
            return None
        data = dict(getattr(user, "data", {}) or {})
        data = {k: v for k, v in data.items() if not k.startswith("_")}
        obj = Object.from_api("_User", {"objectId": user.object_id, **data})
        return obj

    @property
    def installation_id(self) -> str | None:
        return self.ctx.installation_id

    @property
    def ip(self) -> str | None:
        return self.ctx.ip

    @property
    def headers(self) -> dict[str, str]:
        return self.ctx.headers

    @property
    def context(self) -> dict[str, Any]:
        """The client's cloud context (``X-Parse-Cloud-Context`` / ``_context``)."""
        return self.ctx.cloud_context

    @property
    def roles(self) -> list[str]:
        return self.ctx.roles

    @property
    def log(self) -> logging.Logger:
        return log
