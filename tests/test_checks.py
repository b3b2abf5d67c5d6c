"""Every system check id of backend_kit and backend_kit.objects, with run_checks()."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.db import connections
from django.test import override_settings

from .support import kit

SAFE_MASTER_KEY = "a-long-random-master-key-for-tests-0123456789"


def ids(*, deploy: bool = False) -> list[str]:
    return [m.id for m in run_checks(include_deployment_checks=deploy)]


def messages(check_id: str, *, deploy: bool = False) -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=deploy) if m.id == check_id]


CORE_CODES = ["E000", "W000", "E001", "E002", "E003", "E004", "E005"]
CORE_CODES += ["E010", "W010", "E011", "W020", "W021", "W022", "W023"]
CORE_IDS = {f"backend_kit.{code}" for code in CORE_CODES}


def test_the_test_project_is_clean() -> None:
    # W010 is about SQLite only and the test project sets IMMEDIATE
    assert [i for i in ids() if i in CORE_IDS] == []


@override_settings(BACKEND_KIT=["not", "a", "dict"])
def test_e000_backend_kit_must_be_a_dict() -> None:
    found = messages("backend_kit.E000")
    assert len(found) == 1
    assert found[0].msg == "BACKEND_KIT must be a dict."
    # the other checks do not crash on it, deployment checks included
    assert "backend_kit.E000" in ids(deploy=True)


@override_settings(BACKEND_KIT=kit(MASTER_KY="typo"))
def test_w000_unknown_setting() -> None:
    found = messages("backend_kit.W000")
    assert [m.msg for m in found] == ["Unknown BACKEND_KIT setting 'MASTER_KY'."]
    assert found[0].hint


@override_settings(BACKEND_KIT=kit(APP_ID=None))
def test_e001_app_id() -> None:
    assert len(messages("backend_kit.E001")) == 1


@override_settings(BACKEND_KIT=kit(APP_ID=""))
def test_e001_empty_app_id() -> None:
    assert len(messages("backend_kit.E001")) == 1


@override_settings(BACKEND_KIT=kit(MASTER_KEY=None))
def test_e002_master_key() -> None:
    found = messages("backend_kit.E002")
    assert len(found) == 1 and found[0].hint


@pytest.mark.parametrize(
    "name,value",
    [
        ("DEFAULT_LIMIT", 0),
        ("DEFAULT_LIMIT", -5),
        ("DEFAULT_LIMIT", "100"),
        ("MAX_BODY_SIZE", True),
        ("MAX_QUERY_DEPTH", None),
        ("MAX_QUERY_CONSTRAINTS", 1.5),
        ("MAX_IN_VALUES", 0),
        ("MAX_INCLUDE_DEPTH", -1),
        ("SESSION_LENGTH", "long"),
        ("MAX_LIMIT", 0),
        ("MAX_LIMIT", "10"),
        ("MAX_LIMIT", False),
        ("REQUEST_THREADS", -1),
        ("REQUEST_THREADS", "8"),
        ("API_SKIPPED_MIDDLEWARE", "django.middleware.csrf.CsrfViewMiddleware"),
        ("API_SKIPPED_MIDDLEWARE", [42]),
    ],
)
def test_e003_positive_integers(name: str, value: Any) -> None:
    with override_settings(BACKEND_KIT=kit(**{name: value})):
        found = messages("backend_kit.E003")
        assert len(found) == 1
        assert name in found[0].msg


@pytest.mark.parametrize(
    "name,value",
    [
        ("MAX_LIMIT", None),
        ("MAX_LIMIT", 500),
        ("DEFAULT_LIMIT", 1),
        ("REQUEST_THREADS", 0),
        ("API_SKIPPED_MIDDLEWARE", []),
    ],
)
def test_e003_accepts_valid_values(name: str, value: Any) -> None:
    with override_settings(BACKEND_KIT=kit(**{name: value})):
        assert messages("backend_kit.E003") == []


@override_settings(BACKEND_KIT=kit(JAVASCRIPT_KEY="same-key", MASTER_KEY="same-key"))
def test_e004_master_key_equals_a_client_key() -> None:
    assert len(messages("backend_kit.E004")) == 1


@pytest.mark.parametrize("name", ["REST_API_KEY", "CLIENT_KEY", "DOTNET_KEY"])
def test_e004_any_client_key(name: str) -> None:
    with override_settings(BACKEND_KIT=kit(**{name: "same-key", "MASTER_KEY": "same-key"})):
        assert len(messages("backend_kit.E004")) == 1


def test_e005_rest_framework_missing() -> None:
    apps = [a for a in settings.INSTALLED_APPS if a not in ("rest_framework", "drf_spectacular")]
    with override_settings(INSTALLED_APPS=apps):
        assert len(messages("backend_kit.E005")) == 1


def test_e010_unsupported_database(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connections["default"]
    monkeypatch.setattr(conn, "vendor", "oracle")
    found = messages("backend_kit.E010")
    assert len(found) == 1 and "'oracle'" in found[0].msg


def test_w010_sqlite_without_immediate(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connections["default"]
    options = {
        k: v for k, v in conn.settings_dict.get("OPTIONS", {}).items() if k != "transaction_mode"
    }
    monkeypatch.setitem(conn.settings_dict, "OPTIONS", options)
    found = messages("backend_kit.W010")
    if conn.vendor == "sqlite":
        assert len(found) == 1 and found[0].hint
    else:
        assert found == []  # a PostgreSQL project never sees it


def test_e011_objects_without_the_root_app() -> None:
    apps = [a for a in settings.INSTALLED_APPS if a != "backend_kit"]
    with override_settings(INSTALLED_APPS=apps):
        found = messages("backend_kit.E011")
        assert len(found) == 1 and found[0].hint


# --- deployment checks ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["demo-master-key", "masterKey", "short"])
def test_w020_weak_master_key(key: str) -> None:
    with override_settings(BACKEND_KIT=kit(MASTER_KEY=key)):
        assert len(messages("backend_kit.W020", deploy=True)) == 1
        assert messages("backend_kit.W020") == []  # deployment checks only


@override_settings(BACKEND_KIT=kit(MASTER_KEY=SAFE_MASTER_KEY))
def test_w020_strong_master_key() -> None:
    assert messages("backend_kit.W020", deploy=True) == []


def test_w021_superuser_is_master() -> None:
    with override_settings(BACKEND_KIT=kit(BROWSABLE_API_SUPERUSER_IS_MASTER=True)):
        assert len(messages("backend_kit.W021", deploy=True)) == 1
    with override_settings(BACKEND_KIT=kit(BROWSABLE_API_SUPERUSER_IS_MASTER=False)):
        assert messages("backend_kit.W021", deploy=True) == []


def test_w022_process_local_cache() -> None:
    # the test project uses LocMemCache
    assert len(messages("backend_kit.W022", deploy=True)) == 1
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bk_cache",
        }
    }
    with override_settings(CACHES=shared):
        assert messages("backend_kit.W022", deploy=True) == []


def test_w022_follows_the_cache_alias() -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bk_cache",
        },
    }
    with override_settings(CACHES=caches, BACKEND_KIT=kit(CACHE_ALIAS="shared")):
        assert messages("backend_kit.W022", deploy=True) == []


def test_w023_server_url() -> None:
    with override_settings(BACKEND_KIT=kit(SERVER_URL=None)):
        assert len(messages("backend_kit.W023", deploy=True)) == 1
    assert messages("backend_kit.W023", deploy=True) == []  # the test project sets it


@pytest.mark.parametrize(
    "setting, value",
    [
        ("KEEP_DB_CONNECTIONS", -1),
        ("KEEP_DB_CONNECTIONS", "60"),
        ("PREPARED_STATEMENTS", "yes"),
        ("VERSION_PUSH", "on"),
        ("VERSION_PUSH_TIMEOUT", 0),
        ("VERSION_POLL_INTERVAL", "1"),
    ],
)
def test_e003_connection_settings(setting: str, value: object) -> None:
    with override_settings(BACKEND_KIT=kit(**{setting: value})):
        assert [m for m in messages("backend_kit.E003") if setting in m.msg]
