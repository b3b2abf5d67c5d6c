"""schemathesis against the live server's OpenAPI document (``/api/schema/``).

Bounded by a number of examples per operation (``--max-time`` would instead repeat
fuzzing until the budget is spent), so the run takes well under three minutes.
Checks: schemathesis' own ``not_a_server_error`` (no 5xx) and ``parse_error_envelope``
from ``fuzz_hooks.py`` (every 4xx body is a Parse error). Every request carries the
application id and the master key, so the fuzzing reaches the handlers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sdk_suite import SuiteResult
from server import LiveServer

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = 30
# Fixed, so a failure can be replayed; BK_FUZZ_SEED explores other inputs.
DEFAULT_SEED = "20240601"


def run_api_fuzz(server: LiveServer) -> SuiteResult:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{server.origin}/api/schema/"),
        *("--url", server.origin),
        *("-H", f"X-Parse-Application-Id: {server.app_id}"),
        *("-H", f"X-Parse-Master-Key: {server.master_key}"),
        *("--checks", "not_a_server_error,parse_error_envelope"),
        *("--phases", "examples,coverage,fuzzing"),
        *("--max-examples", str(MAX_EXAMPLES)),
        # One worker: hypothesis describes filters by parsing lambda sources, and
        # CPython 3.11's ast.parse is not safe across threads.
        *("--workers", "1"),
        *("--seed", os.environ.get("BK_FUZZ_SEED", DEFAULT_SEED)),
        "--no-shrink",
        *("--suppress-health-check", "all"),
        *("--warnings", "off"),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(HERE)}
    # A scratch working directory: hypothesis and schemathesis keep their caches there.
    with tempfile.TemporaryDirectory(prefix="bk_live_fuzz_") as scratch:
        result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    print(output[-8000:] if result.returncode else _summary_block(output), flush=True)
    summary = _summary_line(output) or f"exit code {result.returncode}"
    return SuiteResult("schemathesis /api/schema/", result.returncode == 0, summary)


def _summary_block(output: str) -> str:
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if "SUMMARY" in line:
            return "\n".join(lines[index:])
    return "\n".join(lines[-25:])


def _summary_line(output: str) -> str:
    """E.g. "1381 generated, 1381 passed; No issues found in 11.27s"."""
    parts = []
    for line in output.splitlines():
        text = line.strip().strip("=").strip()
        if re.fullmatch(r"\d+ generated.*", text) or re.fullmatch(r".* in [\d.]+s", text):
            parts.append(text)
    return "; ".join(parts[-2:])
