"""The ASGI application of the HA tests' servers: the example project's, with a quota
clock the test can move (``BK_HA_CLOCK_FILE`` holds an offset in seconds), so that a
test sees a usage cap reset at the next period without waiting a day."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.ha.server_settings")

from backend_kit.guardrails import quotas  # noqa: E402
from example_project.asgi import application  # noqa: E402

__all__ = ["application"]

_real_now = quotas.now
_clock_file = os.environ.get("BK_HA_CLOCK_FILE")


def _shifted_now() -> datetime:
    try:
        offset = float(Path(str(_clock_file)).read_text() or 0)
    except (OSError, ValueError):
        offset = 0.0
    return _real_now() + timedelta(seconds=offset)


if _clock_file:
    quotas.now = _shifted_now
