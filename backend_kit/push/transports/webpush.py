"""Web Push with pywebpush (the ``WP`` extra of django-push-notifications).

A web installation's ``deviceToken`` is the browser's ``PushSubscription`` as JSON:
``{"endpoint": "https://...", "keys": {"p256dh": "...", "auth": "..."}}`` (what
``subscription.toJSON()`` gives). It is stored in a canonical form (sorted keys), so
the same subscription is the same token.

``OPTIONS``:

``VAPID_PRIVATE_KEY``
    The application server key: PEM text, base64url raw key, or a path to a PEM.
``VAPID_CLAIMS``
    At least ``{"sub": "mailto:you@example.com"}``; ``aud`` and ``exp`` are filled in.
``TTL`` (2419200, four weeks)
    Seconds the push service keeps a message for an offline browser when the push
    has no expiry.
``TIMEOUT`` (10), ``CONCURRENCY`` (32)
    Seconds per request; requests in flight per batch.
``CA_FILE``
    Extra certificate authorities to trust.

The browser receives the Parse data (its text, its badge) as JSON, encrypted
(aes128gcm) for its keys. ``404``/``410`` prune the subscription; ``429`` and
``5xx`` and network errors are retried.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from . import Delivery, Device, InvalidToken, PushTransport, TransportUnavailable

# One aes128gcm record: 4096 bytes minus header (86), padding delimiter and tag (17).
MAX_PLAINTEXT = 3993
FOUR_WEEKS = 28 * 24 * 3600


def _b64(text: str, length: int) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == length
    except (ValueError, TypeError):
        return False


class WebPushTransport(PushTransport):
    max_payload_bytes = MAX_PLAINTEXT

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._vapid: Any = None

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        if not options.get("VAPID_PRIVATE_KEY"):
            problems.append("needs VAPID_PRIVATE_KEY")
        claims = options.get("VAPID_CLAIMS")
        if not isinstance(claims, dict) or not str(claims.get("sub", "")).startswith(
            ("mailto:", "https:")
        ):
            problems.append('needs VAPID_CLAIMS with "sub": "mailto:..." or "https://..."')
        return problems

    def normalize_token(self, token: str) -> str:
        try:
            value = orjson.loads(token)
        except orjson.JSONDecodeError:
            raise InvalidToken("a web deviceToken is the PushSubscription as JSON")
        keys = value.get("keys") if isinstance(value, dict) else None
        endpoint = value.get("endpoint") if isinstance(value, dict) else None
        if not isinstance(endpoint, str) or urlsplit(endpoint).scheme != "https":
            raise InvalidToken("the subscription's endpoint must be an https URL")
        if not isinstance(keys, dict):
            raise InvalidToken("the subscription has no keys")
        p256dh, auth = keys.get("p256dh"), keys.get("auth")
        if not isinstance(p256dh, str) or not _b64(p256dh, 65):
            raise InvalidToken("keys.p256dh must be a base64url P-256 public key")
        if not isinstance(auth, str) or not _b64(auth, 16):
            raise InvalidToken("keys.auth must be 16 bytes in base64url")
        canonical = {"endpoint": endpoint, "keys": {"auth": auth, "p256dh": p256dh}}
        return orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS).decode()

    def payload(self, data: dict[str, Any]) -> bytes:
        return orjson.dumps(data)

    def payload_size(self, data: dict[str, Any]) -> int:
        return len(self.payload(data))

    def vapid(self) -> Any:
        if self._vapid is None:
            from py_vapid import Vapid

            key = str(self.options["VAPID_PRIVATE_KEY"]).strip()
            if "BEGIN" in key:
                self._vapid = Vapid.from_pem(key.encode())
            elif Path(key).is_file():
                self._vapid = Vapid.from_file(key)
            else:
                self._vapid = Vapid.from_string(key)
        return self._vapid

    # --- sending -------------------------------------------------------------------------
    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        return self.loop_thread.run(self._send_all(message, devices))

    async def _send_all(self, message: Any, devices: list[Device]) -> list[Delivery]:
        import aiohttp

        context = ssl.create_default_context()
        if self.options.get("CA_FILE"):
            context.load_verify_locations(cafile=self.options["CA_FILE"])
        limit = int(self.options.get("CONCURRENCY", 32))
        connector = aiohttp.TCPConnector(ssl=context, limit=limit)
        gate = asyncio.Semaphore(limit)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(device: Device) -> Delivery:
                async with gate:
                    return await self._send_one(session, message, device)

            results = await asyncio.gather(*(one(d) for d in devices))
        if results and all(r.retry and r.error == "unreachable" for r in results):
            raise TransportUnavailable("the push service is unreachable")
        return list(results)

    async def _send_one(self, session: Any, message: Any, device: Device) -> Delivery:
        import aiohttp
        from pywebpush import WebPushException, webpush_async

        subscription = orjson.loads(device.token)
        ttl = FOUR_WEEKS if message.expires_at is None else _ttl(message)
        if ttl is not None and ttl <= 0:
            return Delivery(device, False, "expired")
        try:
            await webpush_async(
                subscription_info=subscription,
                data=self.payload(message.data_for(device.locale, device.badge)).decode(),
                vapid_private_key=self.vapid(),
                vapid_claims=dict(self.options.get("VAPID_CLAIMS") or {}),
                ttl=int(self.options.get("TTL", ttl)) if message.expires_at is None else ttl,
                timeout=aiohttp.ClientTimeout(total=float(self.options.get("TIMEOUT", 10))),
                aiohttp_session=session,
            )
        except WebPushException as exc:
            code = getattr(exc.response, "status", None)
            reason = f"HTTP {code}" if code else str(exc)
            return Delivery(
                device,
                False,
                reason,
                invalid_token=code in (404, 410),
                retry=code == 429 or (code is not None and code >= 500),
            )
        except (aiohttp.ClientConnectionError, OSError):
            return Delivery(device, False, "unreachable", retry=True)
        except TimeoutError:
            return Delivery(device, False, "timeout", retry=True)
        return Delivery(device, True)


def _ttl(message: Any) -> int | None:
    if message.expires_at is None or message.sent_at is None:
        return None
    return int((message.expires_at - message.sent_at).total_seconds())
