"""How fast ``bk_import`` takes in a Parse export: objects per second, per database and form.

    .venv/bin/python bench/migration/import_rate.py                  # both databases, both forms
    .venv/bin/python bench/migration/import_rate.py --db postgres --form rest --again
    .venv/bin/python bench/migration/import_rate.py --objects 3000 --users 300 --profile /tmp/p

The export is the acceptance tests' synthetic Parse app (tests/migration/parse_export.py:
posts, comments and places, users with bcrypt hashes, roles, sessions, installations and
the relation files), written once into ``~/.cache/backend_kit-bench/parse-export-<objects>-
<users>`` (``BACKEND_KIT_BENCH_CACHE`` moves it). Each run starts from an empty, migrated
database (PostgreSQL: ``bkbench_import`` on 127.0.0.1:5432, or ``BENCH_PG_URL``; SQLite: a
file in a temporary directory, with the test settings' pragmas) and times
``call_command("bk_import", <dir>, "--sessions")`` in a fresh process, Django's start-up
left out. ``--again`` times a second import of the same directory (everything unchanged).
``--profile DIR`` records each import with py-spy (raw stacks, for flamegraph.pl or a
grep) into DIR.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
PG_DATABASE = "bkbench_import"
CACHE = Path(
    os.environ.get("BACKEND_KIT_BENCH_CACHE", Path.home() / ".cache" / "backend_kit-bench")
)

IMPORT = """
import time, django
django.setup()
from io import StringIO
from django.core.management import call_command
out = StringIO()
started = time.perf_counter()
call_command("bk_import", {path!r}, "--sessions", "--no-progress", stdout=out, stderr=out)
print("SECONDS", time.perf_counter() - started)
print(out.getvalue())
"""


def export_dir(objects: int, users: int) -> Path:
    out = CACHE / f"parse-export-{objects}-{users}"
    if not (out / "mongo" / "_User.json").exists():
        print(f"[bench] writing the export to {out}", flush=True)
        subprocess.check_call(
            [
                sys.executable,
                "-m",
                "tests.migration.parse_export",
                str(out),
                "--objects",
                str(objects),
                "--users",
                str(users),
            ],
            cwd=ROOT,
        )
    return out


def record_count(directory: Path) -> tuple[int, int]:
    """(objects, relation pairs) in a REST export directory."""
    import orjson

    objects = pairs = 0
    for path in directory.glob("*.json"):
        if path.name == "_SCHEMA.json":
            continue
        count = len(orjson.loads(path.read_bytes())["results"])
        if path.name.startswith("_Join:"):
            pairs += count
        else:
            objects += count
    return objects, pairs


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(db: str, scratch: Path) -> str:
    if db == "postgres":
        _psql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        _psql(f'CREATE DATABASE "{PG_DATABASE}"')
        return f"{PG_URL}/{PG_DATABASE}"
    path = scratch / "import.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_import(env: dict[str, str], path: Path, profile: Path | None, label: str) -> float:
    command = [sys.executable, "-c", IMPORT.format(path=str(path))]
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(spy),
            "record",
            "-f",
            "raw",
            "-r",
            "50",
            "-o",
            str(profile / f"{label}.txt"),
            "--",
            *command,
        ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bk_import failed:\n{result.stdout}\n{result.stderr}")
    lines = result.stdout.splitlines()
    seconds = float(next(line for line in lines if line.startswith("SECONDS")).split()[1])
    total = [line for line in lines if line.startswith("total:")]
    print(f"    {total[-1] if total else ''}", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["postgres", "sqlite"])
    parser.add_argument("--form", action="append", choices=["rest", "mongo"])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--again", action="store_true", help="also time a second import")
    parser.add_argument("--profile", type=Path, help="py-spy raw profiles into this directory")
    args = parser.parse_args()
    export = export_dir(args.objects, args.users)
    objects, pairs = record_count(export / "rest")
    print(f"export: {objects} objects, {pairs} relation pairs ({export})", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bkbench-import-") as scratch:
        for db in args.db or ["postgres", "sqlite"]:
            for form in args.form or ["rest", "mongo"]:
                url = fresh_database(db, Path(scratch))
                env = {
                    **os.environ,
                    "BENCH_DATABASE_URL": url,
                    "DJANGO_SETTINGS_MODULE": "bench.migration.settings",
                    "PYTHONPATH": str(ROOT),
                }
                subprocess.check_call(
                    [sys.executable, "-m", "django", "migrate", "-v0"], cwd=ROOT, env=env
                )
                runs = ["first", "again"] if args.again else ["first"]
                for run in runs:
                    print(f"[bench] {db} {form} ({run} import)", flush=True)
                    seconds = run_import(env, export / form, args.profile, f"{db}-{form}-{run}")
                    rows.append((db, form, run, seconds))
        if (args.db or ["postgres"]).count("postgres"):
            _psql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    print(f"\n{'database':10} {'form':6} {'import':7} {'seconds':>8} {'objects/s':>10}")
    for db, form, run, seconds in rows:
        print(f"{db:10} {form:6} {run:7} {seconds:8.1f} {objects / seconds:10.0f}")
    print(
        f"(objects/s: the {objects} objects over the whole import, which also stores "
        f"{pairs} relation pairs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
