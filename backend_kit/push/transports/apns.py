"""APNs over HTTP/2 with aioapns (the ``APNS-ASYNC`` extra of django-push-notifications).

``OPTIONS``:

``KEY_FILE`` / ``KEY``
    The token-auth signing key (``AuthKey_XXXX.p8``): a path, or the PEM text itself.
``KEY_ID``, ``TEAM_ID``
    Its key id and your Apple team id (provider tokens are ES256 JWTs of them).
``CERTIFICATE``
    Instead of a key: a path to the client certificate + key PEM.
``TOPIC``
    The app's bundle id; an installation's ``appIdentifier`` overrides it.
``USE_SANDBOX`` (False)
    Send to ``api.development.push.apple.com``.
``HOST``, ``PORT`` (Apple's: ``api.push.apple.com`` or the sandbox, 443)
    Where the provider API is. aioapns has no option for it (and its HTTP proxy
    option cannot start TLS on Python 3.8+), so this transport gives aioapns's
    connection pool a protocol class with this host and port. Set it only for a
    gateway or a stand-in that speaks Apple's HTTP/2 API.
``CA_FILE``
    Extra certificate authorities to trust (a TLS-inspecting gateway, a stand-in).
``TIMEOUT`` (10)
    Seconds to wait for Apple's answer to one notification.
``MAX_CONNECTIONS`` (10), ``CONNECT_ATTEMPTS`` (3)
    HTTP/2 connections per batch; connection attempts before a device is retried.

The Parse data becomes ``aps`` (``alert`` with ``title``, ``badge``, ``sound``,
``content-available``, ``mutable-content``, ``category``, ``thread-id``) and every
other key sits beside it. Apple's ``Unregistered``, ``BadDeviceToken`` and
``DeviceTokenNotForTopic`` prune the token; ``429``, ``5xx``, timeouts and lost
connections are retried.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import tempfile
from datetime import datetime
from typing import Any

import orjson

from . import Delivery, Device, InvalidToken, PushTransport, TransportUnavailable

TOKEN_RE = re.compile(r"^[0-9a-f]{64,200}$")
DEAD_TOKEN = frozenset({"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"})
PASSING = frozenset(
    {"TooManyRequests", "InternalServerError", "ServiceUnavailable", "Shutdown", "IdleTimeout"}
)
APS_KEYS = {
    "badge": "badge",
    "sound": "sound",
    "content-available": "content-available",
    "mutable-content": "mutable-content",
    "category": "category",
    "threadId": "thread-id",
    "thread-id": "thread-id",
    "interruptionLevel": "interruption-level",
    "relevanceScore": "relevance-score",
    "targetContentIdentifier": "target-content-id",
}
HEADER_KEYS = ("pushType", "priority", "collapse_id", "collapseId")


class APNsTransport(PushTransport):
    max_payload_bytes = 4096

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._apns: Any = None
        self._key_path: str | None = options.get("KEY_FILE")
        if not self._key_path and options.get("KEY"):
            # aioapns reads the key from a file
            handle = tempfile.NamedTemporaryFile("w", suffix=".p8", delete=False)  # noqa: SIM115
            handle.write(options["KEY"])
            handle.close()
            self._key_path = handle.name

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        has_key = options.get("KEY_FILE") or options.get("KEY")
        if not has_key and not options.get("CERTIFICATE"):
            problems.append("needs KEY_FILE (or KEY) with KEY_ID and TEAM_ID, or CERTIFICATE")
        if has_key and not (options.get("KEY_ID") and options.get("TEAM_ID")):
            problems.append("KEY_FILE needs KEY_ID and TEAM_ID")
        if has_key and not options.get("TOPIC"):
            problems.append("token authentication needs TOPIC (the app's bundle id)")
        return problems

    def normalize_token(self, token: str) -> str:
        token = token.strip().lower()
        if not TOKEN_RE.match(token) or len(token) % 2:
            raise InvalidToken("an APNs device token is 64 or more hexadecimal digits")
        return token

    # --- payload -------------------------------------------------------------------------
    def payload(self, data: dict[str, Any]) -> dict[str, Any]:
        aps: dict[str, Any] = {}
        out: dict[str, Any] = {}
        alert = data.get("alert")
        title = data.get("title")
        if isinstance(alert, dict):
            aps["alert"] = dict(alert)
            if title is not None:
                aps["alert"].setdefault("title", title)
        elif title is not None:
            aps["alert"] = {"title": title, **({"body": alert} if alert is not None else {})}
        elif alert is not None:
            aps["alert"] = alert
        for key, value in data.items():
            if key in ("alert", "title") or key in HEADER_KEYS:
                continue
            if key in APS_KEYS:
                if key in ("content-available", "mutable-content"):
                    value = 1 if value in (1, True, "1", "true") else 0
                    if not value:
                        continue
                aps[APS_KEYS[key]] = value
            else:
                out[key] = value
        return {"aps": aps, **out}

    def payload_size(self, data: dict[str, Any]) -> int:
        return len(orjson.dumps(self.payload(data)))

    # --- sending -------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.options.get("CA_FILE"):
            context.load_verify_locations(cafile=self.options["CA_FILE"])
        if self.options.get("CERTIFICATE"):
            context.load_cert_chain(self.options["CERTIFICATE"])
        return context

    def _client(self) -> Any:
        from aioapns import APNs

        common = {
            "topic": self.options.get("TOPIC"),
            "use_sandbox": bool(self.options.get("USE_SANDBOX")),
            "ssl_context": self._ssl_context(),
            "max_connections": int(self.options.get("MAX_CONNECTIONS", 10)),
            "max_connection_attempts": int(self.options.get("CONNECT_ATTEMPTS", 3)),
            "err_func": _quiet,
        }
        if self._key_path:
            client = APNs(
                key=self._key_path,
                key_id=self.options.get("KEY_ID"),
                team_id=self.options.get("TEAM_ID"),
                **common,
            )
        else:
            client = APNs(client_cert=self.options["CERTIFICATE"], **common)
        host, port = self.options.get("HOST"), self.options.get("PORT")
        if host or port:
            # aioapns connects to the class attributes of its protocol (see HOST above)
            base = client.pool.protocol_class
            client.pool.protocol_class = type(
                f"Endpoint{base.__name__}",
                (base,),
                {"APNS_SERVER": host or base.APNS_SERVER, "APNS_PORT": int(port or base.APNS_PORT)},
            )
        return client

    def close(self) -> None:
        client, self._apns = self._apns, None
        if client is not None:
            try:
                self.loop_thread.run(_close(client))
            except Exception:  # closing must not fail a settings reload
                pass
        super().close()

    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        if self._apns is not None and getattr(self, "_apns_pid", None) != os.getpid():
            self._apns = None  # made in the process this one was forked from
        self._apns_pid = os.getpid()
        return self.loop_thread.run(self._send_all(message, devices))

    async def _send_all(self, message: Any, devices: list[Device]) -> list[Delivery]:
        # one client (its HTTP/2 connections) per transport and loop, across batches
        if self._apns is None:
            self._apns = self._client()
        client = self._apns
        results = await asyncio.gather(*(self._send_one(client, message, d) for d in devices))
        if results and all(r.retry and r.error == "unreachable" for r in results):
            raise TransportUnavailable("APNs unreachable")
        return list(results)

    async def _send_one(self, client: Any, message: Any, device: Device) -> Delivery:
        from aioapns import NotificationRequest, PushType
        from aioapns.exceptions import ConnectionError as APNsConnectionError
        from aioapns.exceptions import MaxAttemptsExceeded

        data = message.data_for(device.locale, device.badge)
        payload = self.payload(data)
        aps = payload["aps"]
        background = "content-available" in aps and not {"alert", "badge", "sound"} & set(aps)
        push_type = data.get("pushType")
        request = NotificationRequest(
            device_token=device.token,
            message=payload,
            time_to_live=_ttl(message.expires_at, message.sent_at),
            priority=5 if background else 10,
            collapse_key=data.get("collapse_id") or data.get("collapseId"),
            push_type=_push_type(push_type, background, PushType),
            apns_topic=device.app_identifier or None,
        )
        try:
            result = await asyncio.wait_for(
                client.send_notification(request), timeout=float(self.options.get("TIMEOUT", 10))
            )
        except (APNsConnectionError, MaxAttemptsExceeded, ConnectionError, OSError):
            return Delivery(device, False, "unreachable", retry=True)
        except TimeoutError:
            return Delivery(device, False, "timeout", retry=True)
        if result.is_successful:
            return Delivery(device, True)
        reason = result.description or f"HTTP {result.status}"
        return Delivery(
            device,
            False,
            reason,
            invalid_token=reason in DEAD_TOKEN,
            retry=reason in PASSING or str(result.status).startswith("5"),
        )


async def _close(client: Any) -> None:
    client.pool.close()


async def _quiet(request: Any, result: Any) -> None:
    """aioapns logs every refusal as an error; the push status reports them instead."""


def _ttl(expires_at: datetime | None, now: datetime | None) -> int | None:
    if expires_at is None or now is None:
        return None
    return max(0, int((expires_at - now).total_seconds()))


def _push_type(value: Any, background: bool, push_types: Any) -> Any:
    if isinstance(value, str):
        for member in push_types:
            if member.value == value:
                return member
    return push_types.BACKGROUND if background else push_types.ALERT
