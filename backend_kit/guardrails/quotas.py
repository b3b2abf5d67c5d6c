"""Usage caps for cost control: daily and monthly flows, and levels.

Flows (``requests``, ``file_bytes_served``, ``realtime_connections``, ``pushes_sent``,
``job_runs``) are counted per UTC day and month in the shared cache; a request that
would take a counter past its cap is refused and not counted, so a cap accepts
exactly ``cap`` units per period and the next period starts from zero. Levels
(``objects_stored``, ``file_bytes_stored``) are exact database sums kept by triggers
(see :mod:`.levels`). Reaching the warning share, and reaching a cap, each give one
notice per period: the ``quota_warning`` / ``quota_reached`` signal, a
:class:`~.models.QuotaNotice` in the admin, and a mail to ``QUOTA_EMAILS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from ..context import RequestContext
from ..errors import Code, ParseError
from . import app_settings, counters, levels, metrics, signals

log = logging.getLogger("backend_kit.guardrails")


def now() -> datetime:
    """The clock quotas use (tests move it to the next period)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Period:
    name: str  # day or month
    key: str
    ends: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, int((self.ends - now()).total_seconds() + 0.999))


_periods_of_day: dict[tuple[int, int, int], list[Period]] = {}


def periods(moment: datetime | None = None) -> list[Period]:
    moment = moment or now()
    day = (moment.year, moment.month, moment.day)
    found = _periods_of_day.get(day)
    if found is None:
        if len(_periods_of_day) > 64:
            _periods_of_day.clear()
        found = _periods_of_day[day] = _periods(moment)
    return list(found)


def _periods(moment: datetime) -> list[Period]:
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return [
        Period("day", moment.strftime("%Y%m%d"), day_start + timedelta(days=1)),
        Period("month", moment.strftime("%Y%m"), next_month),
    ]


# Counters outlive their period a little, so the admin can show the previous one.
TTL = {"day": 3 * 86400, "month": 63 * 86400}


def limits(metric: str) -> dict[str, int]:
    """The caps set for ``metric`` (``day``/``month`` or ``max``), valid ones only."""
    conf = app_settings.get("QUOTAS") or {}
    spec = conf.get(metric) if isinstance(conf, dict) else None
    if not isinstance(spec, dict):
        return {}
    allowed = app_settings.PERIODS if metric in app_settings.FLOWS else ("max",)
    return {k: int(v) for k, v in spec.items() if k in allowed and app_settings.positive_int(v)}


def warning_share() -> float:
    share = app_settings.get("QUOTA_WARNING_AT")
    return float(share) if isinstance(share, (int, float)) and 0 < share <= 1 else 0.8


def exempt(ctx: RequestContext | None) -> bool:
    """The server's own bookkeeping, and the master key unless QUOTAS_APPLY_TO_MASTER."""
    if ctx is None:
        return False
    if ctx.origin == "system":
        return True
    if ctx.is_master or ctx.is_read_only_master:
        return not app_settings.get("QUOTAS_APPLY_TO_MASTER")
    return False


def counter_key(metric: str, period: Period) -> str:
    return f"bk:usage:{metric}:{period.name}:{period.key}"


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def flow_error(metric: str, period: Period, cap: int) -> ParseError:
    return ParseError(
        Code.EXCEEDED_QUOTA,
        f"Quota exceeded: {_label(metric)} per {period.name} is capped at {cap}; "
        f"it resets at {period.ends:%Y-%m-%dT%H:%M:%SZ}.",
        status=429,
        headers={"Retry-After": str(period.seconds_left)},
    )


def consume(metric: str, amount: int = 1, *, enforce: bool = True) -> None:
    """Count ``amount`` of a flow; refuse (140, HTTP 429, Retry-After) past a cap.

    ``enforce=False`` counts without refusing (exempt callers, work already done).
    A cache outage lets the work through: losing a few counts beats an outage.
    """
    if amount <= 0:
        return
    caps = limits(metric)
    if not caps and not app_settings.get("TRACK_USAGE"):
        return
    current = periods()
    hits = [(counter_key(metric, p), TTL[p.name], amount) for p in current]
    if not caps:
        counters.hit_later(hits)  # shown, never refused: no round trip per count
        return
    try:
        values = counters.hit(hits)
    except Exception:
        log.warning("usage counters unavailable; %s not counted", metric, exc_info=True)
        return
    refused = [
        (p, caps[p.name])
        for p, value in zip(current, values, strict=True)
        if enforce and p.name in caps and value > caps[p.name]
    ]
    if refused:
        try:
            counters.take_back(hits)
        except Exception:
            log.warning("could not take back refused usage of %s", metric, exc_info=True)
        metrics.quota_refused(metric)
        period, cap = max(refused, key=lambda pc: pc[0].ends)
        raise flow_error(metric, period, cap)
    for period, value in zip(current, values, strict=True):
        period_cap = caps.get(period.name)
        if period_cap is not None:
            _maybe_notify(metric, period.name, period.key, value - amount, value, period_cap)


def check_flow(metric: str, ctx: RequestContext | None) -> None:
    """Refuse new work once a flow's cap is used up (e.g. a push while ``pushes_sent``
    is at its cap), without counting anything."""
    caps = limits(metric)
    if not caps or exempt(ctx):
        return
    for period, used in zip(periods(), usage_of(metric), strict=True):
        cap = caps.get(period.name)
        if cap is not None and used is not None and used >= cap:
            metrics.quota_refused(metric)
            raise flow_error(metric, period, cap)


