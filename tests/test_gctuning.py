"""``GC_TUNING``: what is accepted, and what ``tune`` does to the collector (once)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from backend_kit import gctuning


@pytest.mark.parametrize(
    "value",
    [None, {}, {"FREEZE": False}, {"THRESHOLDS": [700]}, {"FREEZE": True, "THRESHOLDS": (1, 2, 3)}],
)
def test_valid_values(value: Any) -> None:
    assert gctuning.tuning_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        True,
        {"FREEZE": "yes"},
        {"THRESHOLDS": 5000},
        {"THRESHOLDS": [0]},
        {"THRESHOLDS": [1, 2, 3, 4]},
        {"THRESHOLDS": [True]},
        {"FROZEN": True},
    ],
)
def test_invalid_values_are_a_system_check_error(value: Any, settings: Any) -> None:
    assert gctuning.tuning_problem(value) is not None
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "GC_TUNING": value}
    ids = [e.id for e in run_checks() if e.id and e.id.startswith("backend_kit.")]
    assert "backend_kit.E006" in ids


class FakeGC:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def set_threshold(self, *values: int) -> None:
        self.calls.append(("set_threshold", values))

    def collect(self) -> int:
        self.calls.append(("collect", ()))
        return 0

    def freeze(self) -> None:
        self.calls.append(("freeze", ()))


def test_tune_sets_thresholds_then_collects_and_freezes_once(monkeypatch: Any) -> None:
    fake = FakeGC()
    monkeypatch.setattr(gctuning, "gc", fake)
    monkeypatch.setattr(gctuning, "_tuned", False)
    assert gctuning.tune({"FREEZE": True, "THRESHOLDS": [5000, 20, 100]}) is True
    assert fake.calls == [("set_threshold", (5000, 20, 100)), ("collect", ()), ("freeze", ())]
    assert gctuning.tune({"FREEZE": True}) is False  # once per process
    assert len(fake.calls) == 3


@pytest.mark.parametrize("value", [None, {"THRESHOLDS": [0]}])
def test_tune_leaves_the_collector_alone(monkeypatch: Any, value: Any) -> None:
    fake = FakeGC()
    monkeypatch.setattr(gctuning, "gc", fake)
    monkeypatch.setattr(gctuning, "_tuned", False)
    assert gctuning.tune(value) is False
    assert fake.calls == []
