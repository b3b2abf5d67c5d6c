"""The processes under benchmark: PostgreSQL databases, Redis, backend_kit and Parse Server.

Everything listens on 127.0.0.1 only. Each server runs in its own process group so that
stopping it also stops its workers (uvicorn's and Node cluster's children).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(
    os.environ.get("BACKEND_KIT_BENCH_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backend_kit-bench"
)
PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
PARSE_SERVER_VERSION = "9.10.0"
# Parse Server 9.10's /batch breaks with newer `router` releases; the files adapter keeps
# files on local disk (Parse's default GridFS adapter needs MongoDB).
PARSE_PACKAGES = ("@parse/fs-files-adapter@3.0.0", "router@2.2.0")

# The same keys for both servers, so that one request file drives either.
APP_ID = "bench-app"
REST_KEY = "bench-rest-key"
MASTER_KEY = "bench-master-key"
CLIENT_HEADERS = {
    "X-Parse-Application-Id": APP_ID,
    "X-Parse-REST-API-Key": REST_KEY,
    "Content-Type": "application/json",
}
MASTER_HEADERS = {**CLIENT_HEADERS, "X-Parse-Master-Key": MASTER_KEY}
START_TIMEOUT = 120.0


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# --- PostgreSQL ----------------------------------------------------------------------------------
def db_url(name: str) -> str:
    return f"{PG_BASE.rstrip('/')}/{name}"


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(db_url("postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def databases_like(prefix: str) -> list[str]:
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]
        ).fetchall()
    return [r[0] for r in rows]


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name: str, template: str | None = None) -> str:
    """A new database (a copy of ``template`` when given, which is fast); its URL."""
    drop_database(name)
    with admin_connection() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return db_url(name)


def rename_database(old: str, new: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')


def set_database_option(name: str, option: str, value: str | None) -> None:
    with admin_connection() as conn:
        if value is None:
            conn.execute(f'ALTER DATABASE "{name}" RESET {option}')
        else:
            conn.execute(f'ALTER DATABASE "{name}" SET {option} = {value}')


def analyze(name: str) -> None:
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- processes -----------------------------------------------------------------------------------
@dataclass
class Process:
    """A server process started in its own session; ``stop()`` ends the whole group."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    health_url: str
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(self.health_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.popen.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"{self.name} did not start ({self.log_path}):\n{tail}")
            time.sleep(0.25)

    def children(self) -> list[int]:
        """Pids of the worker processes (uvicorn workers, Node cluster workers)."""
        try:
            out = subprocess.run(
                ["pgrep", "-s", str(self.pid)], capture_output=True, text=True
            ).stdout
        except FileNotFoundError:
            return []
        return [int(p) for p in out.split() if int(p) != self.pid]

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # the group's other members (cluster workers) may outlive the leader briefly
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@contextmanager
def running(process: Process) -> Iterator[Process]:
    process.start()
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def redis_server() -> Iterator[str]:
    """A private ``redis-server`` (no persistence) for backend_kit's shared cache."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bkbench_redis_")
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--dir", workdir, "--logfile", ""]
    popen = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not port_open(port):
            if popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        popen.terminate()
        popen.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


# --- backend_kit --------------------------------------------------------------------------------
# Parse Server's pg-promise pool holds at most 10 connections per process: backend_kit's
# pool (example_project/settings.py reads these) and the Python ceiling's are the same size.
DB_POOL = {"DB_POOL_MIN": "2", "DB_POOL_MAX": "10"}


def uvicorn_argv(app: str, port: int, workers: int) -> list[str]:
    """``python -m uvicorn`` serving ``app`` on loopback, quiet (no access log)."""
    argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    return argv + ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]


def backend_kit_env(database_url: str, redis_url: str | None, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.http.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "BACKEND_KIT_APP_ID": APP_ID,
        "BACKEND_KIT_REST_API_KEY": REST_KEY,
        "BACKEND_KIT_MASTER_KEY": MASTER_KEY,
        "BACKEND_KIT_JAVASCRIPT_KEY": "bench-js-key",
        "BACKEND_KIT_SERVER_URL": f"http://127.0.0.1:{port}/parse",
        "BACKEND_KIT_DATA_DIR": str(Path(tempfile.gettempdir()) / "bkbench_data"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **DB_POOL,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("BACKEND_KIT_CONFORMANCE", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def backend_kit_process(database_url: str, redis_url: str | None, workers: int) -> Process:
    port = free_port()
    argv = uvicorn_argv("example_project.asgi:application", port, workers)
    argv += ["--lifespan", "off"]
    return Process(
        name=f"backend_kit (uvicorn, {workers} workers)",
        argv=argv,
        env=backend_kit_env(database_url, redis_url, port),
        cwd=ROOT,
        health_url=f"http://127.0.0.1:{port}/parse/health",
    )


@contextmanager
def fresh_database(name: str, template: str, keep: bool) -> Iterator[str]:
    """A copy of ``template`` for one phase, dropped afterwards unless ``keep``."""
    url = create_database(name, template)
    try:
        yield url
    finally:
        if not keep:
            drop_database(name)


@contextmanager
def backend_kit_running(url: str, workers: int) -> Iterator[Process]:
    """backend_kit on ``url`` with its own Redis, as deployed (see ``backend_kit_env``)."""
    with (
        redis_server() as redis_url,
        running(backend_kit_process(url, redis_url, workers)) as process,
    ):
        yield process


# --- Parse Server --------------------------------------------------------------------------------
def parse_install_dir(version: str = PARSE_SERVER_VERSION) -> Path:
    return CACHE_DIR / f"parse-server-{version}"


def ensure_parse_server(version: str = PARSE_SERVER_VERSION) -> Path:
    """Install parse-server (once) into the cache directory with npm; its directory."""
    target = parse_install_dir(version)
    package = target / "node_modules/parse-server/package.json"
    if package.exists() and json.loads(package.read_text()).get("version") == version:
        return target
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install Parse Server (apt-get install nodejs npm)")
    say(f"installing parse-server@{version} into {target} (once) ...")
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text(
        json.dumps({"name": "backend-kit-bench-parse", "private": True, "type": "commonjs"})
    )
    done = subprocess.run(
        ["npm", "install", "--save-exact", "--no-audit", "--no-fund", "--loglevel=error"]
        + [f"parse-server@{version}", *PARSE_PACKAGES],
        cwd=target,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not package.exists():
        raise RuntimeError(f"npm install of parse-server failed:\n{done.stdout}{done.stderr}")
    return target


def parse_process(database_url: str, processes: int, install_dir: Path) -> Process:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bkbench_parse_"))
    config = {
        "appId": APP_ID,
        "restAPIKey": REST_KEY,
        "masterKey": MASTER_KEY,
        "masterKeyIps": ["127.0.0.1", "::1"],
        "databaseURI": database_url.replace("postgresql://", "postgres://", 1),
        "host": "127.0.0.1",
        "port": port,
        "mountPath": "/parse",
        "serverURL": f"http://127.0.0.1:{port}/parse",
        "filesAdapter": {"module": "@parse/fs-files-adapter", "options": {}},
        "logLevel": "error",
        "verbose": False,
    }
    if processes > 1:
        config["cluster"] = processes  # Node's cluster module: one process per core
    (workdir / "config.json").write_text(json.dumps(config, indent=2))
    env = {
        **os.environ,
        "NODE_PATH": str(install_dir / "node_modules"),
        "NODE_ENV": "production",
    }
    argv = ["node", str(install_dir / "node_modules/parse-server/bin/parse-server")]
    return Process(
        name=f"Parse Server {PARSE_SERVER_VERSION} ({processes} process(es))",
        argv=[*argv, "config.json"],
        env=env,
        cwd=workdir,
        health_url=f"http://127.0.0.1:{port}/parse/health",
        log_path=workdir / "parse-server.log",
    )


def origin_of(process: Process) -> str:
    return process.health_url.rsplit("/parse/health", 1)[0]
