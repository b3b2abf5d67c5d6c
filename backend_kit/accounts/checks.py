"""System checks of the accounts app."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, Warning, register

from ..conf import bk_settings


@register()
def check_accounts(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    if not apps.is_installed("backend_kit.objects"):
        errors.append(
            Error(
                "backend_kit.accounts needs 'backend_kit.objects' in INSTALLED_APPS.",
                id="backend_kit.E030",
            )
        )
    for name, conf in (bk_settings.AUTH_PROVIDERS or {}).items():
        if conf in (None, False):
            continue
        if not isinstance(conf, dict) or "class" not in conf:
            errors.append(
                Error(
                    f"AUTH_PROVIDERS[{name!r}] must be a dict with a 'class'.",
                    id="backend_kit.E031",
                )
            )
            continue
        try:
            from django.utils.module_loading import import_string

            if isinstance(conf["class"], str):
                import_string(conf["class"])
        except ImportError as exc:
            errors.append(
                Error(
                    f"AUTH_PROVIDERS[{name!r}]: cannot import {conf['class']!r} ({exc}).",
                    id="backend_kit.E031",
                )
            )
    throttle = bk_settings.LOGIN_THROTTLE or {}
    for key, value in throttle.items():
        if key not in ("per_username", "per_ip") or (
            value is not None
            and not (
                isinstance(value, (list, tuple))
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
            )
        ):
            errors.append(
                Error(
                    f"LOGIN_THROTTLE[{key!r}] must be [count, seconds] with positive integers or None.",
                    id="backend_kit.E032",
                )
            )
    if bk_settings.VERIFY_USER_EMAILS and not (
        bk_settings.PUBLIC_SERVER_URL or bk_settings.SERVER_URL
    ):
        errors.append(
            Warning(
                "VERIFY_USER_EMAILS needs SERVER_URL (or PUBLIC_SERVER_URL) for the links in mails.",
                id="backend_kit.W030",
            )
        )
    return errors
