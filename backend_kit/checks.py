"""System checks (``backend_kit.E0xx`` / ``W0xx``), listed in docs/reference/checks.md."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, bk_settings

DEMO_MASTER_KEYS = frozenset({"demo-master-key", "masterKey", "notsosecret", "master"})
SUPPORTED_DATABASES = ("postgresql", "sqlite")


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    user = getattr(settings, "BACKEND_KIT", None)
    if user is not None and not isinstance(user, dict):
        return [Error("BACKEND_KIT must be a dict.", id="backend_kit.E000")]
    for key in user or {}:
        if key not in DEFAULTS:
            errors.append(
                Warning(
                    f"Unknown BACKEND_KIT setting {key!r}.",
                    hint="See docs/reference/settings.md for the settings backend_kit reads.",
                    id="backend_kit.W000",
                )
            )
    if not bk_settings.APP_ID:
        errors.append(
            Error(
                "BACKEND_KIT['APP_ID'] is not set.",
                hint="Set the application id your Parse clients send (X-Parse-Application-Id).",
                id="backend_kit.E001",
            )
        )
    if not bk_settings.MASTER_KEY:
        errors.append(
            Error(
                "BACKEND_KIT['MASTER_KEY'] is not set.",
                hint="Set a long random secret; it bypasses every ACL and permission.",
                id="backend_kit.E002",
            )
        )
    for name in (
        "DEFAULT_LIMIT",
        "MAX_BODY_SIZE",
        "MAX_QUERY_DEPTH",
        "MAX_QUERY_CONSTRAINTS",
        "MAX_IN_VALUES",
        "MAX_INCLUDE_DEPTH",
        "SESSION_LENGTH",
    ):
        value = bk_settings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors.append(
                Error(
                    f"BACKEND_KIT[{name!r}] must be a positive integer, not {value!r}.",
                    id="backend_kit.E003",
                )
            )
    threads = bk_settings.REQUEST_THREADS
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        errors.append(
            Error(
                f"BACKEND_KIT['REQUEST_THREADS'] must be 0 or a positive integer, not {threads!r}.",
                id="backend_kit.E003",
            )
        )
    skipped = bk_settings.API_SKIPPED_MIDDLEWARE
    if skipped is not None and (
        isinstance(skipped, str)
        or not isinstance(skipped, (list, tuple))
        or not all(isinstance(path, str) for path in skipped)
    ):
        errors.append(
            Error(
                "BACKEND_KIT['API_SKIPPED_MIDDLEWARE'] must be a list of dotted paths, "
                f"not {skipped!r}.",
                id="backend_kit.E003",
            )
        )
    keep = bk_settings.KEEP_DB_CONNECTIONS
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or keep < 0:
        errors.append(
            Error(
                f"BACKEND_KIT['KEEP_DB_CONNECTIONS'] must be 0 or more seconds, not {keep!r}.",
                id="backend_kit.E003",
            )
        )
    prepared = bk_settings.PREPARED_STATEMENTS
    if prepared is not None and not isinstance(prepared, bool):
        errors.append(
            Error(
                f"BACKEND_KIT['PREPARED_STATEMENTS'] must be None, True or False, not {prepared!r}.",
                id="backend_kit.E003",
            )
        )
    if not isinstance(bk_settings.VERSION_PUSH, bool):
        errors.append(
            Error(
                f"BACKEND_KIT['VERSION_PUSH'] must be True or False, not {bk_settings.VERSION_PUSH!r}.",
                id="backend_kit.E003",
            )
        )
    for name in ("VERSION_PUSH_TIMEOUT", "VERSION_POLL_INTERVAL"):
        value = bk_settings.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            errors.append(
                Error(
                    f"BACKEND_KIT[{name!r}] must be a positive number of seconds, not {value!r}.",
                    id="backend_kit.E003",
                )
            )
    errors.extend(_check_gc_tuning(bk_settings.GC_TUNING))
    max_limit = bk_settings.MAX_LIMIT
    if max_limit is not None and (
        isinstance(max_limit, bool) or not isinstance(max_limit, int) or max_limit <= 0
    ):
        errors.append(
            Error(
                "BACKEND_KIT['MAX_LIMIT'] must be None or a positive integer.",
                id="backend_kit.E003",
            )
        )
    client_keys = ("JAVASCRIPT_KEY", "REST_API_KEY", "CLIENT_KEY", "DOTNET_KEY")
    same = [
        name
        for name in client_keys
        if bk_settings.MASTER_KEY and bk_settings.get(name) == bk_settings.MASTER_KEY
    ]
    if same:
        errors.append(
            Error(
                f"The master key equals BACKEND_KIT[{same[0]!r}], a client key.",
                hint="Client keys ship inside apps; the master key must never be one of them.",
                id="backend_kit.E004",
            )
        )
    if "rest_framework" not in settings.INSTALLED_APPS:
        errors.append(
            Error(
                "backend_kit needs 'rest_framework' in INSTALLED_APPS.",
                hint="Add 'rest_framework' (Django REST framework) to INSTALLED_APPS.",
                id="backend_kit.E005",
            )
        )
    return errors


@register(Tags.database)
def check_database(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from django.apps import apps
    from django.db import connections, router

    if not apps.is_installed("backend_kit.objects"):
        return []
    from .objects.models import ParseObject

    alias = router.db_for_write(ParseObject) or "default"
    if alias not in connections:
        return []
    conn = connections[alias]
    errors: list[Any] = []
    if conn.vendor not in SUPPORTED_DATABASES:
        errors.append(
            Error(
                f"backend_kit.objects does not support the {conn.vendor!r} database backend.",
                hint="Use PostgreSQL (production) or SQLite (embedded default); see docs/topics/storage.md "
                "for the MongoDB route.",
                id="backend_kit.E010",
            )
        )
    if (
        conn.vendor == "sqlite"
        and conn.settings_dict.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE"
    ):
        errors.append(
            Warning(
                "SQLite without transaction_mode IMMEDIATE can fail concurrent writes with 'database is locked'.",
                hint="Set DATABASES[...]['OPTIONS'] = {'transaction_mode': 'IMMEDIATE'} (Django 5.1+).",
                id="backend_kit.W010",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    key = bk_settings.MASTER_KEY or ""
    if key in DEMO_MASTER_KEYS or len(key) < 32:
        errors.append(
            Warning(
                "The master key is a demo value or shorter than 32 characters.",
                hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                id="backend_kit.W020",
            )
        )
    if bk_settings.BROWSABLE_API_SUPERUSER_IS_MASTER:
        errors.append(
            Warning(
                "Logged-in superusers act with the master key in the browsable API.",
                hint="Set BACKEND_KIT['BROWSABLE_API_SUPERUSER_IS_MASTER'] = False in production unless intended.",
                id="backend_kit.W021",
            )
        )
    from django.core.cache import caches

    backend = caches[bk_settings.CACHE_ALIAS].__class__.__name__
    if backend in ("LocMemCache", "DummyCache"):
        errors.append(
            Warning(
                f"The {bk_settings.CACHE_ALIAS!r} cache is process-local ({backend}).",
                hint="With several worker processes, schema changes and login throttles need a shared cache "
                "(Redis): set CACHES and BACKEND_KIT['CACHE_ALIAS'].",
                id="backend_kit.W022",
            )
        )
    if not bk_settings.SERVER_URL:
        errors.append(
            Warning(
                "BACKEND_KIT['SERVER_URL'] is not set; URLs are built from the request's Host header.",
                hint="Set the public URL of the mount, e.g. https://api.example.com/parse",
                id="backend_kit.W023",
            )
        )
    return errors


def _check_gc_tuning(value: Any) -> list[Error]:
    from .gctuning import tuning_problem

    problem = tuning_problem(value)
    if problem is None:
        return []
    return [
        Error(
            f"BACKEND_KIT['GC_TUNING'] {problem}, not {value!r}.",
            hint='None, or {"FREEZE": True, "THRESHOLDS": [5000, 20, 100]}.',
            id="backend_kit.E006",
        )
    ]
