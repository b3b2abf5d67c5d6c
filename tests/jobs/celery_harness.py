"""Real ``celery worker`` and ``celery beat`` processes for the jobs tests.

Each process runs in its own process group (so a SIGKILL takes its pool children
too) against the test process's PostgreSQL test database and a Redis database of
the tests' own, on a queue named for this test session.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.projects.celery.app import BROKER_URL

ROOT = Path(__file__).resolve().parents[2]


def redis_reachable(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class CeleryProcesses:
    def __init__(self, database_name: str) -> None:
        self.queue = f"bk-jobs-tests-{os.getpid()}-{secrets.token_hex(3)}"
        self.mail_dir = Path(tempfile.mkdtemp(prefix="bk_jobs_mail_"))
        self.log_dir = Path(tempfile.mkdtemp(prefix="bk_jobs_logs_"))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.projects.celery.settings",
            "BK_JOBS_TEST_DB": database_name,
            "BK_JOBS_TEST_QUEUE": self.queue,
            "BK_JOBS_TEST_REDIS": BROKER_URL,
            "BK_JOBS_TEST_MAIL_DIR": str(self.mail_dir),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        self.workers: list[subprocess.Popen[bytes]] = []
        self.beat: subprocess.Popen[bytes] | None = None
        self.count = 0

    def _spawn(self, args: list[str], name: str) -> tuple[subprocess.Popen[bytes], Path]:
        self.count += 1
        log_path = self.log_dir / f"{self.count:02d}-{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tests.projects.celery.app", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return process, log_path

    def start_worker(self) -> subprocess.Popen[bytes]:
        """A worker with one prefork child; returns once it consumes the queue."""
        process, log_path = self._spawn(
            [
                "worker",
                "-Q",
                self.queue,
                "--pool=prefork",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"w{self.count + 1}-{self.queue}@%h",
                "-l",
                "INFO",
            ],
            "worker",
        )
        self.workers.append(process)
        self._wait_for_line(process, log_path, " ready.")
        return process

    def start_beat(self) -> subprocess.Popen[bytes]:
        process, log_path = self._spawn(
            [
                "beat",
                "-l",
                "INFO",
                "--max-interval",
                "1",
                "-s",
                str(self.log_dir / "beat-schedule"),
            ],
            "beat",
        )
        self.beat = process
        self._wait_for_line(process, log_path, "beat: Starting...")
        return process

    def _wait_for_line(self, process: subprocess.Popen[bytes], log: Path, text: str) -> None:
        deadline = time.monotonic() + 60
        while text not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop_all()
                pytest.fail(f"celery did not start ({log}):\n{log.read_text(errors='replace')}")
            time.sleep(0.1)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and its pool children: nothing gets to clean up."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it lingers."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(process)
            except ProcessLookupError:
                pass

    def stop_beat(self) -> None:
        if self.beat is not None:
            self.stop(self.beat)
            self.beat = None

    def stop_all(self) -> None:
        self.stop_beat()
        for process in self.workers:
            self.stop(process)
        self.workers = [w for w in self.workers if w.poll() is None]

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def clean_up(self) -> None:
        """Stop everything, drop this session's queue and temporary files."""
        import redis

        self.stop_all()
        redis.Redis.from_url(BROKER_URL).delete(self.queue)
        shutil.rmtree(self.log_dir, ignore_errors=True)
        shutil.rmtree(self.mail_dir, ignore_errors=True)
