"""The garbage collector of a process serving the Parse API (``BACKEND_KIT["GC_TUNING"]``).

A Django process holds a few hundred thousand long-lived objects after start-up
(modules, URL patterns, schemas, DRF and Django internals). CPython's full collections
walk all of them; with the default thresholds one ran every few hundred requests and
stalled every request in flight for tens of milliseconds: on the benchmark machine the
p99 of ``GET /classes/X/id`` at 32 connections went from 71 ms to 34 ms once
start-up objects were frozen (``gc.freeze()``, moved out of the collector's sight)
and generation 0 was collected every 5,000 allocations instead of 700. Cycles made by
requests are still collected, a little later. :func:`tune` runs once, from
``parse_application()``, after the application is built.
"""

from __future__ import annotations

import gc
from typing import Any

_tuned = False


def tuning_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid ``GC_TUNING`` (None: it is)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"FREEZE", "THRESHOLDS"}:
        return 'must be None or a dict with "FREEZE" and/or "THRESHOLDS"'
    if not isinstance(value.get("FREEZE", False), bool):
        return '"FREEZE" must be True or False'
    thresholds = value.get("THRESHOLDS")
    if thresholds is not None and (
        not isinstance(thresholds, (list, tuple))
        or not 1 <= len(thresholds) <= 3
        or any(isinstance(t, bool) or not isinstance(t, int) or t <= 0 for t in thresholds)
    ):
        return '"THRESHOLDS" must be a list of one to three positive integers'
    return None


def tune(value: Any) -> bool:
    """Apply ``GC_TUNING`` once per process; whether anything was changed."""
    global _tuned
    if _tuned or value is None or tuning_problem(value) is not None:
        return False
    _tuned = True
    thresholds = value.get("THRESHOLDS")
    if thresholds:
        gc.set_threshold(*thresholds)
    if value.get("FREEZE"):
        gc.collect()  # what start-up left as garbage is freed, not frozen
        gc.freeze()
    return True
