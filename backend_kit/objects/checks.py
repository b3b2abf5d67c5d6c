"""System checks of the objects app."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, register


@register()
def check_root_installed(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not apps.is_installed("backend_kit"):
        return [
            Error(
                "backend_kit.objects needs 'backend_kit' in INSTALLED_APPS.",
                hint="Add 'backend_kit' before 'backend_kit.objects'.",
                id="backend_kit.E011",
            )
        ]
    return []