def usage_of(metric: str) -> list[int | None]:
    """This day's and this month's counts of a flow (None when the cache is down)."""
    current = periods()
    keys = [counter_key(metric, p) for p in current]
    try:
        found = counters.read(keys)
    except Exception:
        return [None for _ in keys]
    return [found.get(key, 0) + counters.pending(key) for key in keys]


# --- levels ----------------------------------------------------------------------------


def level_error(metric: str, cap: int) -> ParseError:
    return ParseError(
        Code.EXCEEDED_QUOTA,
        f"Quota exceeded: {_label(metric)} is capped at {cap}; delete some to add more.",
        status=403,
    )


def check_level(metric: str, ctx: RequestContext | None, *, using: str, adding: int = 0) -> None:
    """Inside a write's transaction, after the row went in: refuse it when the level is
    now over the cap (the write rolls back). ``adding`` is what is about to be added
    when the row is not written yet (a file's size before its record)."""
    cap = limits(metric).get("max")
    if cap is None or exempt(ctx):
        return
    level = levels.read_locked(metric, using=using) + adding
    if level > cap:
        metrics.quota_refused(metric)
        raise level_error(metric, cap)
    day = now().strftime("%Y%m%d")
    transaction.on_commit(
        lambda: _maybe_notify(metric, "max", day, level - max(adding, 1), level, cap),
        using=using,
    )


# --- notices ---------------------------------------------------------------------------


def _maybe_notify(metric: str, period: str, key: str, before: int, after: int, cap: int) -> None:
    """Notify when this step crossed the warning share or reached the cap."""
    warn_at = cap * warning_share()
    if before < warn_at <= after and after < cap:
        notify(metric, period, key, "warning", after, cap)
    if before < cap <= after:
        notify(metric, period, key, "cap", after, cap)


def notify(metric: str, period: str, key: str, kind: str, used: int, cap: int) -> bool:
    """Record the notice once per period (cluster-wide: a unique row), then signal and
    mail. Returns whether this call was the one that recorded it."""
    from .models import QuotaNotice

    try:
        with transaction.atomic():
            QuotaNotice.objects.create(
                metric=metric, period=period, period_key=key, kind=kind, used=used, limit=cap
            )
    except IntegrityError:
        return False
    except Exception:
        log.warning("could not record the %s notice of %s", kind, metric, exc_info=True)
        return False
    signal = signals.quota_warning if kind == "warning" else signals.quota_reached
    signal.send_robust(sender=None, metric=metric, period=period, used=used, limit=cap)
    log.warning("quota %s: %s per %s at %s of %s", kind, metric, period, used, cap)
    _mail(metric, period, kind, used, cap)
    return True


def _mail(metric: str, period: str, kind: str, used: int, cap: int) -> None:
    emails = app_settings.get("QUOTA_EMAILS") or []
    if not emails:
        return
    from django.core.mail import send_mail

    from ..conf import bk_settings

    what = "reached its cap" if kind == "cap" else "passed its warning threshold"
    per = "" if period == "max" else f" per {period}"
    subject = f"[{bk_settings.APP_NAME}] {_label(metric)}{per} {what}"
    body = f"Usage of {_label(metric)}{per} is at {used} of a cap of {cap}.\n" + (
        "Further work of this kind is refused until the period ends.\n" if kind == "cap" else ""
    )
    try:
        send_mail(subject, body, None, list(emails), fail_silently=False)
    except Exception:
        log.warning("could not mail the quota notice for %s", metric, exc_info=True)


# --- the admin's and the metrics' view -----------------------------------------------


@dataclass
class UsageRow:
    metric: str
    kind: str  # flow or level
    day: int | None = None
    month: int | None = None
    level: int | None = None
    caps: dict[str, int] | None = None

    def state(self) -> str:
        caps = self.caps or {}
        worst = "ok"
        for name, used in (("day", self.day), ("month", self.month), ("max", self.level)):
            cap = caps.get(name)
            if cap is None or used is None:
                continue
            if used >= cap:
                return "capped"
            if used >= cap * warning_share():
                worst = "warning"
        return worst


def report() -> list[UsageRow]:
    rows = []
    for metric in app_settings.FLOWS:
        day, month = usage_of(metric)
        rows.append(UsageRow(metric, "flow", day=day, month=month, caps=limits(metric)))
    for metric in app_settings.LEVELS:
        try:
            level: int | None = levels.read(metric)
        except Exception:
            level = None
        rows.append(UsageRow(metric, "level", level=level, caps=limits(metric)))
    return rows


def describe(row: UsageRow) -> dict[str, Any]:
    return {
        "metric": row.metric,
        "kind": row.kind,
        "day": row.day,
        "month": row.month,
        "level": row.level,
        "caps": row.caps or {},
        "state": row.state(),
    }


def check_level_room(metric: str, ctx: RequestContext | None, adding: int) -> None:
    """Refuse work that would take a level past its cap, before it is done (an upload
    of ``adding`` bytes). Not ordered like :func:`check_level`: uploads finishing at
    the same moment may pass the cap by what they hold together."""
    cap = limits(metric).get("max")
    if cap is None or exempt(ctx):
        return
    try:
        level = levels.read(metric)
    except Exception:
        log.warning("could not read the level of %s", metric, exc_info=True)
        return
    if level + max(adding, 0) > cap or (adding <= 0 and level >= cap):
        metrics.quota_refused(metric)
        raise level_error(metric, cap)
