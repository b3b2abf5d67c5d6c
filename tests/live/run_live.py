#!/usr/bin/env python3
"""Live-server suites: the example project served by uvicorn, driven from outside.

Creates a scratch PostgreSQL database, migrates it in conformance mode
(``BACKEND_KIT_CONFORMANCE=1``), starts a local OpenID Connect provider (the
``oidc`` auth provider of the live run, ``oidc_stand_in.py``), serves
``example_project.asgi`` with two uvicorn workers on a free loopback port, then runs

* the Parse JS SDK suite (``tests/sdk``, node:test), and
* schemathesis against ``/api/schema/`` (no 5xx; every 4xx is a Parse error),

stops the server and drops the database, whatever happened. Exits non-zero when a
suite fails. Run with the project's virtualenv python::

    .venv/bin/python tests/live/run_live.py              # everything
    python tests/live/run_live.py --only sdk test/query.test.mjs
    python tests/live/run_live.py --serve                     # keep it up for poking

``DATABASE_URL`` names the PostgreSQL server to use (its database is not touched).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from collections.abc import Callable

from api_fuzz import run_api_fuzz
from oidc_stand_in import oidc_stand_in
from sdk_suite import SuiteResult, run_sdk_suite
from server import LiveServer, live_server, scratch_database


def say(message: str) -> None:
    print(f"[live] {message}", flush=True)


def serve_forever(server: LiveServer) -> None:
    say(f"serving {server.url}; Ctrl-C stops and drops the database")
    for key, value in server.env().items():
        print(f"export {key}={value}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def run_suites(server: LiveServer, only: str | None, files: list[str]) -> list[SuiteResult]:
    suites: list[tuple[str, Callable[[], SuiteResult]]] = [
        ("sdk", lambda: run_sdk_suite(server.env(), files or None)),
        ("fuzz", lambda: run_api_fuzz(server)),
    ]
    results = []
    for key, run in suites:
        if only and key != only:
            continue
        say(f"=== {key} ===")
        started = time.monotonic()
        try:
            result = run()
        except Exception as exc:  # a suite that cannot start is a failed suite
            result = SuiteResult(key, False, f"could not run: {exc}")
        result.summary += f" [{time.monotonic() - started:.0f}s]"
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["sdk", "fuzz"], help="run one suite")
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C, run nothing")
    parser.add_argument("files", nargs="*", help="SDK test files (relative to tests/sdk)")
    args = parser.parse_args()
    # SIGTERM (and SIGINT, which a background job ignores) unwind through the context
    # managers below, so the server stops and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not shutil.which("node") or not shutil.which("npm"):
        say("Node.js and npm are needed for the live suites")
        return 1
    started = time.monotonic()
    results: list[SuiteResult] = []
    server: LiveServer | None = None
    try:
        with (
            scratch_database() as database_url,
            oidc_stand_in() as oidc,
            live_server(
                database_url, server_env=oidc.server_env, client_env=oidc.client_env
            ) as server,
        ):
            say(f"server up at {server.url} ({time.monotonic() - started:.0f}s)")
            if args.serve:
                serve_forever(server)
                return 0
            results = run_suites(server, args.only, args.files)
            if not all(r.ok for r in results):
                say("last lines of the server log:\n" + server.log_tail())
    except Exception as exc:
        say(f"live run aborted: {exc}")
        if server is not None:
            say("last lines of the server log:\n" + server.log_tail())
        return 1
    say(f"=== summary ({time.monotonic() - started:.0f}s) ===")
    for result in results:
        say(f"{'PASS' if result.ok else 'FAIL'} {result.name}: {result.summary}")
        for line in result.details:
            say(f"    {line}")
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
