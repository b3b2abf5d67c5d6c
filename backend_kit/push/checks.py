"""System checks of the push app (``backend_kit.E08x`` / ``W08x``).

* E080 ``BACKEND_KIT["PUSH"]`` is not a dict, or ``TRANSPORTS`` is not a dict of
  ``{"BACKEND": ..., "OPTIONS": {...}}`` entries.
* E081 a transport's ``BACKEND`` cannot be imported or is not a ``PushTransport``.
* E082 a transport's ``OPTIONS`` are incomplete (the transport says what is missing).
* E083 a size, count or time setting is not a positive integer.
* E084 the app needs ``push_notifications`` and ``backend_kit.jobs`` in ``INSTALLED_APPS``.
* W080 an unknown key in ``PUSH`` (a typo would be silently ignored).
* W081 (deployment) no transport is configured: ``POST /push`` answers 115.
* W082 (deployment) a logging or recording transport: nothing reaches devices.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from ..conf import bk_settings
from .app_settings import DEFAULTS, push_settings

POSITIVE = (
    "BATCH_SIZE",
    "RETRY_ATTEMPTS",
    "RETRY_MAX_DELAY",
    "BATCH_TIME_LIMIT",
    "SCHEDULE_ETA_LIMIT",
)


@register()
def check_push(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    for app in ("push_notifications", "backend_kit.jobs"):
        if not apps.is_installed(app):
            errors.append(
                Error(
                    f"backend_kit.push needs {app!r} in INSTALLED_APPS.",
                    hint="Device records are django-push-notifications' models; sending "
                    "runs through the jobs app's Celery app or its in-process runner.",
                    id="backend_kit.E084",
                )
            )
    raw = bk_settings.PUSH
    if not isinstance(raw, dict):
        return [
            *errors,
            Error("BACKEND_KIT['PUSH'] must be a dict.", id="backend_kit.E080"),
        ]
    for key in sorted(set(raw) - set(DEFAULTS)):
        errors.append(
            Warning(
                f"BACKEND_KIT['PUSH'] has an unknown key {key!r}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="backend_kit.W080",
            )
        )
    settings = push_settings()
    for key in POSITIVE:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors.append(
                Error(
                    f"PUSH[{key!r}] must be a positive integer, not {value!r}.",
                    id="backend_kit.E083",
                )
            )
    backoff = settings["RETRY_BACKOFF"]
    if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or backoff < 0:
        errors.append(Error("PUSH['RETRY_BACKOFF'] must be a number >= 0.", id="backend_kit.E083"))
    errors.extend(_transport_errors(settings["TRANSPORTS"]))
    return errors


def _transport_errors(transports: Any) -> list[Any]:
    from .transports import PushTransport

    if not isinstance(transports, dict):
        return [
            Error(
                "PUSH['TRANSPORTS'] must be a dict of device type -> transport.",
                id="backend_kit.E080",
            )
        ]
    errors: list[Any] = []
    for device_type, entry in sorted(transports.items()):
        where = f"PUSH['TRANSPORTS'][{device_type!r}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("BACKEND"), str):
            errors.append(
                Error(
                    f"{where} must be a dict with a 'BACKEND' dotted path.",
                    hint='e.g. {"BACKEND": "backend_kit.push.transports.apns.APNsTransport", "OPTIONS": {...}}',
                    id="backend_kit.E080",
                )
            )
            continue
        options = entry.get("OPTIONS") or {}
        if not isinstance(options, dict):
            errors.append(Error(f"{where}['OPTIONS'] must be a dict.", id="backend_kit.E080"))
            continue
        try:
            cls = import_string(entry["BACKEND"])
        except ImportError as exc:
            errors.append(
                Error(
                    f"{where}: cannot import {entry['BACKEND']!r}: {exc}",
                    hint="Install the 'push' extra (django-push-notifications[WP,FCM,APNS-ASYNC]).",
                    id="backend_kit.E081",
                )
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, PushTransport)):
            errors.append(
                Error(
                    f"{where}: {entry['BACKEND']!r} is not a PushTransport.", id="backend_kit.E081"
                )
            )
            continue
        for problem in cls.check_options(options):
            errors.append(Error(f"{where}: {problem}.", id="backend_kit.E082"))
    return errors


@register(Tags.compatibility, deploy=True)
def check_push_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    settings = push_settings()
    transports = settings["TRANSPORTS"] if isinstance(settings["TRANSPORTS"], dict) else {}
    if not transports:
        return [
            Warning(
                "No push transport is configured: POST /push answers 115.",
                hint="Set BACKEND_KIT['PUSH']['TRANSPORTS'] (APNs, FCM, Web Push).",
                id="backend_kit.W081",
            )
        ]
    local = sorted(
        t
        for t, entry in transports.items()
        if isinstance(entry, dict)
        and str(entry.get("BACKEND", "")).startswith("backend_kit.push.transports.local.")
    )
    if local:
        return [
            Warning(
                f"Pushes to {', '.join(local)} devices are only logged or recorded.",
                hint="Configure the APNs, FCM or Web Push transport for them.",
                id="backend_kit.W082",
            )
        ]
    return []
