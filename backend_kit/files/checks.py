"""System checks of the files app (``backend_kit.E07x`` / ``W07x``).

* E070 ``BACKEND_KIT["FILES"]`` is not a dict.
* E071 ``FILES["STORAGE"]`` names an alias that ``STORAGES`` does not define.
* E072 a size, time or count setting is not a positive integer.
* E073 ``EXTENSIONS`` is not a list of regular expressions (or ``"*"``).
* E074 only one of ``CLOUDFRONT_KEY_ID`` and ``CLOUDFRONT_KEY`` is set.
* E075 ``ALLOWED_CONTENT_TYPES`` or ``UPLOAD_ROLES`` is neither None nor a list of strings.
* E076 the storage cannot be loaded (a wrong backend path, a missing extra).
* W070 an unknown key in ``FILES`` (a typo is otherwise silently ignored).
* W071 (deployment) no storage alias and no ``MEDIA_ROOT``: files would be written
  relative to the working directory.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from ..conf import bk_settings
from . import settings as files_settings
from .storage import alias_configured, current_alias, get_storage

POSITIVE = ("MAX_SIZE", "DIRECT_MAX_SIZE", "SIGNED_URL_TTL", "DIRECT_UPLOAD_TTL", "PART_SIZE")


def _positive_int(value: Any, *, zero: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= 0 if zero else value > 0


def _string_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


@register(Tags.compatibility)
def check_files_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    raw = bk_settings.get("FILES")
    if raw is not None and not isinstance(raw, dict):
        return [Error("BACKEND_KIT['FILES'] must be a dict.", id="backend_kit.E070")]
    user = raw or {}
    errors: list[Any] = []
    for key in user:
        if key not in files_settings.DEFAULTS:
            errors.append(
                Warning(
                    f"Unknown BACKEND_KIT['FILES'] setting {key!r}.",
                    hint="See backend_kit/files/settings.py for the settings the files app reads.",
                    id="backend_kit.W070",
                )
            )
    if "STORAGE" in user and not alias_configured(current_alias()):
        errors.append(
            Error(
                f"BACKEND_KIT['FILES']['STORAGE'] is {current_alias()!r}, which STORAGES "
                "does not define.",
                hint="Add the alias to STORAGES, or leave STORAGE out for local disk.",
                id="backend_kit.E071",
            )
        )
    for name in (*POSITIVE, "CLEANUP_GRACE"):
        value = files_settings.get(name)
        if not _positive_int(value, zero=name == "CLEANUP_GRACE"):
            errors.append(
                Error(
                    f"BACKEND_KIT['FILES'][{name!r}] must be a positive integer, not {value!r}.",
                    id="backend_kit.E072",
                )
            )
    errors += _check_extensions(files_settings.get("EXTENSIONS"))
    if bool(files_settings.get("CLOUDFRONT_KEY_ID")) != bool(files_settings.get("CLOUDFRONT_KEY")):
        errors.append(
            Error(
                "CLOUDFRONT_KEY_ID and CLOUDFRONT_KEY must be set together.",
                hint="CLOUDFRONT_KEY is the PEM private key of the key pair CLOUDFRONT_KEY_ID names.",
                id="backend_kit.E074",
            )
        )
    for name in ("ALLOWED_CONTENT_TYPES", "UPLOAD_ROLES"):
        value = files_settings.get(name)
        if value is not None and not _string_list(value):
            errors.append(
                Error(
                    f"BACKEND_KIT['FILES'][{name!r}] must be None or a list of strings.",
                    id="backend_kit.E075",
                )
            )
    if not errors:
        try:
            get_storage()
        except Exception as exc:
            errors.append(
                Error(
                    f"The files storage {current_alias()!r} cannot be loaded: {exc}",
                    hint="For S3 install django-backend-kit[s3] (django-storages and boto3).",
                    id="backend_kit.E076",
                )
            )
    return errors


def _check_extensions(value: Any) -> list[Any]:
    if not _string_list(value):
        return [
            Error(
                "BACKEND_KIT['FILES']['EXTENSIONS'] must be a list of regular expressions.",
                id="backend_kit.E073",
            )
        ]
    bad = []
    for pattern in value:
        if pattern == "*":
            continue
        try:
            re.compile(pattern)
        except re.error:
            bad.append(pattern)
    return [
        Error(
            f"BACKEND_KIT['FILES']['EXTENSIONS'] holds an invalid regular expression {p!r}.",
            id="backend_kit.E073",
        )
        for p in bad
    ]


@register(Tags.compatibility, deploy=True)
def check_files_location(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if alias_configured(current_alias()) or settings.MEDIA_ROOT:
        return []
    return [
        Warning(
            "Files are stored on local disk relative to the working directory.",
            hint=f"Set MEDIA_ROOT, or define the STORAGES alias {current_alias()!r}.",
            id="backend_kit.W071",
        )
    ]
