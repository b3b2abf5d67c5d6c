#!/usr/bin/env python3
"""Developer entry point: ``python3 dev.py demo`` and ``python3 dev.py test``.

Needs only Python 3.11+. Creates ``.venv`` beside this file, installs the package with
its development extras, then:

* ``demo``: migrates the embedded SQLite database, creates a demo superuser (the
  password is printed once), and serves the example project on http://127.0.0.1:8000
  with the embedded defaults (SQLite, in-memory channel layer, in-process jobs, local
  files). The demo task board at / needs npm once, for the Parse JS SDK.
* ``test``: runs every test suite and builds the docs (``mkdocs build --strict``);
  the SQLite suite runs twice, with this Python and Django 5.2 in ``.venv`` and with
  Python 3.13 and Django 6.0 in ``.venv-newest``: the two ends of the supported range.
  Suites whose services are missing on this machine (PostgreSQL, Redis, Node.js,
  Chromium) are skipped with the reason printed; ``.ci/run`` starts those services
  first so that nothing is skipped in CI.

``python3 dev.py test -- -k increment`` passes the rest to pytest (SQLite run only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("BACKEND_KIT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".backend_kit-installed"

#: The newest end of the supported range (pyproject's classifiers): Django 6.0 needs
#: Python 3.12 or newer, so ``.venv`` (built by the python3 that runs this file, 3.11
#: on the CI machine) tests Django 5.2, and this second virtualenv tests Python 3.13
#: with Django 6.0.
NEWEST_PYTHON = "3.13"
NEWEST_DJANGO = "Django>=6.0,<6.1"
NEWEST_VENV = ROOT / ".venv-newest"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> int:
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by any python3
        sys.exit("backend_kit needs Python 3.11 or newer")
    if not PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    failed = install_into(VENV)
    if failed:
        sys.exit(f"{failed} failed")


def install_into(venv_dir: Path, *requirements: str) -> str | None:
    """backend_kit with its development extras (and ``requirements``) in ``venv_dir``.

    Skipped while the virtualenv's stamp is newer than ``pyproject.toml``. Returns
    None, or the step that failed.
    """
    py = venv_dir / BIN.name / "python"
    stamp = venv_dir / STAMP.name
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return None
    say(f"installing backend_kit with its development extras into {venv_dir} (a few minutes)")
    if run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"]) != 0:
        return "pip upgrade"
    if run([py, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]", *requirements]) != 0:
        return "installing backend_kit"
    stamp.touch()
    return None


def newest_python() -> str | None:
    """A working Python ``NEWEST_PYTHON``: one of pyenv's versions, or on the PATH.

    pyenv's shim for ``python3.13`` is on the PATH even when pyenv's global version is
    another one, and then it only prints an error: each candidate is tried.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv.glob(f"versions/{NEWEST_PYTHON}.*/bin/python{NEWEST_PYTHON}"))
    candidates.reverse()
    on_path = shutil.which(f"python{NEWEST_PYTHON}")
    for candidate in [*map(str, candidates), *([on_path] if on_path else [])]:
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def ensure_newest_venv(python: str) -> Path | None:
    """``NEWEST_VENV`` with backend_kit, its development extras and ``NEWEST_DJANGO``."""
    if not (NEWEST_VENV / "bin" / "python").exists():
        say(f"creating virtual environment in {NEWEST_VENV} (Python {NEWEST_PYTHON})")
        if run([python, "-m", "venv", NEWEST_VENV]) != 0:
            return None
    if install_into(NEWEST_VENV, NEWEST_DJANGO):
        return None
    return NEWEST_VENV / "bin" / "python"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def install_board_sdk() -> None:
    """The demo board at / runs on the Parse JS SDK, installed from npm beside it."""
    web = ROOT / "example_project" / "web"
    lock, installed = web / "package-lock.json", web / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    if not shutil.which("npm"):
        say("npm not found: the board at / needs the Parse JS SDK (npm ci in example_project/web)")
        return
    if run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", web]) != 0:
        say("npm ci in example_project/web failed: the board at / will not start")


