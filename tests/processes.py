"""What the tests that start real processes share: ports, scratch databases, stopping.

Used by the realtime, HA, files, browser and live suites (``tests/live`` runs as
scripts and puts the repository on ``sys.path`` first). Each suite keeps what is its
own: the settings module, the environment of its servers, how it knows they are up.
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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def with_database(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def dsn(url: str) -> str:
    """A libpq URL psycopg accepts for a ``postgres://`` database URL."""
    return url.replace("postgres://", "postgresql://", 1)


def base_database_url() -> str:
    """``DATABASE_URL`` when it points at PostgreSQL, else the local server."""
    base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    return base if base.startswith("postgres") else DEFAULT_DATABASE_URL


def admin_dsn(url: str) -> str:
    # The maintenance database always exists; the one named in the URL may not.
    return dsn(with_database(url, "postgres"))


def postgres_reachable() -> bool:
    """Whether the server scratch databases are made on answers."""
    try:
        with psycopg.connect(admin_dsn(base_database_url()), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def scratch_database(
    prefix: str,
    *,
    migrate_env: Callable[[str], dict[str, str]] | None = None,
    base_url: str | None = None,
) -> Iterator[str]:
    """The URL of a new database, dropped afterwards whatever happened.

    ``migrate_env(url)``: the environment ``manage.py migrate`` runs with on it; without
    it the database stays empty.
    """
    base = base_url or base_database_url()
    admin = admin_dsn(base)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(base, name)
    try:
        if migrate_env is not None:
            done = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT,
                env=migrate_env(url),
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError("migrate failed:\n" + done.stdout + done.stderr)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def poll_until(
    predicate: Callable[[], Any], what: str, timeout: float, interval: float = 0.1
) -> Any:
    """``predicate()``'s first truthy value; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float, log: Path | None = None
) -> None:
    """Poll ``url`` until it answers 200; fail early when ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = f":\n{log_tail(log)}" if log else ""
            raise RuntimeError(f"the server exited with code {process.returncode}{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    tail = f":\n{log_tail(log)}" if log else ""
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s{tail}")


def stop_group(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """SIGTERM the process's group (it started one of its own), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def log_tail(path: Path | None, lines: int = 60) -> str:
    if path is None:
        return ""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class RedisServer:
    """A private ``redis-server`` on a free port, which a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bk_redis_")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None
