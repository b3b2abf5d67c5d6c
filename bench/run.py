#!/usr/bin/env python3
"""HTTP benchmark: ``python3 bench/run.py`` (options: ``python3 bench/run.py --help``).

Needs only Python 3.11+ and the machine's PostgreSQL (127.0.0.1:5432), redis-server,
Node.js/npm and pgbench. Run with any ``python3``, it sets up the project's virtual
environment the way ``dev.py`` does (``.venv``, or ``BACKEND_KIT_VENV``) and re-runs
itself there; the benchmark's own extras (bcrypt, py-spy) and Debian's ``wrk`` are
installed when missing. See ``bench/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This file's directory must not shadow the standard library's `http` with bench/http.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import importlib.util  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402

NEEDED = ("django", "httpx", "psycopg", "uvicorn", "backend_kit")
EXTRAS = {"bcrypt": "bcrypt>=4,<6", "py-spy": "py-spy>=0.3.14,<0.5"}


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def project_python() -> None:
    """Re-run under the project's virtualenv unless this interpreter has everything."""
    if all(has_module(m) for m in NEEDED):
        return
    import dev

    dev.ensure_venv()
    if Path(sys.executable).resolve() == Path(dev.PY).resolve():
        sys.exit("the project's virtualenv lacks backend_kit's dependencies")
    os.execv(str(dev.PY), [str(dev.PY), str(Path(__file__).resolve()), *sys.argv[1:]])


def bench_extras() -> None:
    missing = [spec for name, spec in EXTRAS.items() if not has_extra(name)]
    if missing:
        print(f"[bench] installing {', '.join(missing)}", flush=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *missing])


def has_extra(name: str) -> bool:
    if name == "py-spy":
        return Path(sys.executable).with_name("py-spy").exists()
    return has_module(name)


if __name__ == "__main__":
    project_python()
    bench_extras()
    from bench.http.main import main

    sys.exit(main())
