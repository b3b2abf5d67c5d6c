"""Turn committed changes into LiveQuery messages on the channel layer.

Receivers of the objects app's ``object_saved``/``object_deleted`` signals (sent after
commit). A live class's change goes to its group; role changes and session
revocations go to the control group, so every process refreshes what it holds.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from . import settings

log = logging.getLogger("backend_kit.realtime")
# A restarted broker leaves dead connections in the layer's pool; each failed attempt
# discards one, so a few attempts get a live connection.
PUBLISH_ATTEMPTS = 3


def publish(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer(settings.get("LAYER"))
    if layer is None:
        from .hub import local_hubs

        for hub in local_hubs():
            hub.publish_local(message)
        return
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            async_to_sync(layer.group_send)(group, {"type": "lq.message", "message": message})
            return
        except Exception as exc:  # the write is committed: an outage must not make it fail
            if attempt < PUBLISH_ATTEMPTS and _connection_lost(exc):
                continue
            log.exception("LiveQuery event for %s could not be published", group)
            return


def _connection_lost(exc: BaseException) -> bool:
    """A broken connection to the broker (redis-py's errors do not subclass OSError)."""
    if isinstance(exc, OSError):
        return True
    return any(cls.__name__ in ("ConnectionError", "TimeoutError") for cls in type(exc).__mro__)


def on_saved(
    sender: str,
    object: dict[str, Any],
    original: dict[str, Any] | None,
    context: Any,
    **kwargs: Any,
) -> None:
    if sender == "_Role":
        publish(settings.control_group(), {"kind": "roles"})
    if not settings.is_live(sender):
        return
    publish(
        settings.group_for(sender),
        {
            "kind": "event",
            "className": sender,
            "object": object,
            "original": original,
            "deleted": False,
            "writerInstallationId": getattr(context, "installation_id", None),
        },
    )


def on_deleted(sender: str, object: dict[str, Any], context: Any, **kwargs: Any) -> None:
    if sender == "_Role":
        publish(settings.control_group(), {"kind": "roles"})
    if sender == "_Session":
        publish(settings.control_group(), {"kind": "sessions", "ids": [object.get("objectId")]})
    if not settings.is_live(sender):
        return
    publish(
        settings.group_for(sender),
        {
            "kind": "event",
            "className": sender,
            "object": object,
            "original": None,
            "deleted": True,
            "writerInstallationId": getattr(context, "installation_id", None),
        },
    )


def on_sessions_revoked(sender: Any, session_ids: list[str], **kwargs: Any) -> None:
    if session_ids:
        publish(settings.control_group(), {"kind": "sessions", "ids": list(session_ids)})
