"""Guardrails settings, read from ``BACKEND_KIT["GUARDRAILS"]`` (a dict; every key optional).

Documented in docs/reference/settings.md (section ``GUARDRAILS``) and docs/guardrails/.
Shapes are checked at start by the system checks ``backend_kit.E10x``; at run time an
entry the checks would refuse is ignored rather than failing a request.
"""

from __future__ import annotations

from typing import Any

from ..conf import bk_settings

# Route groups a rate limit applies to, and who a limit counts per.
GROUPS = ("auth", "writes", "reads", "files", "functions", "push")
SCOPES = ("user", "installation", "ip")
# Usage that flows per period, and usage that is a level at any moment.
FLOWS = ("requests", "file_bytes_served", "realtime_connections", "pushes_sent", "job_runs")
LEVELS = ("objects_stored", "file_bytes_stored")
PERIODS = ("day", "month")
# The longest rate-limit window: counters live in the cache that long.
MAX_WINDOW = 31 * 24 * 3600

DEFAULTS: dict[str, Any] = {
    # --- audit trail ---------------------------------------------------------------
    "AUDIT_ENABLED": True,
    # Days an audit entry is kept; None keeps them forever.
    "AUDIT_RETENTION_DAYS": 365,
    # A job name to register the retention clean-up under (needs backend_kit.cloud).
    "AUDIT_CLEANUP_JOB": None,
    # Keys whose values are replaced by "<redacted>" wherever they appear in an entry.
    "AUDIT_REDACT_FIELDS": ["password", "authData", "sessionToken", "_hashed_password"],
    # Models ("app_label.model") whose admin changes are not recorded (noise).
    "AUDIT_IGNORED_MODELS": [
        "sessions.session",
        "admin.logentry",
        "contenttypes.contenttype",
        "django_celery_beat.periodictasks",
    ],
    # --- rate limits ---------------------------------------------------------------
    # {group: {scope: [count, seconds]}}, e.g. {"writes": {"user": [60, 60]}}.
    "RATE_LIMITS": {},
    # {class name: {group: {scope: [count, seconds]}}}: replaces the group's limits there.
    "CLASS_RATE_LIMITS": {},
    # {function or job name: {scope: [count, seconds]}}: replaces the functions group's.
    "FUNCTION_RATE_LIMITS": {},
    "RATE_LIMITS_APPLY_TO_MASTER": False,
    # Django cache alias of the counters (None: BACKEND_KIT["CACHE_ALIAS"]); Redis
    # makes limits and quotas cluster-wide.
    "CACHE_ALIAS": None,
    # --- usage and quotas ----------------------------------------------------------
    # {metric: {"day": n, "month": n}} for flows, {metric: {"max": n}} for levels.
    "QUOTAS": {},
    # Share of a quota at which the warning goes out (signal, admin notice, email).
    "QUOTA_WARNING_AT": 0.8,
    # Addresses the warning and the cap notice are mailed to.
    "QUOTA_EMAILS": [],
    "QUOTAS_APPLY_TO_MASTER": False,
    # Count usage even for metrics without a quota (shown in the admin and metrics).
    "TRACK_USAGE": True,
    # Seconds a process gathers the counts of metrics without a quota before adding
    # them to the shared counters in one round trip (0: one round trip per count).
    # Metrics with a quota are always counted at once: the cap must hold exactly.
    "USAGE_FLUSH_SECONDS": 1.0,
    # --- metrics and health ----------------------------------------------------------
    "METRICS_ENABLED": True,
    # A bearer token Prometheus sends; the master key works too.
    "METRICS_TOKEN": None,
    # Celery queues whose depth is reported (None: the jobs and push queues).
    "METRICS_QUEUES": None,
    # Seconds each deep health check may take.
    "HEALTH_TIMEOUT": 3.0,
    # --- beat lock (LockedDatabaseScheduler) ------------------------------------------
    # Redis URL of the lock (None: the Celery broker if it is Redis, else the cache).
    "BEAT_LOCK_URL": None,
    "BEAT_LOCK_KEY": "backend_kit:beat-lock",
    # Seconds a beat's lock lasts without renewal: how long a standby waits after a crash.
    "BEAT_LOCK_TTL": 30,
}


def user_settings() -> dict[str, Any]:
    conf = bk_settings.get("GUARDRAILS")
    return conf if isinstance(conf, dict) else {}


# (the GUARDRAILS dict, it merged over DEFAULTS): a request reads a dozen settings, and
# a new dict (override_settings, a reload) is a new identity, so a change is seen at once
_merged: tuple[Any, dict[str, Any]] = (None, {})


def get(name: str) -> Any:
    global _merged
    conf = bk_settings.get("GUARDRAILS")
    source, values = _merged
    if source is not conf or not values:
        values = {**DEFAULTS, **user_settings()}
        _merged = (conf, values)
    return values[name]


def cache_alias() -> str:
    return str(get("CACHE_ALIAS") or bk_settings.CACHE_ALIAS)


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def limit_pair(value: Any) -> tuple[int, int] | None:
    """``[count, seconds]`` as a tuple, or None when it is not a valid pair."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    count, window = value
    if not positive_int(count) or not positive_int(window) or window > MAX_WINDOW:
        return None
    return int(count), int(window)
