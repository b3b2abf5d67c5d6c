"""A Web Push service stand-in (RFC 8030/8291/8292) over HTTPS on loopback.

Browsers subscribe at a push service and hand the app an endpoint URL plus their
keys; :meth:`WebPushStandIn.subscribe` plays the browser: it makes the P-256 key
pair and auth secret and returns the ``PushSubscription`` JSON. A push is
``POST /push/<id>`` with an ``aes128gcm`` body and ``Authorization: vapid t=<JWT>,
k=<key>``. The service checks VAPID: ES256 signature with ``k``, ``k`` being the
application server key the subscription was made with (``403`` otherwise), ``aud``
its own origin, ``exp`` within 24 hours, a ``sub`` contact. Unknown or expired
subscriptions (:attr:`gone`) get ``410 Gone``; :attr:`outage` gives ``503``.

What arrives is kept encrypted; :meth:`Subscription.decrypt` opens it with the
subscription's private key and auth secret, as the browser would.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .push_tls import TestCA
from .server import Request, Response, StandIn


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscription:
    """A browser's push subscription: the endpoint and the keys only it holds."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }

    def token(self) -> str:
        """The subscription as a client stores it in ``deviceToken``."""
        return json.dumps(self.as_json())

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )


@dataclass
class Delivered:
    subscription_id: str
    body: bytes
    headers: dict[str, str]
    vapid: dict[str, Any]
    at: float


class WebPushStandIn(StandIn):
    def __init__(self, ca: TestCA, *, application_server_key: str) -> None:
        super().__init__()
        self.application_server_key = application_server_key
        self.subscriptions: dict[str, Subscription] = {}
        self.gone: set[str] = set()
        self.outage = False
        self.delivered: list[Delivered] = []
        self.refused: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        context = ca.server_context()
        # the default backlog (5) drops the connection bursts of concurrent senders
        self.httpd.socket.listen(1024)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"https://localhost:{port}"

    def subscribe(self) -> Subscription:
        sub_id = secrets.token_urlsafe(12)
        sub = Subscription(
            sub_id,
            f"{self.url}/push/{sub_id}",
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )
        with self.lock:
            self.subscriptions[sub_id] = sub
        return sub

    def reset(self) -> None:
        with self.lock:
            self.delivered.clear()
            self.refused.clear()
            self.gone.clear()
            self.outage = False

    def received(self) -> dict[str, list[dict[str, Any]]]:
        """Decrypted payloads by subscription id."""
        with self.lock:
            delivered = list(self.delivered)
        out: dict[str, list[dict[str, Any]]] = {}
        for item in delivered:
            sub = self.subscriptions[item.subscription_id]
            out.setdefault(item.subscription_id, []).append(json.loads(sub.decrypt(item.body)))
        return out

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/push/"):
            return Response(404)
        sub_id = request.path[len("/push/") :]
        if self.outage:
            return self._refuse(sub_id, 503)
        if sub_id not in self.subscriptions or sub_id in self.gone:
            return self._refuse(sub_id, 410)
        claims = self._vapid(request.headers.get("Authorization", ""))
        if claims is None:
            return self._refuse(sub_id, 403)
        if request.headers.get("Content-Encoding") != "aes128gcm" or not request.body:
            return self._refuse(sub_id, 400)
        if len(request.body) > 4096:
            return self._refuse(sub_id, 413)
        if request.headers.get("TTL") is None:
            return self._refuse(sub_id, 400)
        with self.lock:
            self.delivered.append(
                Delivered(sub_id, request.body, dict(request.headers.items()), claims, time.time())
            )
        return Response(201, b"", {"Location": f"{self.url}/message/{secrets.token_hex(6)}"})

    def _refuse(self, sub_id: str, status: int) -> Response:
        with self.lock:
            self.refused.append((sub_id, status))
        return Response(status, b"")

    def _vapid(self, authorization: str) -> dict[str, Any] | None:
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "vapid":
            return None
        params = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        token, key = params.get("t"), params.get("k")
        if not token or key != self.application_server_key:
            return None
        try:
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(key)
            )
            claims = jwt.decode(token, public_key, algorithms=["ES256"], audience=self.url)
        except (ValueError, jwt.PyJWTError):
            return None
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return None
        if claims.get("exp", 0) > time.time() + 24 * 3600:
            return None
        return claims
