"""Python CPU per request: ``python3 bench/run.py --cpu``.

On a machine where the server, PostgreSQL and the load generator share the cores,
requests/s at 32 connections is set by the CPU each request costs. This measures that
figure alone: each operation's requests (the same ones wrk sends) go through the Parse
mount's handler (``backend_kit.handler.PooledASGIHandler.respond``: middleware, URL
resolution, DRF, the view, the response) in one process and one thread, with no HTTP
and no event loop, on a fresh copy of the seeded database with a private Redis. It
prints, per operation, the process CPU time per request (what the worker burns) and
the wall time (adding the waits for PostgreSQL and Redis).

The parent process prepares the database and Redis; the measuring child is this module
run with ``--child`` under the benchmark settings (Django is set up only there).

``--instructions`` counts instructions instead (valgrind's callgrind, deterministic: the
same code and requests give the same count whatever else the machine does): per
operation the child runs twice under callgrind, with N requests and with none after the
same warm-up, and the difference over N is the instructions of one request.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import seed, servers
from .operations import BY_NAME
from .servers import ROOT, fresh_database

# batch and login cost 50 creates or one bcrypt: fewer of them give the same precision
REQUESTS = {"batch": 40, "login": 40}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the child on a fresh database copy; its figures per operation."""
    template = seed.ensure_template("bk", args.objects, args.users, workers=1)
    with (
        servers.redis_server() as redis_url,
        fresh_database("bkbench_cpu", template, keep=False) as url,
    ):
        env = servers.backend_kit_env(url, redis_url, port=80)
        command = [sys.executable, "-m", "bench.http.cpu", "--child"]
        command += ["--ops", ",".join(args.ops), "--requests", str(args.cpu_requests)]
        command += ["--objects", str(args.objects), "--users", str(args.users)]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the CPU measurement failed:\n{done.stdout}{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


INSTRUCTION_REQUESTS = 300
WARMUP = 100


def count_instructions(args: argparse.Namespace) -> dict[str, Any]:
    """Instructions per request of each operation (callgrind; see the module's text)."""
    template = seed.ensure_template("bk", args.objects, args.users, workers=1)
    figures: dict[str, Any] = {}
    with (
        servers.redis_server() as redis_url,
        fresh_database("bkbench_cpu", template, keep=False) as url,
    ):
        env = servers.backend_kit_env(url, redis_url, port=80)
        for name in args.ops:
            runs = [_callgrind(env, name, n, args) for n in (INSTRUCTION_REQUESTS, 0)]
            figures[name] = {
                "requests": INSTRUCTION_REQUESTS,
                "instructions": (runs[0] - runs[1]) // INSTRUCTION_REQUESTS,
            }
    return figures


def _callgrind(env: dict[str, str], op: str, requests: int, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bkbench_cg_") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, "-m", "bench.http.cpu", "--child", "--ops", op]
        command += ["--requests", str(requests), "--warmup", str(WARMUP)]
        command += ["--objects", str(args.objects), "--users", str(args.users)]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"callgrind run failed:\n{done.stderr[-4000:]}")
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no total")


def table(figures: dict[str, Any]) -> str:
    if all("instructions" in row for row in figures.values()):
        lines = ["| operation | instructions/request |", "|---|---:|"]
        lines += [f"| {n} | {row['instructions']:,} |" for n, row in figures.items()]
        return "\n".join(lines)
    lines = [
        "| operation | requests | CPU µs/request | wall µs/request |",
        "|---|---:|---:|---:|",
    ]
    for name, row in figures.items():
        lines.append(
            f"| {name} | {row['requests']} | {row['cpu_us']:,.0f} | {row['wall_us']:,.0f} |"
        )
    return "\n".join(lines)


# --- the child ----------------------------------------------------------------------------------
def _scope(method: str, target: str, body: bytes) -> dict[str, Any]:
    parts = urlsplit(target)
    headers = [(k.lower().encode(), v.encode()) for k, v in servers.CLIENT_HEADERS.items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"host", b"127.0.0.1")]
    return {
        "type": "http",
        "method": method,
        "path": parts.path,
        "root_path": "",
        "query_string": parts.query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def _send(handler: Any, op: Any, request: Any) -> None:
    body = b"" if request.body is None else json.dumps(request.body).encode()
    response = handler.respond(_scope(request.method, request.path, body), io.BytesIO(body))
    problem = op.check(response.status_code, json.loads(response.content or b"null"))
    if problem:
        raise SystemExit(f"{op.name}: {problem}")


def _child(
    ops: list[str], count: int, objects: int, users: int, warmup: int | None = None
) -> dict[str, Any]:
    import django

    django.setup()
    from backend_kit.handler import PooledASGIHandler

    handler = PooledASGIHandler(1)
    figures: dict[str, Any] = {}
    for name in ops:
        op = BY_NAME[name]
        rng = random.Random(f"cpu-{name}")
        # a fixed warm-up (instruction counts) takes exactly ``count`` requests after it
        n = REQUESTS.get(name, count) if warmup is None else count
        warm = n // 10 if warmup is None else warmup
        requests = [op.build(rng, objects, users) for _ in range(warm + n)]
        for request in requests[:warm]:  # warm-up: caches, pool, first-call imports
            _send(handler, op, request)
        wall, cpu = time.perf_counter(), time.process_time()
        for request in requests[warm:]:
            _send(handler, op, request)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        per = max(n, 1)
        figures[name] = {"requests": n, "cpu_us": cpu / per * 1e6, "wall_us": wall / per * 1e6}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--ops", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=None)
    args = parser.parse_args()
    if not args.child:
        raise SystemExit("run python3 bench/run.py --cpu")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.http.settings")
    figures = _child(args.ops.split(","), args.requests, args.objects, args.users, args.warmup)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
