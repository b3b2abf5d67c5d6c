"""``LockedDatabaseScheduler``: run two or more ``celery beat``, only one schedules.

django-celery-beat's scheduler with a Redis lock around it. The beat that holds the
lock (``BEAT_LOCK_KEY``, expiring after ``BEAT_LOCK_TTL`` seconds unless renewed on
every tick) sends the due tasks and writes each run's time back at once; the others
wait. When the holder dies, its lock expires and a standby takes over, re-reading the
schedule from the database first, so a task is neither lost nor sent twice::

    celery -A proj beat --scheduler backend_kit.guardrails.beat:LockedDatabaseScheduler
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from . import app_settings

log = logging.getLogger("backend_kit.guardrails.beat")


def lock_client(app: Any) -> Any:
    """A redis-py client for the lock: the setting, else the Redis broker, else the cache."""
    import redis

    url = app_settings.get("BEAT_LOCK_URL")
    broker = str(getattr(app.conf, "broker_url", "") or "") if app is not None else ""
    if not url and broker.startswith(("redis://", "rediss://")):
        url = broker
    if url:
        return redis.Redis.from_url(url)
    from . import counters

    found = counters._redis_client(counters.cache(), "beat-lock")
    if found is None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "LockedDatabaseScheduler needs Redis: set GUARDRAILS['BEAT_LOCK_URL'], "
            "a redis:// broker, or a Redis cache."
        )
    return found[0]


class LockedDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock: Any = None
        self.holding = False
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        super().__init__(*args, **kwargs)
        # the holder writes every run's time at once, so a successor never repeats it
        self.sync_every_tasks = 1

    @property
    def ttl(self) -> int:
        return max(int(app_settings.get("BEAT_LOCK_TTL")), 2)

    def _get_lock(self) -> Any:
        if self._lock is None:
            self._lock = lock_client(self.app).lock(
                str(app_settings.get("BEAT_LOCK_KEY")), timeout=self.ttl, thread_local=False
            )
        return self._lock

    def hold(self) -> bool:
        """Renew the lock if this beat has it, else try to take it; True when held."""
        import redis

        try:
            lock = self._get_lock()
            if self.holding:
                try:
                    lock.reacquire()
                    return True
                except redis.exceptions.LockError:
                    self.holding = False
                    log.warning("beat %s lost the scheduling lock; standing by", self.identity)
            if lock.acquire(blocking=False):
                self.holding = True
                # another beat may have run tasks meanwhile: read their times afresh
                self._initial_read = True
                self._heap = None
                log.warning("beat %s holds the scheduling lock and schedules", self.identity)
                return True
        except redis.exceptions.RedisError:
            if self.holding:
                log.warning("beat %s cannot reach Redis; standing by", self.identity, exc_info=True)
            self.holding = False
        return False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.hold():
            return float(min(self.max_interval, max(1, self.ttl // 3)))
        interval = super().tick(*args, **kwargs)
        # wake up in time to renew the lock before it expires
        return float(min(interval, max(1, self.ttl // 3)))

    def sync(self) -> None:
        if self.holding:
            super().sync()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.holding and self._lock is not None:
                try:
                    self._lock.release()
                except Exception:
                    pass
                self.holding = False
