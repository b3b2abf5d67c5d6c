"""Transports that send nothing: for the demo, development and conformance runs.

:class:`LoggingTransport` logs each delivery (logger ``backend_kit.push``, INFO) and
reports it as sent. :class:`RecordingTransport` also keeps what each device would
have received in Django's cache, per push, so any process can read it back with
:func:`recorded` (the conformance mode's transport).

``OPTIONS`` of the recording transport: ``LIMIT`` (1000) deliveries kept per push,
``TIMEOUT`` (3600) seconds they are kept, ``CACHE`` (``"default"``) the cache alias.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches

from . import Delivery, Device, PushTransport

log = logging.getLogger("backend_kit.push")
KEY = "backend_kit.push.recorded.{}"


class LoggingTransport(PushTransport):
    """Accepts any device type and token; every device counts as sent."""

    max_payload_bytes = 4096

    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        for device in devices:
            log.info(
                "push %s to %s installation %s: %s",
                message.push_id,
                device.device_type,
                device.installation_id,
                message.data_for(device.locale, device.badge),
            )
        return [Delivery(device, True) for device in devices]


class RecordingTransport(LoggingTransport):
    def send(self, message: Any, devices: list[Device]) -> list[Delivery]:
        cache = caches[self.options.get("CACHE", "default")]
        key = KEY.format(message.push_id)
        kept = cache.get(key) or []
        room = max(0, int(self.options.get("LIMIT", 1000)) - len(kept))
        kept.extend(
            {
                "installation": d.installation_id,
                "deviceType": d.device_type,
                "deviceToken": d.token,
                "data": message.data_for(d.locale, d.badge),
            }
            for d in devices[:room]
        )
        cache.set(key, kept, int(self.options.get("TIMEOUT", 3600)))
        return [Delivery(device, True) for device in devices]


def recorded(push_id: str, cache: str = "default") -> list[dict[str, Any]]:
    """What the recording transport delivered for push ``push_id``."""
    return list(caches[cache].get(KEY.format(push_id)) or [])
