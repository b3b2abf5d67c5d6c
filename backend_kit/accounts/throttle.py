"""Login throttling, cluster-wide through Django's cache (Redis in production).

Failed logins are counted per username and all attempts per client address, in
fixed windows; over a limit the answer is HTTP 429 with Parse code 155 and a
``Retry-After``. ``LOGIN_THROTTLE`` sets ``{"per_username": [failures, seconds],
"per_ip": [attempts, seconds]}``; ``None`` turns a limit off.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..cache import shared_cache
from ..conf import bk_settings
from ..errors import Code, ParseError


def _cache() -> Any:
    return shared_cache()


def _limits(kind: str) -> tuple[int, int] | None:
    conf = (bk_settings.LOGIN_THROTTLE or {}).get(kind)
    if not conf:
        return None
    limit, window = conf
    return int(limit), int(window)


def _key(kind: str, value: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    bucket = now // window
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"backend_kit:throttle:{kind}:{digest}:{bucket}", window - (now % window)


def _count(kind: str, value: str | None, *, add: bool) -> None:
    limits = _limits(kind)
    if limits is None or not value:
        return
    limit, window = limits
    key, retry = _key(kind, value, window)
    try:
        cache = _cache()
        current = cache.get(key, 0)
        if current >= limit:
            raise ParseError(
                Code.REQUEST_LIMIT_EXCEEDED,
                "Too many login attempts. Try again later.",
                status=429,
                headers={"Retry-After": str(retry)},
            )
        if add and not cache.add(key, 1, window + 1):
            cache.incr(key)
    except ParseError:
        raise
    except Exception:  # a cache outage must not lock everybody out
        return


def check(username: str, ip: str | None) -> None:
    _count("per_username", username, add=False)
    _count("per_ip", ip, add=True)


def failure(username: str, ip: str | None) -> None:
    _count("per_username", username, add=True)


def success(username: str) -> None:
    limits = _limits("per_username")
    if limits is None:
        return
    key, _ = _key("per_username", username, limits[1])
    try:
        _cache().delete(key)
    except Exception:
        pass
