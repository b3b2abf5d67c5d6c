"""An APNs stand-in: Apple's provider API, HTTP/2 over TLS, on loopback.

The APNs transport is pointed at it with its ``HOST``/``PORT`` options (aioapns has
no endpoint option, and its HTTP-proxy option cannot start TLS on Python 3.8+); the
stand-in's certificate (test CA) names ``localhost`` and Apple's hosts; the SNI
name each connection asked for is kept in :attr:`connects`. Like Apple:

* ``POST /3/device/<token>`` with ``authorization: bearer <JWT>``: the provider
  token is checked (ES256 with the team's key, ``kid`` = key id, ``iss`` = team id,
  ``iat`` not older than an hour), else ``403 InvalidProviderToken``;
* ``apns-topic`` must be the app's bundle id (``400 DeviceTokenNotForTopic``);
* a token that is not 64+ hex digits is ``400 BadDeviceToken``; a token in
  :attr:`unregistered` is ``410 Unregistered`` with a timestamp; a payload over
  4096 bytes is ``413 PayloadTooLarge``; otherwise ``200`` with ``apns-id``.

:attr:`outage` makes every request answer ``503 ServiceUnavailable``.
"""

from __future__ import annotations

import json
import re
import socket
import socketserver
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded

from .push_tls import TestCA

TOKEN_RE = re.compile(r"^[0-9a-f]{64,200}$")
MAX_PAYLOAD = 4096


@dataclass
class Delivered:
    token: str
    headers: dict[str, str]
    payload: dict[str, Any]
    at: float
    host: str


@dataclass
class _Stream:
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)


class APNsStandIn:
    def __init__(self, ca: TestCA, *, team_id: str, key_id: str, public_key: Any, topic: str):
        self.ca = ca
        self.team_id = team_id
        self.key_id = key_id
        self.public_key = public_key
        self.topic = topic
        self.unregistered: set[str] = set()
        self.outage = False
        self.delivered: list[Delivered] = []
        self.refused: list[tuple[str, str]] = []  # (token, reason)
        self.connects: list[str] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    stand_in._client(self.request)
                except (OSError, ssl.SSLError, ValueError):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> APNsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def reset(self) -> None:
        with self.lock:
            self.delivered.clear()
            self.refused.clear()
            self.unregistered.clear()
            self.outage = False

    def tokens(self) -> set[str]:
        with self.lock:
            return {d.token for d in self.delivered}

    # --- one client connection ------------------------------------------------------------
    def _client(self, sock: socket.socket) -> None:
        context = self.ca.server_context()
        names: list[str] = []
        context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")
        tls = context.wrap_socket(sock, server_side=True)
        host = names[0] if names else ""
        with self.lock:
            self.connects.append(host)
        try:
            self._serve_h2(tls, host)
        finally:
            tls.close()

    def _serve_h2(self, tls: ssl.SSLSocket, host: str) -> None:
        conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        tls.sendall(conn.data_to_send())
        streams: dict[int, _Stream] = {}
        while True:
            data = tls.recv(65536)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, RequestReceived):
                    streams[event.stream_id] = _Stream(dict(event.headers))
                elif isinstance(event, DataReceived):
                    streams[event.stream_id].body.extend(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, StreamEnded):
                    stream = streams.pop(event.stream_id)
                    status, body, apns_id = self._answer(stream, host)
                    headers = [(":status", str(status)), ("apns-id", apns_id)]
                    if body is None:
                        conn.send_headers(event.stream_id, headers, end_stream=True)
                    else:
                        raw = json.dumps(body).encode()
                        conn.send_headers(
                            event.stream_id,
                            [*headers, ("content-type", "application/json")],
                        )
                        conn.send_data(event.stream_id, raw, end_stream=True)
                elif isinstance(event, ConnectionTerminated):
                    tls.sendall(conn.data_to_send())
                    return
            tls.sendall(conn.data_to_send())

    # --- Apple's rules --------------------------------------------------------------------
    def _answer(self, stream: _Stream, host: str) -> tuple[int, dict[str, Any] | None, str]:
        headers = stream.headers
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        path = headers.get(":path", "")
        token = path.rsplit("/", 1)[-1] if path.startswith("/3/device/") else ""
        if headers.get(":method") != "POST" or not token:
            return 404, {"reason": "BadPath"}, apns_id
        if self.outage:
            return self._refuse(token, 503, "ServiceUnavailable", apns_id)
        if not self._provider_token_ok(headers.get("authorization", "")):
            return self._refuse(token, 403, "InvalidProviderToken", apns_id)
        if headers.get("apns-topic") != self.topic:
            return self._refuse(token, 400, "DeviceTokenNotForTopic", apns_id)
        if len(stream.body) > MAX_PAYLOAD:
            return self._refuse(token, 413, "PayloadTooLarge", apns_id)
        try:
            payload = json.loads(stream.body)
        except ValueError:
            return self._refuse(token, 400, "PayloadEmpty", apns_id)
        if not TOKEN_RE.match(token):
            return self._refuse(token, 400, "BadDeviceToken", apns_id)
        if token in self.unregistered:
            self._refuse(token, 410, "Unregistered", apns_id)
            return 410, {"reason": "Unregistered", "timestamp": int(time.time() * 1000)}, apns_id
        with self.lock:
            self.delivered.append(Delivered(token, dict(headers), payload, time.time(), host))
        return 200, None, apns_id

    def _refuse(
        self, token: str, status: int, reason: str, apns_id: str
    ) -> tuple[int, dict[str, Any], str]:
        with self.lock:
            self.refused.append((token, reason))
        return status, {"reason": reason}, apns_id

    def _provider_token_ok(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token, self.public_key, algorithms=["ES256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            return False
        issued = claims.get("iat")
        return (
            header.get("kid") == self.key_id
            and claims.get("iss") == self.team_id
            and isinstance(issued, int)
            and time.time() - 3600 <= issued <= time.time() + 60
        )
