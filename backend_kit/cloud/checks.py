"""System checks of the cloud app."""

from __future__ import annotations

import importlib.util
from typing import Any

from django.apps import apps
from django.core.checks import Error, register

from ..conf import bk_settings


@register()
def check_cloud(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    if not apps.is_installed("backend_kit.objects"):
        errors.append(
            Error(
                "backend_kit.cloud needs 'backend_kit.objects' in INSTALLED_APPS.",
                id="backend_kit.E040",
            )
        )
    modules = bk_settings.CLOUD_MODULES or []
    if not isinstance(modules, (list, tuple)):
        return [
            *errors,
            Error(
                "BACKEND_KIT['CLOUD_MODULES'] must be a list of module paths.",
                id="backend_kit.E041",
            ),
        ]
    for module in modules:
        if not isinstance(module, str) or importlib.util.find_spec(module) is None:
            errors.append(
                Error(
                    f"Cloud module {module!r} cannot be found.",
                    hint="List importable module paths in BACKEND_KIT['CLOUD_MODULES'].",
                    id="backend_kit.E041",
                )
            )
    return errors
