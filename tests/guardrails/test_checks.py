"""Every guardrails system check id: nonsense limits and quotas are errors at start."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from backend_kit.guardrails import metrics


def found(check_id: str, *, deploy: bool = False) -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=deploy) if m.id == check_id]


def test_the_test_project_is_clean(db: Any) -> None:
    ids = {m.id for m in run_checks()}
    assert not {i for i in ids if i.startswith(("backend_kit.E10", "backend_kit.W10"))}


def test_e100_not_a_dict(guardrails: Any, settings: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "GUARDRAILS": ["x"]}
    assert len(found("backend_kit.E100")) == 1


def test_w100_unknown_key(guardrails: Any) -> None:
    guardrails(RATE_LIMIT={"reads": {"ip": [1, 1]}})
    assert [m.msg for m in found("backend_kit.W100")] == [
        "Unknown GUARDRAILS setting 'RATE_LIMIT'."
    ]


@pytest.mark.parametrize(
    "limits",
    [
        {"reads": {"ip": [0, 60]}},
        {"reads": {"ip": [10, 0]}},
        {"reads": {"ip": [10, 40 * 86400]}},
        {"reads": {"ip": [-1, 60]}},
        {"reads": {"ip": ["10", 60]}},
        {"reads": {"ip": [10.5, 60]}},
        {"reads": {"ip": [True, 60]}},
        {"reads": {"ip": 10}},
        {"reads": {"everyone": [10, 60]}},
        {"gossip": {"ip": [10, 60]}},
        {"reads": [10, 60]},
        "lots",
    ],
)
def test_e101_nonsense_rate_limits(guardrails: Any, limits: Any) -> None:
    guardrails(RATE_LIMITS=limits)
    assert found("backend_kit.E101"), limits


@pytest.mark.parametrize(
    "setting",
    [
        {"CLASS_RATE_LIMITS": {"Post": {"writes": {"ip": [0, 1]}}}},
        {"CLASS_RATE_LIMITS": {"Post": {"push": {"ip": [1, 1]}}}},
        {"CLASS_RATE_LIMITS": {"Post": [1, 1]}},
        {"FUNCTION_RATE_LIMITS": {"hello": {"user": [1, -1]}}},
        {"FUNCTION_RATE_LIMITS": ["hello"]},
    ],
)
def test_e102_nonsense_overrides(guardrails: Any, setting: dict[str, Any]) -> None:
    guardrails(**setting)
    assert found("backend_kit.E102"), setting


@pytest.mark.parametrize(
    "quotas",
    [
        {"requests": {"day": 0}},
        {"requests": {"day": -5}},
        {"requests": {"week": 10}},
        {"requests": {"max": 10}},
        {"requests": {}},
        {"requests": 1000},
        {"objects_stored": {"day": 10}},
        {"objects_stored": {"max": "lots"}},
        {"beers": {"day": 10}},
        {"requests": {"day": 1000, "month": 100}},
        [("requests", 1)],
    ],
)
def test_e103_nonsense_quotas(guardrails: Any, quotas: Any) -> None:
    guardrails(QUOTAS=quotas)
    assert found("backend_kit.E103"), quotas


@pytest.mark.parametrize(
    "setting",
    [
        {"QUOTA_WARNING_AT": 0},
        {"QUOTA_WARNING_AT": 1.5},
        {"QUOTA_WARNING_AT": "80%"},
        {"QUOTA_EMAILS": "ops@example.com"},
        {"QUOTA_EMAILS": ["not an address"]},
    ],
)
def test_e104_warning_share_and_emails(guardrails: Any, setting: dict[str, Any]) -> None:
    guardrails(**setting)
    assert found("backend_kit.E104"), setting


@pytest.mark.parametrize(
    "setting",
    [
        {"AUDIT_RETENTION_DAYS": 0},
        {"AUDIT_RETENTION_DAYS": "1y"},
        {"AUDIT_REDACT_FIELDS": "password"},
        {"AUDIT_IGNORED_MODELS": [1]},
        {"AUDIT_CLEANUP_JOB": ""},
    ],
)
def test_e105_audit_settings(guardrails: Any, setting: dict[str, Any]) -> None:
    guardrails(**setting)
    assert found("backend_kit.E105"), setting


def test_e106_unknown_cache(guardrails: Any) -> None:
    guardrails(CACHE_ALIAS="counters")
    assert found("backend_kit.E106")


@pytest.mark.parametrize(
    "setting",
    [
        {"METRICS_TOKEN": "short"},
        {"METRICS_QUEUES": "celery"},
        {"HEALTH_TIMEOUT": 0},
        {"BEAT_LOCK_TTL": 1},
        {"BEAT_LOCK_KEY": ""},
        {"BEAT_LOCK_URL": "http://example.com"},
    ],
)
def test_e107_operations_settings(guardrails: Any, setting: dict[str, Any]) -> None:
    guardrails(**setting)
    assert found("backend_kit.E107"), setting


def test_sane_settings_pass(guardrails: Any) -> None:
    guardrails(
        RATE_LIMITS={"auth": {"ip": [20, 60]}, "writes": {"user": [120, 60], "ip": [600, 60]}},
        CLASS_RATE_LIMITS={"Message": {"writes": {"user": [10, 60]}}},
        FUNCTION_RATE_LIMITS={"sendInvite": {"user": [5, 3600]}},
        QUOTAS={"requests": {"day": 10**6, "month": 2 * 10**7}, "objects_stored": {"max": 10**6}},
        QUOTA_WARNING_AT=0.9,
        QUOTA_EMAILS=["ops@example.com"],
        METRICS_TOKEN="a-long-scrape-token-0123",
    )
    assert not [m for m in run_checks() if m.id.startswith("backend_kit.E10")]


def test_w101_process_local_counters(guardrails: Any) -> None:
    guardrails(RATE_LIMITS={"reads": {"ip": [10, 60]}})
    assert len(found("backend_kit.W101", deploy=True)) == 1
    guardrails()
    assert not found("backend_kit.W101", deploy=True)


def test_w102_middleware_missing(settings: Any) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "guardrails" not in m]
    assert len(found("backend_kit.W102")) == 1


def test_w103_prometheus_missing(guardrails: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(metrics, "available", lambda: False)
    assert len(found("backend_kit.W103", deploy=True)) == 1
