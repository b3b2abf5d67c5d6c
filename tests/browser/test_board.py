"""End-to-end tests of the demo task board (example_project/web) in headless Chromium.

Serves the example project the way ``python3 dev.py demo`` does, with its embedded
defaults (a fresh SQLite file in a temporary directory, the in-memory channel layer,
local files) and daphne's ``runserver``, on a free loopback port; then runs the
node:test suite ``board.test.mjs``, which drives Debian's Chromium through
playwright-core. Screenshots go to ``tests/browser/artifacts/`` (or
``BROWSER_ARTIFACTS_DIR``).

It starts a server and a browser, so it runs as its own step of ``python3 dev.py test``
rather than inside every database's pytest run: ``BACKEND_KIT_BROWSER_TESTS=1 pytest
tests/browser`` runs it by hand. ``CHROMIUM_PATH`` names another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port, log_tail, stop_group, wait_until_healthy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WEB = ROOT / "example_project" / "web"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS_DIR", HERE / "artifacts"))
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
START_TIMEOUT = 60  # seconds for the server to answer; a guard, not a measurement
SUITE_TIMEOUT = 600

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("BACKEND_KIT_BROWSER_TESTS") != "1",
        reason="browser tests run as their own step of dev.py test "
        "(or set BACKEND_KIT_BROWSER_TESTS=1)",
    ),
    pytest.mark.skipif(
        not (shutil.which("node") and shutil.which("npm")), reason="needs Node.js and npm"
    ),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@dataclass
class DemoServer:
    origin: str
    log_path: Path

    def log_tail(self, lines: int = 80) -> str:
        return log_tail(self.log_path, lines)


def npm_ci(folder: Path) -> None:
    """Install ``folder``'s pinned packages unless ``node_modules`` matches its lock file."""
    lock, installed = folder / "package-lock.json", folder / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True
    )
    assert result.returncode == 0, f"npm ci in {folder} failed:\n{result.stdout}{result.stderr}"


def demo_env(data_dir: str, origin: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "BACKEND_KIT_DATA_DIR": data_dir,
        "BACKEND_KIT_SERVER_URL": origin + "/parse",
        "PYTHONUNBUFFERED": "1",
    }
    # the demo's embedded defaults, whatever this shell points at
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "BACKEND_KIT_CONFORMANCE",
        "BACKEND_KIT_APP_ID",
        "BACKEND_KIT_MASTER_KEY",
        "BACKEND_KIT_JAVASCRIPT_KEY",
        "BACKEND_KIT_REST_API_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
    ):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def demo_server() -> Iterator[DemoServer]:
    npm_ci(WEB)
    npm_ci(HERE)
    data_dir = tempfile.mkdtemp(prefix="bk_board_")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = demo_env(data_dir, origin)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    server = DemoServer(origin, Path(data_dir) / "runserver.log")
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
    try:
        wait_until_healthy(origin + "/parse/health", process, START_TIMEOUT, server.log_path)
        yield server
    finally:
        stop_group(process)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_board_in_two_browsers(demo_server: DemoServer, capsys: pytest.CaptureFixture[str]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "BOARD_URL": demo_server.origin,
        "PARSE_APP_ID": "demo-app",
        "PARSE_MASTER_KEY": "demo-master-key",
        "CHROMIUM_PATH": CHROMIUM,
        "BROWSER_ARTIFACTS_DIR": str(ARTIFACTS),
    }
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "board.test.mjs"],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
    )
    with capsys.disabled():
        print(f"\n{result.stdout}[browser] screenshots in {ARTIFACTS}")
    # node's report is printed above; the message adds what it cannot say
    assert result.returncode == 0, (
        f"board.test.mjs failed\n{result.stderr}\n--- server log ---\n{demo_server.log_tail()}"
    )
