"""The phases of a run: measuring a server, capturing SQL, the floor, the profile."""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from . import cputime, floor, loadgen, profile, servers
from .operations import BY_NAME, request_values, send
from .servers import ROOT, backend_kit_running, fresh_database, say

# Reads first, so that the rows created by the write operations (more for the faster
# server) cannot change what the reads of either server see.
MEASURE_ORDER = ["get", "query", "count", "update", "create", "batch", "login"]


def measured_seconds(duration: float, completed: int, warm_p50_ms: float) -> float:
    """At least ``duration``, and 20 median latencies of the warm-up (60 s at most).

    A closed-loop run starts with every connection idle and drops the requests still
    in flight when it ends, so requests/s is low by about latency/duration: about 10%
    for a 1 s batch in 10 s. Slow rows run longer to keep that under 5%.
    """
    if not completed or warm_p50_ms != warm_p50_ms:  # nothing finished during the warm-up
        return min(60.0, max(duration, 30.0))
    return min(60.0, max(duration, 20 * warm_p50_ms / 1000))


def measure_server(
    name: str,
    origin: str,
    args: argparse.Namespace,
    workdir: Path,
    process: servers.Process | None = None,
) -> dict[str, Any]:
    """Each operation at each concurrency; with ``process``, the CPU per request too."""
    results: dict[str, Any] = {}
    for op_name in [n for n in MEASURE_ORDER if n in args.ops]:
        op = BY_NAME[op_name]
        request, _ = request_values(op, random.Random(7), args.objects, args.users)
        status, body = send(origin, request)
        problem = op.check(status, body)
        if problem:
            say(f"  {name} {op.name}: wrong answer, not measured: {problem}")
            results[op.name] = {
                str(c): {"skipped": True, "reason": problem} for c in args.concurrency
            }
            continue
        requests = op.write_requests(workdir / f"{op.name}.txt", args.objects, args.users)
        results[op.name] = {}
        for c in args.concurrency:
            seconds = args.duration
            if args.warmup > 0:
                warm = loadgen.run_wrk(origin, requests, c, args.warmup)
                seconds = measured_seconds(args.duration, warm.requests, warm.p50_ms)
            pids = [process.pid, *process.children()] if process is not None else []
            before = cputime.snapshot(pids)
            result = loadgen.run_wrk(origin, requests, c, seconds)
            row = result.as_dict()
            if process is not None:
                row["cpu_us"] = cputime.per_request(before, cputime.snapshot(pids), result.requests)
            results[op.name][str(c)] = row
            say(
                f"  {name:11} {op.name:6} c={c:<3} {result.rps:9.1f} req/s"
                f"  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms"
                f"  errors {result.error_count}"
            )
            time.sleep(1)
    return results


# --- SQL capture and the floor -------------------------------------------------------------------
@dataclass
class Captured:
    """What ``capture_sql`` read: each operation's three runs of statements."""

    runs: dict[str, list[list[str]]]
    prepared: set[str]  # operations whose statements went with their values apart ($n)


def capture_sql(
    kind: str,
    template: str,
    args: argparse.Namespace,
    start: Callable[[str], Any],
    sql_dir: Path,
) -> Captured:
    """Each operation's request sent 3 times against a logging copy; the captured SQL."""
    log_path = floor.postgres_log_path()
    if log_path is None:
        say("  the PostgreSQL log is not readable here (set BENCH_PG_LOG): no SQL capture")
        return Captured({}, set())
    name = f"bkbench_capture_{kind}"
    captures: dict[str, list[list[str]]] = {}
    prepared: set[str] = set()
    with fresh_database(name, template, args.keep_databases) as url:
        servers.set_database_option(name, "log_statement", "'all'")
        with start(url) as process:
            origin = servers.origin_of(process)
            statements = floor.StatementLog(log_path, name)
            try:
                for op_name in args.ops:
                    op = BY_NAME[op_name]
                    request, _ = request_values(op, random.Random(11), args.objects, args.users)
                    statements.parameters_seen = False
                    captures[op.name] = [
                        statements.capture(lambda r=request: send(origin, r)) for _ in range(3)
                    ]
                    if statements.parameters_seen:
                        prepared.add(op.name)
                    text = "\n".join(s.rstrip(";") + ";" for s in captures[op.name][-1])
                    (sql_dir / f"{kind}-{op.name}.sql").write_text(text + "\n")
            finally:
                statements.close()
    return Captured(captures, prepared)


def user_keys(database: str) -> list[tuple[str, int]]:
    """(objectId, auth_user id) of the seeded users, in username order (user00001, ...)."""
    with psycopg.connect(servers.db_url(database)) as conn:
        rows = conn.execute(
            "SELECT l.object_id, u.id FROM auth_user u"
            " JOIN backend_kit_accounts_userlink l ON l.user_id = u.id"
            " WHERE u.username LIKE 'user%%' ORDER BY u.username"
        ).fetchall()
    return [(object_id, pk) for object_id, pk in rows]


