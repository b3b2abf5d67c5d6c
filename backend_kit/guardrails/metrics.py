"""Prometheus metrics (``prometheus_client``; optional: without it these are no-ops).

With several worker processes (uvicorn ``--workers``, Celery), set the environment
variable ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the processes of
one host before they start: each process writes its samples there and ``/metrics``
adds them up (:func:`render`).
"""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any

from . import app_settings

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


_lock = threading.Lock()
_built: list[Any] = []  # the instruments (or None without prometheus_client), once built


def _metrics() -> Any:
    # The first requests of a process can arrive together on several threads: one
    # builds the instruments, the others wait and use them (building them twice would
    # fail, since a name registers only once).
    if not _built:
        with _lock:
            if not _built:
                _built.append(_build())
    return _built[0]


def _build() -> Any:
    if not available():
        return None
    from prometheus_client import Counter, Gauge, Histogram

    return SimpleNamespace(
        # (route, method, status) -> the labelled request counter and latency histogram:
        # labels() validates and looks its child up under a lock on every call
        request_children={},
        requests=Counter("bk_http_requests", "Parse API requests", ["route", "method", "status"]),
        latency=Histogram(
            "bk_http_request_duration_seconds",
            "Parse API request duration",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
        ),
        errors=Counter("bk_parse_errors", "Parse error answers by code", ["route", "code"]),
        rate_limited=Counter(
            "bk_rate_limited", "Requests refused by a rate limit", ["group", "scope"]
        ),
        quota_refused=Counter("bk_quota_refusals", "Work refused by a usage cap", ["metric"]),
        ws_open=Gauge(
            "bk_realtime_connections",
            "Open LiveQuery WebSocket connections",
            multiprocess_mode="livesum",
        ),
        ws_total=Counter("bk_realtime_connections_opened", "LiveQuery connections opened"),
        ws_frames=Counter("bk_realtime_frames", "LiveQuery frames sent, by op", ["op"]),
        jobs=Counter(
            "bk_jobs", "Job runs by outcome (started, succeeded, failed)", ["job", "outcome"]
        ),
        pushes=Counter("bk_pushes", "Pushes by outcome (started, succeeded, failed)", ["outcome"]),
        deliveries=Counter("bk_push_deliveries", "Push deliveries by outcome", ["outcome"]),
    )


def enabled() -> bool:
    return bool(app_settings.get("METRICS_ENABLED")) and _metrics() is not None


def _get() -> Any:
    return _metrics() if app_settings.get("METRICS_ENABLED") else None


def request_done(route: str, method: str, status: int, seconds: float, code: Any) -> None:
    m = _get()
    if m is None:
        return
    key = (route, method, status)
    children = m.request_children.get(key)
    if children is None:
        children = m.request_children.setdefault(
            key, (m.requests.labels(route, method, str(status)), m.latency.labels(route, method))
        )
    children[0].inc()
    children[1].observe(seconds)
    if status >= 400 and code is not None:
        m.errors.labels(route, str(code)).inc()


def rate_limited(group: str, scope: str) -> None:
    m = _get()
    if m is not None:
        m.rate_limited.labels(group, scope).inc()


def quota_refused(metric: str) -> None:
    m = _get()
    if m is not None:
        m.quota_refused.labels(metric).inc()


def connection_opened() -> None:
    m = _get()
    if m is not None:
        m.ws_open.inc()
        m.ws_total.inc()


def connection_closed() -> None:
    m = _get()
    if m is not None:
        m.ws_open.dec()


def frame_sent(text: Any) -> None:
    m = _get()
    if m is None:
        return
    op = "other"
    # every server frame starts with its op: {"op":"create",... (no JSON parse per frame)
    if isinstance(text, str) and text.startswith('{"op":"'):
        end = text.find('"', 7)
        if 0 < end < 40:
            op = text[7:end]
    m.ws_frames.labels(op).inc()


def job_outcome(job: str, outcome: str) -> None:
    m = _get()
    if m is not None:
        m.jobs.labels(job or "?", outcome).inc()


def push_outcome(outcome: str) -> None:
    m = _get()
    if m is not None:
        m.pushes.labels(outcome).inc()


def push_deliveries(outcome: str, amount: int) -> None:
    m = _get()
    if m is not None and amount > 0:
        m.deliveries.labels(outcome).inc(amount)


# --- the scrape ----------------------------------------------------------------------


def render() -> tuple[bytes, str]:
    """The exposition text of every process (multiprocess mode) plus the gauges read at
    scrape time: queue depths and usage."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    _metrics()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        _forget_dead_processes(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    registry.register(ScrapeCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward:
    """Shows the process's default registry through a scrape registry."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Any:
        return self.registry.collect()


def _forget_dead_processes(directory: str) -> None:
    """A killed worker cannot mark itself dead: drop its live gauges (same host)."""
    from prometheus_client import multiprocess

    for name in os.listdir(directory):
        if not name.startswith("gauge_live"):
            continue
        try:
            pid = int(name.rsplit("_", 1)[1].split(".")[0])
            os.kill(pid, 0)
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)
        except PermissionError:
            continue


class ScrapeCollector:
    """Gauges computed when Prometheus asks: broker queue depths and usage."""

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily(
            "bk_queue_depth", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for queue, count in queue_depths().items():
            depth.add_metric([queue], count)
        yield depth
        from . import quotas

        usage = GaugeMetricFamily(
            "bk_usage", "Usage in the current period", labels=["metric", "period"]
        )
        caps = GaugeMetricFamily("bk_quota_limit", "Usage caps", labels=["metric", "period"])
        for row in quotas.report():
            for period, value in (("day", row.day), ("month", row.month), ("level", row.level)):
                if value is not None:
                    usage.add_metric([row.metric, period], value)
            for period, cap in (row.caps or {}).items():
                caps.add_metric([row.metric, period], cap)
        yield usage
        yield caps


def queue_names() -> list[str]:
    configured = app_settings.get("METRICS_QUEUES")
    if isinstance(configured, (list, tuple)):
        return [str(q) for q in configured]
    from django.apps import apps

    from ..conf import bk_settings

    names = []
    if apps.is_installed("backend_kit.jobs"):
        names.append(bk_settings.JOBS_QUEUE or "celery")
    if apps.is_installed("backend_kit.push"):
        push = bk_settings.get("PUSH") or {}
        queue = push.get("QUEUE") if isinstance(push, dict) else None
        names.append(queue or bk_settings.JOBS_QUEUE or "celery")
    return list(dict.fromkeys(names))


def queue_depths() -> dict[str, int]:
    """Depth of each queue on the jobs' Celery broker ({} without a broker)."""
    from django.apps import apps

    if not apps.is_installed("backend_kit.jobs"):
        return {}
    try:
        from ..jobs import backends

        if not backends.uses_celery():
            return {}
        app = backends.celery_app()
    except Exception:
        return {}
    found: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=float(app_settings.get("HEALTH_TIMEOUT")))
            for queue in queue_names():
                # a failed passive declare closes its AMQP channel: one channel each
                try:
                    with conn.channel() as channel:
                        declared = channel.queue_declare(queue=queue, passive=True)
                        found[queue] = int(declared.message_count)
                except Exception:
                    found[queue] = 0  # not declared yet: nothing waits in it
    except Exception:
        return found
    return found
