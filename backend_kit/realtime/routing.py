"""The WebSocket side of :func:`backend_kit.routing.parse_application`.

The Parse SDKs open LiveQuery at the server URL's path with ws(s)://, and some at the
host's root, so every WebSocket path is LiveQuery.
"""

from __future__ import annotations

from typing import Any


def websocket_application(mount: str) -> Any:
    from .consumer import LiveQueryConsumer

    return LiveQueryConsumer.as_asgi()
