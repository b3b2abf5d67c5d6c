"""The Parse JS SDK suite (``tests/sdk``): ``npm ci``, then ``node --test``."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parents[1] / "sdk"


@dataclass
class SuiteResult:
    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)


def npm_ci() -> None:
    """Install the pinned SDK from package-lock.json into tests/sdk/node_modules."""
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError("npm ci failed in tests/sdk:\n" + result.stdout + result.stderr)


def _tap_counts(tap: str) -> dict[str, int]:
    # node:test ends its TAP stream with "# tests N", "# pass N", "# fail N"...
    counts = {}
    for key in ("tests", "pass", "fail", "skipped", "todo", "cancelled"):
        match = re.search(rf"^# {key} (\d+)$", tap, re.MULTILINE)
        counts[key] = int(match.group(1)) if match else 0
    return counts


def _skipped(tap: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*ok \d+ - (.*?) # SKIP (.*)$", tap, re.MULTILINE)


def run_sdk_suite(server_env: dict[str, str], files: list[str] | None = None) -> SuiteResult:
    """Run every ``tests/sdk/test/*.test.mjs`` against the live server."""
    npm_ci()
    test_files = files or sorted(
        str(p.relative_to(SDK_DIR)) for p in SDK_DIR.glob("test/*.test.mjs")
    )
    tap_path = SDK_DIR / "node_modules" / ".last-run.tap"
    command = [
        "node",
        "--test",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=tap",
        f"--test-reporter-destination={tap_path}",
        *test_files,
    ]
    code = subprocess.call(command, cwd=SDK_DIR, env={**os.environ, **server_env})
    tap = tap_path.read_text() if tap_path.exists() else ""
    counts = _tap_counts(tap)
    summary = (
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skipped']} skipped"
        f" ({counts['tests']} tests in {len(test_files)} files)"
    )
    ok = code == 0 and counts["fail"] == 0 and counts["cancelled"] == 0 and counts["tests"] > 0
    skipped = [f"skipped: {name}: {reason}" for name, reason in _skipped(tap)]
    return SuiteResult("Parse JS SDK", ok, summary, skipped)
