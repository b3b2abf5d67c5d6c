"""Real ``celery worker`` processes for the push tests (Redis database 12).

Each worker runs in its own process group against the test process's PostgreSQL
test database, on a queue named for this test session, with the push settings the
test gives it (transports pointed at the stand-ins in the test process).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from .worker_app import BROKER_URL

ROOT = Path(__file__).resolve().parents[2]


class PushWorkers:
    def __init__(self, database_name: str) -> None:
        self.database_name = database_name
        self.queue = f"bk-push-tests-{os.getpid()}-{secrets.token_hex(3)}"
        self.log_dir = Path(tempfile.mkdtemp(prefix="bk_push_logs_"))
        self.workers: list[subprocess.Popen[bytes]] = []
        self.count = 0

    def start(self, push: dict[str, Any], *, concurrency: int = 1) -> subprocess.Popen[bytes]:
        """A worker with the given ``PUSH`` settings; returns once it consumes the queue."""
        self.count += 1
        log_path = self.log_dir / f"{self.count:02d}-worker.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.push.worker_settings",
            "BK_PUSH_TEST_DB": self.database_name,
            "BK_PUSH_TEST_QUEUE": self.queue,
            "BK_PUSH_TEST_REDIS": BROKER_URL,
            "BK_PUSH_TEST_PUSH": json.dumps({**push, "QUEUE": self.queue}),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.push.worker_app",
                    "worker",
                    "-Q",
                    self.queue,
                    "--pool=prefork",
                    f"--concurrency={concurrency}",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"push{self.count}-{self.queue}@%h",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(process)
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop_all()
                pytest.fail(f"celery did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        return process

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)
                except ProcessLookupError:
                    pass
        self.workers = []

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def clean_up(self) -> None:
        import redis

        self.stop_all()
        redis.Redis.from_url(BROKER_URL).delete(self.queue)
        shutil.rmtree(self.log_dir, ignore_errors=True)
