"""Signals of the guardrails app (receivers must not raise; they are sent robustly).

``quota_warning``
    A quota passed its warning share (``QUOTA_WARNING_AT``), once per period.
    Arguments: ``metric`` (e.g. ``"requests"``), ``period`` (``"day"``, ``"month"``, or
    ``"max"`` for a level), ``used``, ``limit``.

``quota_reached``
    A quota reached its hard cap, once per period; further work of that kind is refused
    until the period ends (or, for a level, until usage drops). Same arguments.
"""

from django.dispatch import Signal

quota_warning = Signal()
quota_reached = Signal()
