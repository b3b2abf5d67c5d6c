from __future__ import annotations

from typing import Any

from ...context import RequestContext
from .token_api import APIProvider


class GitHubProvider(APIProvider):
    """``authData.github = {id, access_token}``: ``GET {api_url}/user`` must return that id."""

    def validate(self, auth_data: dict[str, Any], *, ctx: RequestContext | None = None) -> str:
        uid = self.uid(auth_data)
        api = self.options.get("api_url", "https://api.github.com").rstrip("/")
        data = self.get_json(
            f"{api}/user",
            headers={
                "Authorization": f"Bearer {self.access_token(auth_data)}",
                "Accept": "application/vnd.github+json",
            },
        )
        if str(data.get("id")) != uid:
            raise self.invalid()
        return uid
