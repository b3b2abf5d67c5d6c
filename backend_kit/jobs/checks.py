"""System checks of the jobs app (ids ``backend_kit.E06x`` / ``W06x``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, Tags, Warning, register

from ..cloud.registry import registry
from . import app_settings

# Brokers that hand an unacknowledged message to another worker after a timeout.
VISIBILITY_BROKERS = ("redis://", "rediss://", "sqs://", "redis+socket://")


@register()
def check_jobs(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    errors: list[Any] = []
    if not apps.is_installed("backend_kit.cloud"):
        errors.append(
            Error(
                "backend_kit.jobs needs 'backend_kit.cloud' in INSTALLED_APPS.",
                hint="Jobs are declared in cloud modules with @cloud.job.",
                id="backend_kit.E060",
            )
        )
    runner = app_settings.get("JOBS_RUNNER")
    if runner not in app_settings.RUNNERS:
        errors.append(
            Error(
                f"BACKEND_KIT['JOBS_RUNNER'] is {runner!r}.",
                hint="Use 'auto', 'celery' or 'thread'.",
                id="backend_kit.E061",
            )
        )
    conf = _celery_conf(errors)
    if conf is not None:
        errors.extend(_visibility_warnings(conf))
    return errors


def _celery_conf(errors: list[Any]) -> Any:
    from .backends import celery_app

    try:
        return celery_app().conf
    except ImportError as exc:
        errors.append(
            Error(
                f"The Celery app for jobs cannot be loaded: {exc}",
                hint="Install the 'jobs' extra and check BACKEND_KIT['JOBS_CELERY_APP'].",
                id="backend_kit.E062",
            )
        )
        return None


def _visibility_warnings(conf: Any) -> list[Any]:
    broker = str(conf.broker_url or "")
    if not broker.startswith(VISIBILITY_BROKERS):
        return []
    timeout = float((conf.broker_transport_options or {}).get("visibility_timeout", 3600))
    grace = int(app_settings.get("JOBS_TIME_LIMIT_GRACE"))
    too_long = [
        name for name, entry in registry.jobs.items() if _longest_hold(entry, grace) >= timeout
    ]
    if not too_long:
        return []
    return [
        Warning(
            f"Jobs {', '.join(sorted(too_long))} may run longer than the broker's "
            f"visibility_timeout ({timeout:g} s): the broker would hand them to a second "
            "worker while the first still runs them.",
            hint="Raise CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] above the "
            "longest time limit plus JOBS_TIME_LIMIT_GRACE (and the longest retry delay), "
            "or lower those.",
            id="backend_kit.W060",
        )
    ]


def _longest_hold(entry: Any, grace: int) -> float:
    """How long a worker may keep a job's message unacknowledged: while it runs, or
    while it waits for the countdown of a retry."""
    from .runner import retry_delay

    retries = int(entry.options.get("retries") or 0)
    longest_retry = retry_delay(entry, retries - 1) if retries else 0.0
    return max(app_settings.time_limit_of(entry.options) + grace, longest_retry)


@register(Tags.compatibility, deploy=True)
def check_jobs_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from .backends import uses_celery

    try:
        in_process = not uses_celery()
    except ImportError:
        return []  # reported as E062
    if not in_process:
        return []
    return [
        Warning(
            "Jobs run in threads of the web process: a restart loses the jobs in flight "
            "and nothing retries them.",
            hint="Configure a Celery broker (Redis or RabbitMQ) and run a worker and beat.",
            id="backend_kit.W061",
        )
    ]
