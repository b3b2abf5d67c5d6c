"""Realtime settings, read from ``BACKEND_KIT["LIVE_QUERY"]``.

``CLASSES``      classes whose saves and deletes publish events: a list, or ``"*"``.
``SEND_QUEUE``   frames queued per socket before a client that cannot keep up is closed.
``SEND_QUEUE_BYTES`` the same limit in bytes (large objects fill memory before frames do).
``MAX_FRAME``    largest accepted client frame, in bytes.
``GROUP_PREFIX`` channel-layer group names (one group per class).
``LAYER``        channel-layer alias (Channels' ``CHANNEL_LAYERS``).
"""

from __future__ import annotations

from typing import Any

from ..conf import bk_settings

DEFAULTS: dict[str, Any] = {
    "CLASSES": [],
    "SEND_QUEUE": 1000,
    "SEND_QUEUE_BYTES": 16 * 1024 * 1024,
    "MAX_FRAME": 64 * 1024,
    "GROUP_PREFIX": "bk_lq",
    "LAYER": "default",
}


def get(name: str) -> Any:
    conf = bk_settings.get("LIVE_QUERY") or {}
    return conf.get(name, DEFAULTS[name])


def is_live(class_name: str) -> bool:
    classes = get("CLASSES")
    if classes == "*":
        return True
    return class_name in (classes or [])


def group_for(class_name: str) -> str:
    # Channels group names: ASCII letters, digits, hyphens, underscores, periods.
    return f"{get('GROUP_PREFIX')}.{class_name}"[:99]


def control_group() -> str:
    return f"{get('GROUP_PREFIX')}._control"
