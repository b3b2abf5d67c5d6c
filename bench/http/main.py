"""``python3 bench/run.py``: backend_kit against Parse Server and PostgreSQL's own speed.

Phases: install Parse Server into the cache directory (once); seed a template database
per server (once: see ``seed.py``); capture the SQL of each backend_kit operation and
turn it into pgbench scripts; benchmark backend_kit, then Parse Server, then pgbench
(one at a time, each on a fresh copy of its template); profile backend_kit on the
operation where it is furthest behind Parse Server; print the table and write
``bench/results/results.json`` (and ``bench/RESULTS.md`` after a complete run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import ceiling, cpu, loadgen, profile, report, seed, servers
from .measure import (
    capture_sql,
    floor_scripts,
    measure_floor,
    measure_server,
    pick_profile_op,
    run_profile,
)
from .operations import BY_NAME, OPERATIONS
from .servers import ROOT, backend_kit_running, fresh_database, say

TARGETS = ("backend_kit", "parse", "floor", "ceiling")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000, help="seeded objects (100000)")
    parser.add_argument("--users", type=int, default=200, help="seeded users for login (200)")
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per row")
    parser.add_argument("--concurrency", default="1,32", help="comma-separated (1,32)")
    parser.add_argument(
        "--ops", default=",".join(op.name for op in OPERATIONS), help="operations to run"
    )
    parser.add_argument("--only", action="append", choices=TARGETS, help="repeatable")
    parser.add_argument("--workers", type=int, default=cores, help="uvicorn workers (= cores)")
    parser.add_argument(
        "--parse-processes",
        type=int,
        default=None,
        help="Parse Server processes via Node cluster (default: same as --workers)",
    )
    parser.add_argument(
        "--profile-op",
        default="auto",
        help="operation to profile: auto (furthest behind Parse Server), a name, or none",
    )
    parser.add_argument("--profile-seconds", type=float, default=15)
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--no-record", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="only the Python CPU per request of each operation (in-process, no HTTP)",
    )
    parser.add_argument("--cpu-requests", type=int, default=2000, help="requests per operation")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="with --cpu: instructions per request under valgrind (deterministic, slow)",
    )
    parser.add_argument(
        "--keep-databases", action="store_true", help="keep the run databases for inspection"
    )
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    args.ops = [name.strip() for name in args.ops.split(",") if name.strip()]
    unknown = [name for name in args.ops if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown operation(s): {', '.join(unknown)}")
    if args.profile_op not in ("auto", "none", *BY_NAME):
        parser.error(f"--profile-op: auto, none or one of {', '.join(BY_NAME)}")
    args.only = args.only or list(TARGETS)
    args.parse_processes = args.parse_processes or args.workers
    return args


# --- preflight -----------------------------------------------------------------------------------
def ensure_wrk() -> None:
    if loadgen.wrk_available():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wrk from Debian")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False)
    if not loadgen.wrk_available():
        raise SystemExit("wrk is needed: apt-get install wrk")


def preflight(args: argparse.Namespace) -> None:
    try:
        with servers.admin_connection():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        raise SystemExit(f"PostgreSQL is not reachable at {servers.PG_BASE}: {exc}") from exc
    ensure_wrk()
    needed = {"redis-server": "backend_kit", "pgbench": "floor", "node": "parse", "npm": "parse"}
    for tool, target in needed.items():
        if target in args.only and shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed for the {target} benchmark")
    if "backend_kit" in args.only and args.profile_op != "none" and profile.py_spy() is None:
        raise SystemExit(
            "py-spy is needed for the profile (pip install py-spy), or --profile-op none"
        )


def cpu_only(args: argparse.Namespace) -> int:
    """``--cpu``: Python CPU per request of each operation (see ``cpu.py``)."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is needed")
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("valgrind is needed for --instructions")
        say("counting instructions per request in-process under callgrind (about 2 min each)")
        figures = cpu.count_instructions(args)
    else:
        say("measuring Python CPU per request in-process (no HTTP), one operation at a time")
        figures = cpu.measure(args)
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report.write_json(
        out_dir / ("instructions.json" if args.instructions else "cpu.json"),
        {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": report.machine(), "cpu": figures},
    )
    print()
    print(cpu.table(figures))
    print()
    say(f"results: {out_dir / ('instructions.json' if args.instructions else 'cpu.json')}")
    return 0


# --- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cpu:
        return cpu_only(args)
    started = time.monotonic()
    load_start = report.load_average()
    preflight(args)
    out_dir = Path(args.results_dir)
    sql_dir = out_dir / "sql"
    sql_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bkbench_run_"))
    results: dict[str, Any] = {}
    sql_counts: dict[str, dict[str, int]] = {}
    install_dir = servers.ensure_parse_server() if "parse" in args.only else None

    bk_template = seed.ensure_template("bk", args.objects, args.users, workers=1)
    parse_template = (
        seed.ensure_template("parse", args.objects, args.users, install_dir=install_dir)
        if "parse" in args.only
        else None
    )

    scripts: dict[str, Path] = {}
    if "floor" in args.only or "backend_kit" in args.only:
        say("capturing the SQL of each backend_kit operation")
        captures = capture_sql(
            "backend_kit", bk_template, args, lambda url: backend_kit_running(url, 1), sql_dir
        )
        sql_counts["backend_kit"] = {k: len(v[-1]) for k, v in captures.runs.items()}
        scripts = floor_scripts(captures, args, sql_dir, bk_template)
    if parse_template and install_dir:
        say("capturing the SQL of each Parse Server operation (for comparison only)")
        captures = capture_sql(
            "parse",
            parse_template,
            args,
            lambda url: servers.running(servers.parse_process(url, 1, install_dir)),
            sql_dir,
        )
        sql_counts["parse"] = {k: len(v[-1]) for k, v in captures.runs.items()}

    if "backend_kit" in args.only:
        say(f"backend_kit: uvicorn with {args.workers} workers")
        with (
            fresh_database("bkbench_run_bk", bk_template, args.keep_databases) as url,
            backend_kit_running(url, args.workers) as process,
        ):
            results["backend_kit"] = measure_server(
                "backend_kit", servers.origin_of(process), args, workdir, process
            )
    if parse_template and install_dir:
        say(f"Parse Server {servers.PARSE_SERVER_VERSION}: {args.parse_processes} process(es)")
        with fresh_database("bkbench_run_parse", parse_template, args.keep_databases) as url:
            process = servers.parse_process(url, args.parse_processes, install_dir)
            with servers.running(process):
                results["parse"] = measure_server(
                    "parse", servers.origin_of(process), args, workdir, process
                )
    if "floor" in args.only and scripts:
        say("floor: pgbench with the SQL backend_kit issues")
        with fresh_database("bkbench_floor", bk_template, args.keep_databases):
            results["floor"] = measure_floor(scripts, "bkbench_floor", args, workdir)

    ceiling_ops = [name for name in args.ops if name in ceiling.OPERATIONS]
    if "ceiling" in args.only and ceiling_ops:
        say(
            f"Python ceiling: bench/http/ceiling.py, uvicorn with {args.workers} workers,"
            f" {', '.join(ceiling_ops)}"
        )
        ceiling_args = argparse.Namespace(**{**vars(args), "ops": ceiling_ops})
        with (
            fresh_database("bkbench_ceiling", bk_template, args.keep_databases) as url,
            servers.running(ceiling.ceiling_process(url, args.workers)) as process,
        ):
            results["ceiling"] = measure_server(
                "ceiling", servers.origin_of(process), ceiling_args, workdir, process
            )

    profile_data: dict[str, Any] = {}
    op_name = pick_profile_op(results, args) if "backend_kit" in args.only else None
    if op_name:
        try:
            profile_data = run_profile(op_name, bk_template, args, out_dir, workdir)
        except Exception as exc:  # the measurements above are kept whatever happens here
            say(f"profile of {op_name} failed: {exc!r}")

    data = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": " ".join(["python3 bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "elapsed_s": round(time.monotonic() - started),
        "machine": report.machine(),
        "load": {"start": load_start, "end": report.load_average()},
        "config": {
            "objects": args.objects,
            "users": args.users,
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "operations": args.ops,
            "workers": args.workers,
            "parse_processes": args.parse_processes,
            "parse_version": servers.PARSE_SERVER_VERSION,
        },
        "operations": {op.name: op.describe for op in OPERATIONS},
        "results": results,
        "sql_statements_per_request": sql_counts,
        "profile": profile_data,
    }
    report.write_json(out_dir / "results.json", data)
    print()
    print(report.table(results, args.concurrency))
    print()
    ceiling_table = report.ceiling_table(results, args.concurrency)
    if ceiling_table:
        print("Python ceiling (bench/http/ceiling.py):")
        print(ceiling_table)
        print()
    cpu = report.cpu_table(results, max(args.concurrency))
    if cpu:
        print(f"CPU µs per request at c={max(args.concurrency)}, by process group:")
        print(cpu)
        print()
    say(f"results: {out_dir / 'results.json'}; SQL and pgbench scripts: {sql_dir}")
    if profile_data:
        say(f"profile: {', '.join(profile_data['files'])} (summary {profile_data['summary']})")
    complete = set(args.only) == set(TARGETS) and set(args.ops) == set(BY_NAME)
    if complete and not args.no_record:
        report.update_results_md(ROOT / "bench" / "RESULTS.md", data)
        say("bench/RESULTS.md updated")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0
