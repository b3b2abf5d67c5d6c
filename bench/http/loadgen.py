"""The load generator: ``wrk`` (Debian's package) driven by ``requests.lua``.

wrk is a C program with an event loop per thread: on a two-core machine that the
servers share, a load generator written in Python would take a core of its own at
a few thousand requests per second and cap what it measures. It is independent of
both servers, keeps ``-c`` connections busy back to back (a closed loop: concurrency
N = N requests in flight), and its latency histogram gives p50/p99.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .servers import CLIENT_HEADERS

LUA = Path(__file__).with_name("requests.lua")


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "mean_ms": round(self.mean_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "errors": self.errors,
        }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_argv(
    origin: str, request_file: Path, connections: int, seconds: float, timeout: float = 10.0
) -> list[str]:
    threads = min(2, connections)
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
    argv += ["--timeout", f"{timeout:g}s", "-s", str(LUA)]
    for name, value in CLIENT_HEADERS.items():
        argv += ["-H", f"{name}: {value}"]
    return [*argv, origin, "--", str(request_file)]


@contextmanager
def background_load(
    origin: str, request_file: Path, connections: int, max_seconds: float
) -> Iterator[None]:
    """Keep the load on while the block runs (a profiler records meanwhile)."""
    process = subprocess.Popen(
        wrk_argv(origin, request_file, connections, max_seconds),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_wrk(
    origin: str, request_file: Path, connections: int, seconds: float, timeout: float = 10.0
) -> LoadResult:
    """Drive ``origin`` with the requests of ``request_file`` for ``seconds``."""
    argv = wrk_argv(origin, request_file, connections, seconds, timeout)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    latency = data["latency_us"]
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors={k: v for k, v in data["errors"].items() if v},
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        max_ms=latency["max"] / 1000,
    )
