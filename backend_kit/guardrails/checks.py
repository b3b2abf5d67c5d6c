"""System checks of the guardrails app (ids ``backend_kit.E10x`` / ``W10x``).

A limit or quota set to nonsense is an error here, reported by ``check``, ``migrate``
and ``runserver`` before anything serves; at run time such an entry is ignored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from . import app_settings as conf

PAIR_HINT = "Use [count, seconds]: two positive integers, the window at most 31 days."


def _pair_errors(where: str, spec: Any, check_id: str) -> list[Any]:
    if not isinstance(spec, dict):
        return [Error(f"{where} must be a dict of scope -> [count, seconds].", id=check_id)]
    errors = []
    for scope, value in spec.items():
        if scope not in conf.SCOPES:
            errors.append(
                Error(
                    f"{where} has an unknown scope {scope!r}.",
                    hint=f"Scopes: {', '.join(conf.SCOPES)}.",
                    id=check_id,
                )
            )
        elif conf.limit_pair(value) is None:
            errors.append(Error(f"{where}[{scope!r}] is {value!r}.", hint=PAIR_HINT, id=check_id))
    return errors


def _rate_limit_errors() -> list[Any]:
    errors: list[Any] = []
    groups = conf.get("RATE_LIMITS")
    if not isinstance(groups, dict):
        return [
            Error(
                "GUARDRAILS['RATE_LIMITS'] must be a dict of group -> limits.",
                id="backend_kit.E101",
            )
        ]
    for group, spec in groups.items():
        if group not in conf.GROUPS:
            errors.append(
                Error(
                    f"GUARDRAILS['RATE_LIMITS'] has an unknown route group {group!r}.",
                    hint=f"Groups: {', '.join(conf.GROUPS)}.",
                    id="backend_kit.E101",
                )
            )
        else:
            errors += _pair_errors(
                f"GUARDRAILS['RATE_LIMITS'][{group!r}]", spec, "backend_kit.E101"
            )
    classes = conf.get("CLASS_RATE_LIMITS")
    if not isinstance(classes, dict):
        errors.append(
            Error("GUARDRAILS['CLASS_RATE_LIMITS'] must be a dict.", id="backend_kit.E102")
        )
    else:
        for class_name, per_group in classes.items():
            where = f"GUARDRAILS['CLASS_RATE_LIMITS'][{class_name!r}]"
            if not isinstance(per_group, dict):
                errors.append(
                    Error(f"{where} must be a dict of group -> limits.", id="backend_kit.E102")
                )
                continue
            for group, spec in per_group.items():
                if group not in ("reads", "writes"):
                    errors.append(
                        Error(
                            f"{where} has the group {group!r}; classes are limited per "
                            "'reads' and 'writes'.",
                            id="backend_kit.E102",
                        )
                    )
                else:
                    errors += _pair_errors(f"{where}[{group!r}]", spec, "backend_kit.E102")
    functions = conf.get("FUNCTION_RATE_LIMITS")
    if not isinstance(functions, dict):
        errors.append(
            Error("GUARDRAILS['FUNCTION_RATE_LIMITS'] must be a dict.", id="backend_kit.E102")
        )
    else:
        for name, spec in functions.items():
            errors += _pair_errors(
                f"GUARDRAILS['FUNCTION_RATE_LIMITS'][{name!r}]", spec, "backend_kit.E102"
            )
    return errors


def _quota_errors() -> list[Any]:
    errors: list[Any] = []
    quotas = conf.get("QUOTAS")
    if not isinstance(quotas, dict):
        return [
            Error("GUARDRAILS['QUOTAS'] must be a dict of metric -> caps.", id="backend_kit.E103")
        ]
    for metric, spec in quotas.items():
        where = f"GUARDRAILS['QUOTAS'][{metric!r}]"
        if metric not in conf.FLOWS + conf.LEVELS:
            errors.append(
                Error(
                    f"{where}: unknown metric.",
                    hint=f"Metrics: {', '.join(conf.FLOWS + conf.LEVELS)}.",
                    id="backend_kit.E103",
                )
            )
            continue
        allowed = conf.PERIODS if metric in conf.FLOWS else ("max",)
        if not isinstance(spec, dict) or not spec:
            errors.append(
                Error(
                    f"{where} must be a dict of {' / '.join(allowed)} -> cap.",
                    id="backend_kit.E103",
                )
            )
            continue
        for period, cap in spec.items():
            if period not in allowed:
                kind = (
                    "a flow, capped per day and month"
                    if metric in conf.FLOWS
                    else "a level, capped with 'max'"
                )
                errors.append(
                    Error(f"{where} has {period!r}; {metric} is {kind}.", id="backend_kit.E103")
                )
            elif not conf.positive_int(cap):
                errors.append(
                    Error(
                        f"{where}[{period!r}] is {cap!r}, not a positive integer.",
                        id="backend_kit.E103",
                    )
                )
        day, month = spec.get("day"), spec.get("month")
        if conf.positive_int(day) and conf.positive_int(month) and int(day or 0) > int(month or 0):
            errors.append(
                Error(
                    f"{where}: the daily cap ({day}) is above the monthly cap ({month}).",
                    hint="A day can never use more than its month.",
                    id="backend_kit.E103",
                )
            )
    share = conf.get("QUOTA_WARNING_AT")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        errors.append(
            Error(
                f"GUARDRAILS['QUOTA_WARNING_AT'] is {share!r}.",
                hint="A share of the cap: a number above 0 and at most 1 (0.8 warns at 80%).",
                id="backend_kit.E104",
            )
        )
    emails = conf.get("QUOTA_EMAILS")
    if not isinstance(emails, (list, tuple)) or not all(
        isinstance(e, str) and "@" in e for e in emails
    ):
        errors.append(
            Error(
                "GUARDRAILS['QUOTA_EMAILS'] must be a list of e-mail addresses.",
                id="backend_kit.E104",
            )
        )
    return errors


def _other_errors() -> list[Any]:
    errors: list[Any] = []
    days = conf.get("AUDIT_RETENTION_DAYS")
    if days is not None and not conf.positive_int(days):
        errors.append(
            Error(
                f"GUARDRAILS['AUDIT_RETENTION_DAYS'] is {days!r}.",
                hint="A positive number of days, or None to keep entries forever.",
                id="backend_kit.E105",
            )
        )
    for name in ("AUDIT_REDACT_FIELDS", "AUDIT_IGNORED_MODELS"):
        value = conf.get(name)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            errors.append(
                Error(f"GUARDRAILS[{name!r}] must be a list of strings.", id="backend_kit.E105")
            )
    job = conf.get("AUDIT_CLEANUP_JOB")
    if job is not None and (not isinstance(job, str) or not job):
        errors.append(
            Error(
                "GUARDRAILS['AUDIT_CLEANUP_JOB'] must be None or a job name.", id="backend_kit.E105"
            )
        )
    alias = conf.get("CACHE_ALIAS")
    if alias is not None and alias not in getattr(settings, "CACHES", {}):
        errors.append(
            Error(
                f"GUARDRAILS['CACHE_ALIAS'] names no cache: {alias!r}.",
                hint="Use an alias of settings.CACHES, or None for BACKEND_KIT['CACHE_ALIAS'].",
                id="backend_kit.E106",
            )
        )
    token = conf.get("METRICS_TOKEN")
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        errors.append(
            Error(
                "GUARDRAILS['METRICS_TOKEN'] must be None or a secret of at least 16 characters.",
                id="backend_kit.E107",
            )
        )
    queues = conf.get("METRICS_QUEUES")
    if queues is not None and (
        not isinstance(queues, (list, tuple)) or not all(isinstance(q, str) for q in queues)
    ):
        errors.append(
            Error(
                "GUARDRAILS['METRICS_QUEUES'] must be None or a list of queue names.",
                id="backend_kit.E107",
            )
        )
    timeout = conf.get("HEALTH_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        errors.append(
            Error(
                f"GUARDRAILS['HEALTH_TIMEOUT'] is {timeout!r}, not a positive number.",
                id="backend_kit.E107",
            )
        )
    if not conf.positive_int(conf.get("BEAT_LOCK_TTL")) or conf.get("BEAT_LOCK_TTL") < 2:
        errors.append(
            Error(
                "GUARDRAILS['BEAT_LOCK_TTL'] must be an integer of at least 2 seconds.",
                id="backend_kit.E107",
            )
        )
    for name in ("BEAT_LOCK_KEY",):
        if not isinstance(conf.get(name), str) or not conf.get(name):
            errors.append(
                Error(f"GUARDRAILS[{name!r}] must be a non-empty string.", id="backend_kit.E107")
            )
    url = conf.get("BEAT_LOCK_URL")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://"))
    ):
        errors.append(
            Error(
                "GUARDRAILS['BEAT_LOCK_URL'] must be None or a redis:// URL.", id="backend_kit.E107"
            )
        )
    return errors


@register(Tags.compatibility)
def check_guardrails(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from ..conf import bk_settings

    raw = bk_settings.get("GUARDRAILS")
    if not isinstance(raw, dict):
        return [Error("BACKEND_KIT['GUARDRAILS'] must be a dict.", id="backend_kit.E100")]
    errors: list[Any] = [
        Warning(
            f"Unknown GUARDRAILS setting {key!r}.",
            hint="See docs/reference/settings.md (GUARDRAILS).",
            id="backend_kit.W100",
        )
        for key in raw
        if key not in conf.DEFAULTS
    ]
    errors += _rate_limit_errors()
    errors += _quota_errors()
    errors += _other_errors()
    middleware = "backend_kit.guardrails.middleware.GuardrailsMiddleware"
    if conf.get("AUDIT_ENABLED") and middleware not in getattr(settings, "MIDDLEWARE", []):
        errors.append(
            Warning(
                "GuardrailsMiddleware is not in MIDDLEWARE: admin changes to models other than "
                "Parse objects, schemas and config are not audited, and file downloads are "
                "neither limited nor counted.",
                hint=f"Add {middleware!r} after AuthenticationMiddleware.",
                id="backend_kit.W102",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_guardrails_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from ..conf import bk_settings

    if not isinstance(bk_settings.get("GUARDRAILS"), dict):
        return []
    errors: list[Any] = []
    from django.core.cache import caches

    alias = conf.cache_alias()
    limited = bool(
        conf.get("RATE_LIMITS") or conf.get("CLASS_RATE_LIMITS") or conf.get("FUNCTION_RATE_LIMITS")
    )
    if (limited or conf.get("QUOTAS")) and alias in getattr(settings, "CACHES", {}):
        backend = type(caches[alias]).__name__
        if backend in ("LocMemCache", "DummyCache", "FileBasedCache", "DatabaseCache"):
            errors.append(
                Warning(
                    f"Rate limits and quotas count in the {alias!r} cache ({backend}): "
                    "not shared, or not atomic, across processes.",
                    hint="Use Redis (django.core.cache.backends.redis.RedisCache) so limits "
                    "hold cluster-wide.",
                    id="backend_kit.W101",
                )
            )
    from . import metrics

    if conf.get("METRICS_ENABLED") and not metrics.available():
        errors.append(
            Warning(
                "prometheus_client is not installed: /metrics answers 501.",
                hint="pip install 'django-backend-kit[metrics]', or set METRICS_ENABLED False.",
                id="backend_kit.W103",
            )
        )
    return errors