def floor_scripts(
    captures: Captured,
    args: argparse.Namespace,
    sql_dir: Path,
    template: str,
) -> dict[str, Path]:
    scripts: dict[str, Path] = {}
    keys = user_keys(template) if "login" in captures.runs else []
    for op_name, runs in captures.runs.items():
        op = BY_NAME[op_name]
        _, values = request_values(op, random.Random(11), args.objects, args.users)
        variables = floor.request_variables(values, args.objects, args.users, keys)
        built = floor.build_script(runs[1:], variables, op_name in captures.prepared)
        if built is None:
            say(f"  floor {op_name}: the captures differ in shape, no pgbench script")
            continue
        path = sql_dir / f"pgbench-{op_name}.sql"
        path.write_text(built[0])
        scripts[op_name] = path
    return scripts


def measure_floor(
    scripts: dict[str, Path], database: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for op_name in [n for n in MEASURE_ORDER if n in scripts]:
        script = scripts[op_name]
        problem = floor.check_script(database, script, workdir)
        if problem:
            say(f"  floor {op_name}: PostgreSQL refused the script: {problem}")
            results[op_name] = {
                str(c): {"skipped": True, "reason": problem} for c in args.concurrency
            }
            continue
        results[op_name] = {}
        for c in args.concurrency:
            seconds = args.duration
            if args.warmup > 0:
                warm = floor.pgbench(database, script, c, args.warmup, workdir)
                seconds = measured_seconds(args.duration, warm.transactions, warm.p50_ms)
            result = floor.pgbench(database, script, c, seconds, workdir)
            results[op_name][str(c)] = result.as_dict()
            say(
                f"  {'floor':11} {op_name:6} c={c:<3} {result.rps:9.1f} tx/s "
                f"  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms"
                f"  failed {result.failed}"
            )
            time.sleep(1)
    return results


# --- profile -------------------------------------------------------------------------------------
def pick_profile_op(results: dict[str, Any], args: argparse.Namespace) -> str | None:
    if args.profile_op == "none":
        return None
    if args.profile_op != "auto":
        return args.profile_op
    c = str(max(args.concurrency))
    ratios = {}
    for op_name in args.ops:
        bk = results.get("backend_kit", {}).get(op_name, {}).get(c)
        theirs = results.get("parse", {}).get(op_name, {}).get(c)
        if bk and theirs and not bk.get("skipped") and not theirs.get("skipped") and theirs["rps"]:
            ratios[op_name] = bk["rps"] / theirs["rps"]
    if ratios:
        return min(ratios, key=ratios.__getitem__)
    measured = {
        n: r[c]["rps"]
        for n, r in results.get("backend_kit", {}).items()
        if c in r and not r[c].get("skipped")
    }
    return min(measured, key=measured.__getitem__) if measured else None


def run_profile(
    op_name: str, template: str, args: argparse.Namespace, out_dir: Path, workdir: Path
) -> dict[str, Any]:
    """Two py-spy recordings under the same load: wall-clock (waits included) and GIL-only."""
    op = BY_NAME[op_name]
    c = max(args.concurrency)
    seconds = args.profile_seconds
    files = {mode: out_dir / f"profile-{op_name}-{mode}.txt" for mode in ("wall", "cpu")}
    summary = out_dir / f"profile-{op_name}-top.txt"
    say(f"profiling backend_kit on {op_name} at c={c}: 2 x {seconds:g} s (py-spy)")
    outputs = []
    with (
        fresh_database("bkbench_profile", template, args.keep_databases) as url,
        backend_kit_running(url, args.workers) as process,
    ):
        origin = servers.origin_of(process)
        requests = op.write_requests(workdir / f"profile-{op_name}.txt", args.objects, args.users)
        loadgen.run_wrk(origin, requests, c, max(args.warmup, 2))
        with loadgen.background_load(origin, requests, c, 4 * seconds + 120):
            time.sleep(2)
            for mode, path in files.items():
                path.unlink(missing_ok=True)
                recorder = profile.record(process.pid, seconds, path, gil_only=mode == "cpu")
                try:
                    outputs.append(recorder.communicate(timeout=seconds + 120)[0])
                except subprocess.TimeoutExpired:
                    # py-spy writes what it sampled when interrupted; a slow exit (many
                    # threads to walk) must not cost the run its results.
                    recorder.send_signal(signal.SIGINT)
                    try:
                        outputs.append(recorder.communicate(timeout=60)[0])
                    except subprocess.TimeoutExpired:
                        recorder.kill()
                        outputs.append(recorder.communicate()[0])
    for output in outputs:
        lines = output.decode(errors="replace").splitlines()
        say(
            "  "
            + next((ln for ln in reversed(lines) if "Samples" in ln), lines[-1] if lines else "")
        )
    if not all(path.exists() and path.stat().st_size for path in files.values()):
        say("  py-spy recorded nothing")
        return {}
    title = f"py-spy, backend_kit ({args.workers} uvicorn workers), {op_name} at c={c}"
    wall, _ = profile.summary_lines(files["wall"], f"{title}: wall clock (waits included)")
    cpu, top = profile.summary_lines(files["cpu"], f"{title}: holding the GIL (Python CPU)")
    summary.write_text("\n".join([*cpu, "", "", *wall]) + "\n")
    return {
        "operation": op_name,
        "concurrency": c,
        "files": [rel(path) for path in files.values()],
        "summary": rel(summary),
        "top": top,
    }


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
