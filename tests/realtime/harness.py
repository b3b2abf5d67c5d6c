"""Real servers for the realtime tests: PostgreSQL database, Redis, uvicorn processes.

Everything runs on loopback and is torn down by the fixtures whatever happened:
a scratch database per run, a private ``redis-server`` per run (so restarting it
never disturbs anyone else's Redis), and uvicorn processes of
``tests.realtime.server_settings`` in their own process groups.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests import processes
from tests.processes import (
    ROOT,
    log_tail,
    stop_group,
    wait_until_healthy,
)

APP_ID = "lq-test-app"
JS_KEY = "lq-test-js-key"
REST_KEY = "lq-test-rest-key"
MASTER_KEY = "lq-test-master-key"
START_TIMEOUT = 60.0


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database; dropped afterwards."""
    with processes.scratch_database(
        "bk_lq", migrate_env=lambda url: {**os.environ, **server_env(url, redis_url=None, port=0)}
    ) as url:
        yield url


def server_env(
    database_url: str,
    *,
    redis_url: str | None,
    port: int,
    prefix: str = "bk_lq_test",
    send_queue: int = 1000,
) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.realtime.server_settings",
        "DATABASE_URL": database_url,
        "BACKEND_KIT_APP_ID": APP_ID,
        "BACKEND_KIT_JAVASCRIPT_KEY": JS_KEY,
        "BACKEND_KIT_REST_API_KEY": REST_KEY,
        "BACKEND_KIT_MASTER_KEY": MASTER_KEY,
        "BACKEND_KIT_SERVER_URL": f"http://127.0.0.1:{port}/parse",
        "BACKEND_KIT_DATA_DIR": tempfile.gettempdir() + "/bk_lq_data",
        "BK_LQ_PREFIX": prefix,
        "BK_LQ_SEND_QUEUE": str(send_queue),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "8",
    }
    if redis_url:
        env["BK_LQ_REDIS_URL"] = redis_url
    return env


class AsgiServer:
    """``uvicorn tests.realtime.asgi:application`` (one worker) on a fixed loopback port."""

    def __init__(self, env: dict[str, str], port: int, *extra_args: str) -> None:
        self.port = port
        self.env = {**os.environ, **env}
        self.env.pop("REDIS_URL", None)
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="bk_lq_uvicorn_", suffix=".log")[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/parse"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "example_project.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                    "--no-access-log",
                    "--lifespan",
                    "off",
                    *self.extra_args,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_healthy(
            self.origin + "/parse/health", self.process, START_TIMEOUT, self.log_path
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process, timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)


class Rest:
    """Parse REST calls to one server (REST key by default, master key on request)."""

    def __init__(self, origin: str) -> None:
        self.base = origin + "/parse/"
        self.http = httpx.Client(timeout=30)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        master: bool = False,
        session: str | None = None,
        expect: int | None = None,
    ) -> Any:
        headers = {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": REST_KEY}
        if master:
            headers["X-Parse-Master-Key"] = MASTER_KEY
        if session:
            headers["X-Parse-Session-Token"] = session
        response = self.http.request(method, self.base + path, json=body, headers=headers)
        data = response.json() if response.content else None
        if expect is not None:
            assert response.status_code == expect, (response.status_code, data)
        elif response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code} {data}")
        return data

    def create(self, class_name: str, body: dict[str, Any], **kw: Any) -> str:
        return self.call("POST", f"classes/{class_name}", body, **kw)["objectId"]

    def update(self, class_name: str, object_id: str, body: dict[str, Any], **kw: Any) -> None:
        self.call("PUT", f"classes/{class_name}/{object_id}", body, **kw)

    def delete(self, class_name: str, object_id: str, **kw: Any) -> None:
        self.call("DELETE", f"classes/{class_name}/{object_id}", **kw)

    def sign_up(self, username: str) -> tuple[str, str]:
        """``(objectId, sessionToken)`` of a new user."""
        data = self.call("POST", "users", {"username": username, "password": "pw-" + username})
        return data["objectId"], data["sessionToken"]
