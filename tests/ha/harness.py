"""Real processes for the HA tests: a migrated PostgreSQL database, Redis, and a cluster
of uvicorn servers, Celery workers and beats of ``tests.ha.server_settings``.

Each process runs in its own process group, so :meth:`Proc.kill` (SIGKILL to the
group) takes a uvicorn server or a Celery worker with its pool children at once, the
way a machine or a container dies. Everything is torn down by the fixtures whatever
happened, and each cluster keeps to its own key prefix and queue in Redis.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests import processes
from tests.processes import ROOT, dsn, free_port, poll_until, stop_group

APP_ID = "ha-test-app"
JS_KEY = "ha-test-js-key"
REST_KEY = "ha-test-rest-key"
MASTER_KEY = "ha-test-master-key"
START_TIMEOUT = 90.0


def base_env(database_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ha.server_settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BK_HA_PREFIX": prefix,
        "BACKEND_KIT_APP_ID": APP_ID,
        "BACKEND_KIT_JAVASCRIPT_KEY": JS_KEY,
        "BACKEND_KIT_REST_API_KEY": REST_KEY,
        "BACKEND_KIT_MASTER_KEY": MASTER_KEY,
        "BACKEND_KIT_DATA_DIR": tempfile.gettempdir() + "/bk_ha_data",
        "DJANGO_SECRET_KEY": "ha-tests-" + "x" * 50,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "8",
    }
    for name in ("BACKEND_KIT_CONFORMANCE", "CELERY_BROKER_URL", "BK_HA_GUARDRAILS", "BK_HA_TICK"):
        env.pop(name, None)
    return env


@contextmanager
def scratch_database(redis_url: str) -> Iterator[str]:
    """A new PostgreSQL database migrated with the HA settings; dropped afterwards."""
    with processes.scratch_database(
        "bk_ha", migrate_env=lambda url: base_env(url, redis_url, "bkha-migrate")
    ) as url:
        yield url


class Proc:
    """One server process (in its own process group) with its log file."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def address(self) -> tuple[str, int]:
        assert self.port is not None
        return ("127.0.0.1", self.port)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def is_ready(self) -> bool:
        if self.port is not None:
            try:
                return httpx.get(self.origin + "/parse/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        marker = " ready." if "worker" in self.cmd else "beat: Starting..."
        return marker in self.log()

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing gets to clean up."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it lingers."""
        stop_group(self.process)


class Cluster:
    """Servers, workers and beats sharing one database, one Redis and one prefix."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        *,
        guardrails: dict[str, Any] | None = None,
        tick: float | None = None,
        broker_url: str | None = None,
    ) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.broker_url = broker_url or redis_url
        self.prefix = "bkha-" + secrets.token_hex(4)
        self.dir = Path(tempfile.mkdtemp(prefix="bk_ha_"))
        self.clock_file = self.dir / "clock"
        self.clock_file.write_text("0")
        self.env = base_env(database_url, redis_url, self.prefix)
        if broker_url:
            self.env["CELERY_BROKER_URL"] = broker_url
        # beats of this cluster lock among themselves only
        guardrails = {"BEAT_LOCK_KEY": f"{self.prefix}:beat-lock", **(guardrails or {})}
        self.env["BK_HA_GUARDRAILS"] = json.dumps(guardrails)
        self.env["BK_HA_CLOCK_FILE"] = str(self.clock_file)
        if tick is not None:
            self.env["BK_HA_TICK"] = str(tick)
        # the Prometheus samples of every process of the cluster, added up by /metrics
        self.metrics_dir = self.dir / "metrics"
        self.metrics_dir.mkdir()
        self.env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        self.procs: list[Proc] = []

    def _proc(self, kind: str, cmd: list[str]) -> Proc:
        name = f"{kind}{sum(p.name.startswith(kind) for p in self.procs) + 1}"
        proc = Proc(name, cmd, self.env, self.dir / f"{name}.log")
        self.procs.append(proc)
        return proc

    def asgi(self) -> Proc:
        port = free_port()
        proc = self._proc(
            "asgi",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.ha.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
                "--lifespan",
                "off",
            ],
        )
        proc.port = port
        return proc

    def worker(self, concurrency: int = 2) -> Proc:
        name = f"w{len(self.procs) + 1}-{self.prefix}@%h"
        return self._proc(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "example_project",
                "worker",
                "-Q",
                self.prefix,
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                name,
                "-l",
                "INFO",
            ],
        )

    def beat(self) -> Proc:
        return self._proc(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "example_project",
                "beat",
                "-l",
                "INFO",
                "--max-interval",
                "1",
                "-s",
                str(self.dir / f"beat-{len(self.procs)}"),
            ],
        )

    def start(self, *procs: Proc) -> None:
        """Start processes together (they boot in parallel); return once all serve."""
        for proc in procs:
            proc.start()
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(procs)
        while waiting:
            for proc in list(waiting):
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited:\n{proc.log()[-4000:]}")
                if proc.is_ready():
                    waiting.remove(proc)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(
                    f"{', '.join(p.name for p in waiting)} did not start:\n{self.logs()}"
                )
            time.sleep(0.1)

    def shift_clock(self, seconds: float) -> None:
        """Move the servers' quota clock (see tests/ha/asgi.py)."""
        self.clock_file.write_text(str(seconds))

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-tail:]}" for p in self.procs)

    def clean_up(self) -> None:
        for proc in self.procs:
            proc.stop()
        if self.broker_url.startswith("amqp"):
            from kombu import Connection

            with Connection(self.broker_url, connect_timeout=5) as conn:
                channel = conn.channel()
                channel.queue_delete(self.prefix)
                channel.exchange_delete(self.prefix)
        import redis

        client = redis.Redis.from_url(self.redis_url)
        for key in client.scan_iter(match=f"*{self.prefix}*", count=1000):
            client.delete(key)
        client.close()
        if os.environ.get("BK_HA_KEEP_LOGS"):
            print(f"[ha] logs kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- the Parse REST API and the database, as the test sees them -------------------------------


def headers(*, master: bool = False, installation: str | None = None) -> dict[str, str]:
    found = {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": REST_KEY}
    if master:
        found["X-Parse-Master-Key"] = MASTER_KEY
    if installation:
        found["X-Parse-Installation-Id"] = installation
    return found


def create_class(origin: str, name: str, fields: dict[str, str]) -> None:
    body = {"className": name, "fields": {k: {"type": v} for k, v in fields.items()}}
    r = httpx.post(
        f"{origin}/parse/schemas/{name}", json=body, headers=headers(master=True), timeout=30
    )
    assert r.status_code == 200, r.text


def query(database_url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def objects(database_url: str, class_name: str) -> list[tuple[str, dict[str, Any]]]:
    """``(objectId, data)`` of every stored object of a class."""
    return [
        (row[0], row[1])
        for row in query(
            database_url,
            "SELECT object_id, data FROM backend_kit_objects_parseobject WHERE class_name = %s",
            [class_name],
        )
    ]


def sample_sum(text: str, name: str, **labels: str) -> float:
    """The sum of the Prometheus samples ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(predicate: Callable[[], Any], what: str, timeout: float, cluster: Cluster) -> Any:
    try:
        return poll_until(predicate, what, timeout, interval=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from None
