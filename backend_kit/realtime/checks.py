"""System checks of the realtime app."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Warning, register

from . import settings


@register()
def check_realtime(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    classes = settings.get("CLASSES")
    if classes != "*" and not (
        isinstance(classes, (list, tuple)) and all(isinstance(c, str) for c in classes)
    ):
        errors.append(
            Error(
                "LIVE_QUERY['CLASSES'] must be a list of class names or '*'.", id="backend_kit.E050"
            )
        )
    for name in ("SEND_QUEUE", "SEND_QUEUE_BYTES", "MAX_FRAME"):
        value = settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors.append(
                Error(f"LIVE_QUERY[{name!r}] must be a positive integer.", id="backend_kit.E051")
            )
    return errors


@register(deploy=True)
def check_realtime_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    layers = getattr(django_settings, "CHANNEL_LAYERS", {}) or {}
    alias = settings.get("LAYER")
    backend = (layers.get(alias) or {}).get("BACKEND", "")
    if not backend or backend.endswith("InMemoryChannelLayer"):
        errors.append(
            Warning(
                "LiveQuery has no shared channel layer: events reach only sockets of the process that made the change.",
                hint="Configure channels_redis in CHANNEL_LAYERS for several ASGI processes.",
                id="backend_kit.W050",
            )
        )
    return errors
