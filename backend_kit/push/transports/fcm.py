"""FCM HTTP v1 with firebase-admin (the ``FCM`` extra of django-push-notifications).

``OPTIONS``:

``CREDENTIALS``
    The service account: a path to its JSON file, or the parsed JSON as a dict. Its
    ``token_uri`` is where OAuth access tokens come from.
``PROJECT_ID``
    The Firebase project; by default the service account's.
``ENDPOINT`` (``https://fcm.googleapis.com/v1/projects/{project_id}/messages:send``)
    The send endpoint. firebase-admin has no option for it, so this transport sets
    it on the app's messaging service; change it only to reach a stand-in or a
    gateway that speaks FCM v1.
``TIMEOUT`` (10)
    Seconds per HTTP request.
``ANDROID_PRIORITY`` (``"high"``)

Android installations get Parse's data message: ``data`` holds ``{"data": <the
Parse data as JSON>, "push_id": <status id>, "time": <ISO time>}`` (what the Parse
Android SDK reads), with the push's expiry as the message's ``ttl``. FCM's
``UNREGISTERED``, ``SENDER_ID_MISMATCH`` and invalid-token ``INVALID_ARGUMENT`` prune
the token; ``UNAVAILABLE``, ``INTERNAL``, quota and timeouts are retried.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from datetime import datetime, timedelta
from typing import Any

import orjson

from ...codec import format_iso
from . import Delivery, Device, InvalidToken, PushTransport, TransportUnavailable

TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-:.]{32,4096}$")
DEFAULT_ENDPOINT = "https://fcm.googleapis.com/v1/projects/{project_id}/messages:send"
CHUNK = 500  # FCM's limit per send_each call

_apps_lock = threading.Lock()


class FCMTransport(PushTransport):
    max_payload_bytes = 4096

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._app: Any = None

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[str]:
        if not options.get("CREDENTIALS"):
            return ["needs CREDENTIALS (a service account JSON file or dict)"]
        return []

    def normalize_token(self, token: str) -> str:
        token = token.strip()
        if not TOKEN_RE.match(token):
            raise InvalidToken("an FCM registration token is 32 or more URL-safe characters")
        return token

    # --- payload ---------------------------------------------------------------------------
    def envelope(
        self, data: dict[str, Any], push_id: str, sent_at: datetime | None
    ) -> dict[str, str]:
        return {
            "data": json.dumps(data, separators=(",", ":"), ensure_ascii=False),
            "push_id": push_id,
            "time": format_iso(sent_at) if sent_at else "",
        }

    def payload(self, data: dict[str, Any]) -> dict[str, str]:
        return self.envelope(data, "x" * 10, None)

    def payload_size(self, data: dict[str, Any]) -> int:
        # FCM counts the keys and values of the data message
        envelope = self.envelope(data, "x" * 10, datetime(2000, 1, 1))
        return sum(len(k.encode()) + len(v.encode()) for k, v in envelope.items())

    # --- the firebase app ----------------------------------------------------------------
    def app(self) -> Any:
        if self._app is not None:
            return self._app
        import firebase_admin
        from firebase_admin import credentials, messaging

        raw = self.options["CREDENTIALS"]
        info = raw if isinstance(raw, dict) else orjson.loads(open(raw, "rb").read())  # noqa: SIM115
        project_id = self.options.get("PROJECT_ID") or info.get("project_id")
        name = f"backend_kit_push_{id(self)}"
        with _apps_lock:
            app = firebase_admin.initialize_app(
                credentials.Certificate(info),
                {"projectId": project_id, "httpTimeout": float(self.options.get("TIMEOUT", 10))},
                name=name,
            )
            endpoint = self.options.get("ENDPOINT") or DEFAULT_ENDPOINT
            service = messaging._get_messaging_service(app)
            # firebase-admin has no setting for the endpoint (see the module docstring)
            service._fcm_url = endpoint.format(project_id=project_id)
            self._app = app
        return app

    def close(self) -> None:
        if self._app is not None:
            import firebase_admin

            firebase_admin.delete_app(self._app)
            self._app = None
        super().close()

    # --- sending -----------------------------------------------------------------------------
    def message(self, message: Any, device: Device) -> Any:
        from firebase_admin import messaging

        data = message.data_for(device.locale, device.badge)
        ttl = None
        if message.expires_at is not None and message.sent_at is not None:
            ttl = max(timedelta(0), message.expires_at - message.sent_at)
        with warnings.catch_warnings():
            # firebase-admin 7.7 deprecates `token` for Firebase installation ids, but
            # what devices register (and FCM v1 accepts) is the registration token
            warnings.simplefilter("ignore", DeprecationWarning)
            return messaging.Message(
                token=device.token,
                data=self.envelope(data, message.push_id, message.sent_at),
                android=messaging.AndroidConfig(
                    priority=self.options.get("ANDROID_PRIORITY", "high"),
                    ttl=ttl,
                    restricted_package_name=device.app_identifier or None,
                ),
            )

    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        from firebase_admin import messaging

        app = self.app()
        deliveries: list[Delivery] = []
        for start in range(0, len(devices), CHUNK):
            chunk = devices[start : start + CHUNK]
            batch = self.loop_thread.run(
                messaging.send_each_async([self.message(message, d) for d in chunk], app=app)
            )
            deliveries.extend(_delivery(d, r) for d, r in zip(chunk, batch.responses, strict=True))
        if deliveries and all(
            d.retry and d.error and "connect" in d.error.lower() for d in deliveries
        ):
            raise TransportUnavailable(deliveries[0].error or "FCM unreachable")
        return deliveries


def _delivery(device: Device, response: Any) -> Delivery:
    from firebase_admin import exceptions, messaging

    error = response.exception
    if error is None:
        return Delivery(device, True)
    code = getattr(error, "code", "") or type(error).__name__
    reason = f"{code}: {error}"
    dead = isinstance(error, (messaging.UnregisteredError, messaging.SenderIdMismatchError)) or (
        isinstance(error, exceptions.InvalidArgumentError)
        and "registration token" in str(error).lower()
    )
    passing = isinstance(
        error,
        (
            exceptions.UnavailableError,
            exceptions.InternalError,
            exceptions.DeadlineExceededError,
            exceptions.ResourceExhaustedError,
            exceptions.UnknownError,
        ),
    )
    return Delivery(device, False, reason, invalid_token=dead, retry=passing and not dead)
