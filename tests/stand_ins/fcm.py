"""An FCM stand-in: Google's OAuth token endpoint and the FCM HTTP v1 send endpoint.

* ``POST /token``: the service account's JWT bearer grant. The assertion must be
  RS256-signed with the service account's key, ``iss`` its client email, ``aud``
  Google's token endpoint (what Google checks; the request itself goes to the
  ``token_uri`` of the service account the tests write); the answer is an access
  token.
* ``POST /v1/projects/<project>/messages:send``: needs ``Authorization: Bearer`` with
  an issued token (``401 UNAUTHENTICATED`` otherwise). A token in
  :attr:`unregistered` gets ``404 NOT_FOUND`` with FCM error ``UNREGISTERED``; a
  token that does not look like an FCM registration token gets ``400
  INVALID_ARGUMENT``; a data payload over 4096 bytes ``400 INVALID_ARGUMENT``;
  otherwise ``{"name": "projects/<p>/messages/<id>"}``.

:attr:`outage` answers ``503 UNAVAILABLE`` to every send.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt

from .server import Request, Response, StandIn, json_response

FCM_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-:.]{32,4096}$")
MESSAGING_SCOPES = {
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/firebase.messaging",
}
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@dataclass
class Delivered:
    token: str
    message: dict[str, Any]
    at: float


class FCMStandIn(StandIn):
    def __init__(self, *, project_id: str, client_email: str, public_key: Any) -> None:
        super().__init__()
        # the default backlog (5) drops the connection bursts of concurrent senders
        self.httpd.socket.listen(1024)
        self.project_id = project_id
        self.client_email = client_email
        self.public_key = public_key
        self.unregistered: set[str] = set()
        self.outage = False
        self.access_tokens: set[str] = set()
        self.delivered: list[Delivered] = []
        self.refused: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def endpoint(self) -> str:
        return f"{self.url}/v1/projects/{{project_id}}/messages:send"

    def reset(self) -> None:
        with self.lock:
            self.delivered.clear()
            self.refused.clear()
            self.unregistered.clear()
            self.outage = False

    def tokens(self) -> set[str]:
        with self.lock:
            return {d.token for d in self.delivered}

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/token":
            return self._token(request)
        if request.method == "POST" and request.path == (
            f"/v1/projects/{self.project_id}/messages:send"
        ):
            return self._send(request)
        return _error(404, "NOT_FOUND", "no such endpoint")

    # --- OAuth 2.0 JWT bearer grant -----------------------------------------------------
    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return json_response(400, {"error": "unsupported_grant_type"})
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
            )
        except jwt.PyJWTError as exc:
            return json_response(400, {"error": "invalid_grant", "error_description": str(exc)})
        scopes = str(claims.get("scope", "")).split()
        if claims.get("iss") != self.client_email or not set(scopes) & MESSAGING_SCOPES:
            return json_response(400, {"error": "invalid_grant"})
        token = "ya29." + secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens.add(token)
        return json_response(
            200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    # --- messages:send --------------------------------------------------------------------
    def _send(self, request: Request) -> Response:
        if request.bearer_token() not in self.access_tokens:
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.outage:
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        try:
            message = json.loads(request.body)["message"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        token = message.get("token")
        if not isinstance(token, str) or not FCM_TOKEN_RE.match(token):
            self._refuse(str(token), "INVALID_ARGUMENT")
            return _error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )
        data = message.get("data") or {}
        if not all(isinstance(v, str) for v in data.values()):
            return _error(400, "INVALID_ARGUMENT", "data values must be strings")
        if sum(len(k.encode()) + len(v.encode()) for k, v in data.items()) > 4096:
            self._refuse(token, "INVALID_ARGUMENT")
            return _error(400, "INVALID_ARGUMENT", "Message is too big", "INVALID_ARGUMENT")
        if token in self.unregistered:
            self._refuse(token, "UNREGISTERED")
            return _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        with self.lock:
            self.delivered.append(Delivered(token, message, time.time()))
        return json_response(
            200, {"name": f"projects/{self.project_id}/messages/{secrets.token_hex(8)}"}
        )

    def _refuse(self, token: str, reason: str) -> None:
        with self.lock:
            self.refused.append((token, reason))


def _error(status: int, code: str, message: str, fcm_code: str | None = None) -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if fcm_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}]
    return json_response(status, {"error": error})
