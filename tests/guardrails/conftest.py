"""Fixtures of the guardrails tests: settings, a clean counters cache, cloud code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from backend_kit.cloud import registry
from backend_kit.guardrails import app_settings, counters
from backend_kit.guardrails.models import AuditEntry
from tests.conftest import ParseClient


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    """Rate-limit and usage counters live in the cache: every test starts from zero."""
    counters.discard_pending()
    caches[app_settings.cache_alias()].clear()
    yield
    counters.discard_pending()
    caches[app_settings.cache_alias()].clear()


@pytest.fixture
def guardrails(settings: Any) -> Any:
    """``guardrails(RATE_LIMITS={...})`` sets BACKEND_KIT["GUARDRAILS"] for the test."""

    def configure(**values: Any) -> None:
        settings.BACKEND_KIT = {**settings.BACKEND_KIT, "GUARDRAILS": values}

    return configure


@pytest.fixture
def cloud_code() -> Iterator[Any]:
    """Register cloud functions and jobs for one test."""
    snap = registry.snapshot()
    yield registry
    registry.restore(snap)


def sign_up(username: str, **fields: Any) -> tuple[str, ParseClient]:
    r = ParseClient().post("users", {"username": username, "password": "pw-" + username, **fields})
    assert r.status_code == 201, r.json_body
    return r.json_body["objectId"], ParseClient(session_token=r.json_body["sessionToken"])


def entries_after(mark: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(id__gt=mark).order_by("id"))


def audit_mark() -> int:
    last = AuditEntry.objects.order_by("-id").first()
    return last.id if last else 0


@pytest.fixture
def classes(master: Any) -> None:
    """Classes the tests write to as clients (clients may not create classes)."""
    for name in ("Thing", "Note", "Hot", "Cold", "Item", "Log"):
        r = master.post(
            f"schemas/{name}",
            {
                "className": name,
                "fields": {
                    "a": {"type": "Number"},
                    "i": {"type": "Number"},
                    "n": {"type": "Number"},
                    "text": {"type": "String"},
                },
            },
        )
        assert r.status_code == 200, r.json_body


@pytest.fixture
def media(tmp_path: Any, settings: Any) -> Any:
    """Files on local disk in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
