"""The GitHub REST API's ``GET /user`` on loopback (``Authorization: Bearer <token>``)."""

from __future__ import annotations

import secrets
from typing import Any

from .server import Request, Response, StandIn, json_response

BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}


class GitHubStandIn(StandIn):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, dict[str, Any]] = {}

    def issue_token(self, user_id: int, login: str | None = None) -> str:
        """An OAuth access token of a GitHub user (what the app's OAuth flow returns)."""
        token = "gho_" + secrets.token_hex(18)
        self.tokens[token] = {
            "id": user_id,
            "login": login or f"user{user_id}",
            "type": "User",
            "name": f"User {user_id}",
            "email": None,
        }
        return token

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def handle(self, request: Request) -> Response:
        if (request.method, request.path) != ("GET", "/user"):
            return json_response(404, {"message": "Not Found"})
        user = self.tokens.get(request.bearer_token() or "")
        if user is None:
            return json_response(401, BAD_CREDENTIALS)
        return json_response(200, user)
