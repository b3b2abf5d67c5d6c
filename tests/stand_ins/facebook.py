"""The Facebook Graph API's ``GET /me?fields=id`` and ``GET /app`` on loopback."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .server import Request, Response, StandIn, json_response


@dataclass
class Token:
    user_id: str
    app_id: str
    expired: bool = False


def oauth_error(message: str, subcode: int | None = None) -> Response:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": secrets.token_hex(6),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_response(400, {"error": error})


class FacebookStandIn(StandIn):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, Token] = {}
        self.apps: dict[str, str] = {}  # app id -> name

    def issue_token(self, user_id: str, app_id: str, *, expired: bool = False) -> str:
        """A user access token issued to ``app_id`` (what the Facebook SDK hands the app)."""
        self.apps.setdefault(app_id, f"App {app_id}")
        token = "EAA" + secrets.token_hex(20)
        self.tokens[token] = Token(user_id, app_id, expired)
        return token

    def handle(self, request: Request) -> Response:
        # The SDKs put a version in front (/v19.0/me); both forms are served.
        parts = [p for p in request.path.split("/") if p]
        if parts and parts[0].startswith("v") and parts[0][1:].replace(".", "").isdigit():
            parts = parts[1:]
        if request.method != "GET" or parts not in (["me"], ["app"]):
            return json_response(
                404,
                {
                    "error": {
                        "message": "Unknown path components",
                        "type": "OAuthException",
                        "code": 2500,
                    }
                },
            )
        token = self.tokens.get(request.query.get("access_token", ""))
        if token is None:
            return oauth_error("Invalid OAuth access token - Cannot parse access token")
        if token.expired:
            return oauth_error("Error validating access token: Session has expired.", subcode=463)
        if parts == ["app"]:
            return json_response(200, {"id": token.app_id, "name": self.apps[token.app_id]})
        fields = request.query.get("fields", "id").split(",")
        me = {"id": token.user_id, "name": f"User {token.user_id}"}
        return json_response(200, {k: v for k, v in me.items() if k in fields or k == "id"})
