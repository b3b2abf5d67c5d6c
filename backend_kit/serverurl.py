"""The absolute URL of the mount, for links the server hands out (files, mails).

``PUBLIC_SERVER_URL`` or ``SERVER_URL`` when configured (production should set one:
check W023); otherwise the URL the current request came in on, remembered for the
request by :class:`backend_kit.api.ParseAPIView`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from .conf import bk_settings

_current: ContextVar[str | None] = ContextVar("backend_kit_request_server_url", default=None)


def server_url(*, public: bool = True) -> str:
    configured = (bk_settings.PUBLIC_SERVER_URL if public else None) or bk_settings.SERVER_URL
    return (configured or _current.get() or "").rstrip("/")


def remember(request: Any) -> Any:
    """Record ``https://host/<mount>`` of a Parse request; returns a reset token."""
    from .api import mount_relative_path

    path = request.path
    below = mount_relative_path(request)
    mount = path[: len(path) - len(below)] if below and path.endswith(below) else path
    return _current.set(request.build_absolute_uri(mount.rstrip("/") or "/").rstrip("/"))


def forget(token: Any) -> None:
    try:
        _current.reset(token)
    except ValueError:
        pass
