"""A throwaway PostgreSQL database and a uvicorn server of the example project.

Used by ``run_live.py``: :func:`scratch_database` creates a uniquely named database
and drops it on the way out whatever happened; :func:`live_server` migrates it and
serves ``example_project.asgi`` with several workers in its own process group, so
stopping the group stops every worker.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # run as a script (run_live.py)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import processes  # noqa: E402
from tests.processes import (  # noqa: E402
    ROOT,
    free_port,
    log_tail,
    port_open,
    stop_group,
    wait_until_healthy,
)


@dataclass
class LiveServer:
    url: str  # the Parse mount, e.g. http://127.0.0.1:41234/parse
    origin: str  # http://127.0.0.1:41234
    app_id: str
    javascript_key: str
    rest_key: str
    master_key: str
    log_path: Path
    client_env: dict[str, str] = field(default_factory=dict)  # e.g. the OIDC stand-in

    def env(self) -> dict[str, str]:
        """What the client suites need to reach the server."""
        return {
            **self.client_env,
            "PARSE_SERVER_URL": self.url,
            "PARSE_APP_ID": self.app_id,
            "PARSE_JAVASCRIPT_KEY": self.javascript_key,
            "PARSE_REST_KEY": self.rest_key,
            "PARSE_MASTER_KEY": self.master_key,
        }

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)


@contextmanager
def scratch_database(base_url: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards (even on failure)."""
    with processes.scratch_database("bk_live", base_url=base_url) as url:
        yield url


def _server_env(database_url: str, port: int, keys: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "BACKEND_KIT_CONFORMANCE": "1",
        "DATABASE_URL": database_url,
        "BACKEND_KIT_APP_ID": keys["app_id"],
        "BACKEND_KIT_JAVASCRIPT_KEY": keys["javascript_key"],
        "BACKEND_KIT_REST_API_KEY": keys["rest_key"],
        "BACKEND_KIT_MASTER_KEY": keys["master_key"],
        "BACKEND_KIT_SERVER_URL": f"http://127.0.0.1:{port}/parse",
        "BACKEND_KIT_DATA_DIR": tempfile.mkdtemp(prefix="bk_live_data_"),
        "DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    if port_open(6379):
        # A database number of its own, so concurrent runs do not share cache keys.
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{secrets.randbelow(14) + 1}"
    return env


@contextmanager
def live_server(
    database_url: str,
    workers: int = 2,
    server_env: dict[str, str] | None = None,
    client_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Migrate ``database_url`` and serve the example project on a free loopback port.

    ``server_env`` is added to the server's environment, ``client_env`` to what
    :meth:`LiveServer.env` gives the client suites.
    """
    port = free_port()
    keys = {
        "app_id": "live-" + secrets.token_hex(4),
        "javascript_key": "js-" + secrets.token_hex(8),
        "rest_key": "rest-" + secrets.token_hex(8),
        "master_key": "master-" + secrets.token_hex(12),
    }
    env = {**_server_env(database_url, port, keys), **(server_env or {})}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if migrate.returncode != 0:
        raise RuntimeError("manage.py migrate failed:\n" + migrate.stdout + migrate.stderr)
    log_path = Path(tempfile.mkstemp(prefix="bk_live_uvicorn_", suffix=".log")[1])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "example_project.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers stop with it
        )
    origin = f"http://127.0.0.1:{port}"
    server = LiveServer(
        url=origin + "/parse",
        origin=origin,
        log_path=log_path,
        app_id=keys["app_id"],
        javascript_key=keys["javascript_key"],
        rest_key=keys["rest_key"],
        master_key=keys["master_key"],
        client_env=dict(client_env or {}),
    )
    try:
        wait_until_healthy(server.url + "/health", process, timeout=60)
        yield server
    except BaseException:
        stop_group(process)
        print(f"[live] server log kept at {log_path}", flush=True)
        raise
    else:
        stop_group(process)
        log_path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(env["BACKEND_KIT_DATA_DIR"], ignore_errors=True)
