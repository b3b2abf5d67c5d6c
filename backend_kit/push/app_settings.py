"""Settings of the push app: ``BACKEND_KIT["PUSH"]``, a dict (defaults below).

``TRANSPORTS``
    Device type -> transport, each ``{"BACKEND": dotted path, "OPTIONS": {...}}``::

        "TRANSPORTS": {
            "ios": {"BACKEND": "backend_kit.push.transports.apns.APNsTransport",
                    "OPTIONS": {"KEY_FILE": "AuthKey_ABC123.p8", "KEY_ID": "ABC123",
                                "TEAM_ID": "TEAM123", "TOPIC": "com.example.app"}},
            "android": {"BACKEND": "backend_kit.push.transports.fcm.FCMTransport",
                        "OPTIONS": {"CREDENTIALS": "service-account.json"}},
            "web": {"BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
                    "OPTIONS": {"VAPID_PRIVATE_KEY": "...", "VAPID_CLAIMS": {"sub": "mailto:ops@example.com"}}},
        }

    The options of each transport are documented in its module. Types that share a
    transport repeat it (``"macos": <the ios entry>``); one instance serves equal
    entries. Push is *configured* when at least one type has a transport; otherwise
    ``POST /push`` answers 115. Installations of a type without a transport are
    counted as failed (``failedPerType``) when a push reaches them.
``BATCH_SIZE`` (1000)
    Installations per batch task.
``RETRY_ATTEMPTS`` (5)
    How often a batch is sent while its provider is unreachable or overloaded
    before the push is failed with the provider's reason.
``RETRY_BACKOFF`` (30) / ``RETRY_MAX_DELAY`` (900)
    Seconds before the first retry of a batch, doubled for each further one, capped.
``QUEUE`` (None)
    Celery queue of the push tasks; None uses ``JOBS_QUEUE`` (the jobs app's).
``BATCH_TIME_LIMIT`` (600)
    Seconds a batch task may run on a worker (Celery's soft limit; the hard limit
    is 30 s later).
``SCHEDULE_ETA_LIMIT`` (3600)
    A push scheduled at most this many seconds ahead is queued with a countdown;
    later ones are started by the ``backend_kit.push.due`` sweep, which beat
    should run every minute (a long countdown outlives Redis' visibility timeout).
``PRUNE_INVALID_TOKENS`` (True)
    Remove a ``deviceToken`` the provider reports as invalid or unregistered (it is
    kept in the hidden field ``_prunedToken``) and deactivate its device record.
``SYNC_DEVICES`` (True)
    Keep django-push-notifications' device records in step with installations.
``VALIDATE_TOKENS`` (True)
    Check a ``deviceToken`` against the transport of its installation's type when
    it is saved (142 for a token of the wrong shape).
"""

from __future__ import annotations

from typing import Any

from ..conf import bk_settings

DEFAULTS: dict[str, Any] = {
    "TRANSPORTS": {},
    "BATCH_SIZE": 1000,
    "RETRY_ATTEMPTS": 5,
    "RETRY_BACKOFF": 30,
    "RETRY_MAX_DELAY": 900,
    "QUEUE": None,
    "BATCH_TIME_LIMIT": 600,
    "SCHEDULE_ETA_LIMIT": 3600,
    "PRUNE_INVALID_TOKENS": True,
    "SYNC_DEVICES": True,
    "VALIDATE_TOKENS": True,
}


def push_settings() -> dict[str, Any]:
    """``BACKEND_KIT["PUSH"]`` over the defaults (unknown keys are reported by checks)."""
    configured = bk_settings.PUSH
    return {**DEFAULTS, **(configured if isinstance(configured, dict) else {})}


def get(name: str) -> Any:
    return push_settings()[name]


def retry_delay(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (0 for the first) of a batch."""
    base = float(get("RETRY_BACKOFF"))
    return float(min(base * (2**attempt), float(get("RETRY_MAX_DELAY"))))