def demo(args: list[str]) -> int:
    ensure_venv()
    install_board_sdk()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example_project.settings"}
    if run([PY, "manage.py", "migrate", "--noinput"], env=env) != 0:
        return 1
    run([PY, "manage.py", "bk_demo_user"], env=env)
    say(
        "serving http://127.0.0.1:8000  (task board: /, admin: /admin/, Parse API: /parse/, "
        "OpenAPI: /api/docs/)"
    )
    return run([PY, "manage.py", "runserver", "127.0.0.1:8000", *args], env=env)


def test(args: list[str]) -> int:
    ensure_venv()
    from_ci = os.environ.get("CI") == "1"
    failures: list[str] = []
    skipped: list[str] = []

    def suite(name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        say(f"=== {name} ===")
        code = run(cmd, env={**os.environ, **(env or {})})
        if code != 0:
            failures.append(name)

    pytest_args = ["-p", "no:cacheprovider", *args]
    suite(
        "pytest on SQLite",
        [PY, "-m", "pytest", "--ds=tests.projects.sqlite.settings", *pytest_args],
    )
    pg_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/backend_kit")
    if port_open("127.0.0.1", 5432) or "DATABASE_URL" in os.environ:
        suite(
            "pytest on PostgreSQL",
            [PY, "-m", "pytest", "--ds=tests.projects.postgres.settings", "-p", "no:cacheprovider"],
            env={"DATABASE_URL": pg_url},
        )
    else:
        skipped.append("pytest on PostgreSQL: no PostgreSQL on 127.0.0.1:5432 (set DATABASE_URL)")
    suite(
        "pytest with a swapped user model (email as username)",
        [
            PY,
            "-m",
            "pytest",
            "--ds=tests.projects.custom_user.settings",
            "tests/accounts",
            "--ignore=tests/accounts/test_allauth.py",
            "-p",
            "no:cacheprovider",
        ],
    )
    newest = newest_python()
    if newest:
        newest_py = ensure_newest_venv(newest)
        if newest_py is None:
            failures.append(f"installing the Python {NEWEST_PYTHON} virtualenv")
        else:
            suite(
                f"pytest on SQLite with Python {NEWEST_PYTHON} and {NEWEST_DJANGO}",
                [newest_py, "-m", "pytest", "--ds=tests.projects.sqlite.settings", *pytest_args],
            )
    else:
        skipped.append(
            f"pytest with Python {NEWEST_PYTHON} and {NEWEST_DJANGO}: no python{NEWEST_PYTHON}"
            " on the PATH or in pyenv"
        )
    docs_site = VENV / "docs-site"
    suite(
        "docs: mkdocs build --strict",
        [PY, "-m", "mkdocs", "build", "--strict", "-q", "--site-dir", docs_site],
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
    for check in sorted((ROOT / "docs" / "_tools").glob("check_*.py")):
        suite(f"docs: {check.name} (the reference pages match the code)", [PY, check])
    live = ROOT / "tests" / "live" / "run_live.py"
    if live.exists():
        if shutil.which("node") and port_open("127.0.0.1", 5432):
            suite(
                "live server suites (Parse JS SDK, schemathesis)",
                [PY, str(live)],
                env={"DATABASE_URL": pg_url},
            )
        else:
            skipped.append("live server suites: need Node.js and PostgreSQL")
    browser = ROOT / "tests" / "browser"
    if browser.exists():
        chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
        if shutil.which("node") and shutil.which("npm") and chromium:
            suite(
                "browser tests (the demo board in headless Chromium)",
                [PY, "-m", "pytest", str(browser), "-p", "no:cacheprovider"],
                env={"BACKEND_KIT_BROWSER_TESTS": "1", "CHROMIUM_PATH": chromium},
            )
        else:
            skipped.append(
                "browser tests: need Node.js, npm and Chromium (apt-get install chromium)"
            )
    for line in skipped:
        say("SKIPPED " + line)
    if from_ci and skipped:
        failures.append("suites skipped in CI")
    if failures:
        say("FAILED: " + ", ".join(failures))
        return 1
    say("all test suites passed")
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return demo(rest) if command == "demo" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
