"""Rate limits per route group, user, installation and client address.

Fixed windows counted in the shared cache (see :mod:`.counters`): a request is
accepted when, after counting it, every counter that applies is at most its limit.
Across any number of processes sharing Redis a window therefore accepts exactly
``count`` requests per key; refused requests count too, so a client that keeps
hammering stays refused until its window ends. Each client has its own keys: one
client over its limit never slows another down.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..context import RequestContext
from ..errors import Code, ParseError
from . import app_settings, counters, metrics
from .routes import Route

log = logging.getLogger("backend_kit.guardrails")
MESSAGE = "Too many requests."


@dataclass(frozen=True)
class Rule:
    scope: str
    count: int
    window: int


def parse_rules(spec: Any) -> list[Rule]:
    """``{scope: [count, seconds]}`` -> rules; invalid entries are left out (E101)."""
    rules: list[Rule] = []
    if not isinstance(spec, dict):
        return rules
    for scope, value in spec.items():
        pair = app_settings.limit_pair(value)
        if scope in app_settings.SCOPES and pair is not None:
            rules.append(Rule(scope, pair[0], pair[1]))
    return rules


def rules_for(route: Route) -> tuple[str, list[Rule]] | None:
    """The counter family and rules of a route (None: nothing limits it).

    A function's own entry, then a class's own entry for the group, replace the
    group's limits and count separately from the rest of the group.
    """
    if route.group is None:
        return None
    functions = app_settings.get("FUNCTION_RATE_LIMITS") or {}
    if route.function and isinstance(functions, dict) and route.function in functions:
        return f"fn:{route.function}", parse_rules(functions[route.function])
    classes = app_settings.get("CLASS_RATE_LIMITS") or {}
    if route.class_name and isinstance(classes, dict):
        per_class = classes.get(route.class_name)
        if isinstance(per_class, dict) and route.group in per_class:
            return f"{route.group}:{route.class_name}", parse_rules(per_class[route.group])
    groups = app_settings.get("RATE_LIMITS") or {}
    spec = groups.get(route.group) if isinstance(groups, dict) else None
    return route.group, parse_rules(spec)


def identity(ctx: RequestContext, scope: str) -> str | None:
    if scope == "user":
        return ctx.user_id
    if scope == "installation":
        return ctx.installation_id
    return ctx.ip


def _group_of(family: str) -> str:
    head = family.split(":", 1)[0]
    return "functions" if head == "fn" else head


def _key(family: str, rule: Rule, who: str, bucket: int) -> str:
    digest = hashlib.sha256(who.encode()).hexdigest()[:24]
    return f"bk:rl:{family}:{rule.scope}:{digest}:{rule.window}:{bucket}"


def check(ctx: RequestContext, routes: list[Route], *, now: float | None = None) -> None:
    """Count ``routes`` (one per request, several for a batch) and refuse over a limit:
    HTTP 429, Parse code 155 and a ``Retry-After`` until the window that refused ends."""
    moment = time.time() if now is None else now
    wanted: Counter[tuple[str, Rule, str]] = Counter()
    for route in routes:
        found = rules_for(route)
        if found is None:
            continue
        family, rules = found
        for rule in rules:
            who = identity(ctx, rule.scope)
            if who:
                wanted[(family, rule, who)] += 1
    if not wanted:
        return
    hits, meta = [], []
    for (family, rule, who), amount in wanted.items():
        bucket = int(moment // rule.window)
        left = (bucket + 1) * rule.window - moment
        hits.append((_key(family, rule, who, bucket), int(left) + 1, amount))
        meta.append((family, rule, left))
    try:
        values = counters.hit(hits)
    except Exception:  # a cache outage must not take the API down with it
        log.warning("rate limit counters unavailable; request let through", exc_info=True)
        return
    retry = 0.0
    for value, (family, rule, left) in zip(values, meta, strict=True):
        if value > rule.count:
            retry = max(retry, left)
            metrics.rate_limited(_group_of(family), rule.scope)
    if retry:
        raise ParseError(
            Code.REQUEST_LIMIT_EXCEEDED,
            MESSAGE,
            status=429,
            headers={"Retry-After": str(max(1, int(retry + 0.999)))},
        )
