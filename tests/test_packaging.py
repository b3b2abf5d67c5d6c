"""``pip install .`` into a fresh virtualenv plus the quick start gives a working host.

The steps are read from ``docs/tutorial/quickstart.md`` itself: its Python blocks whose
first line names a file (``# mysite/settings.py``) are applied to a new project made
with ``django-admin startproject mysite``, exactly as a reader would: settings are
appended, ``urls.py`` and ``asgi.py`` replaced. Slow (it builds and installs
the wheel); marked ``slow`` and run by ``python3 dev.py test``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "docs" / "tutorial" / "quickstart.md"
FENCE = re.compile(r"^```python\n# mysite/(?P<title>[\w.]+)\n(?P<body>.*?)^```", re.M | re.S)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _once_per_test_command() -> None:
    # It does not use the test database: run it in the SQLite run only.
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("packaging is tested once, in the SQLite run")


def quickstart_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for match in FENCE.finditer(QUICKSTART.read_text()):
        blocks[match["title"]] = blocks.get(match["title"], "") + match["body"]
    return blocks


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (
        f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def test_quickstart_blocks_are_there() -> None:
    blocks = quickstart_blocks()
    assert {"settings.py", "urls.py", "asgi.py"} <= set(blocks), sorted(blocks)


def test_installed_package_serves_a_host_project(tmp_path: Path) -> None:
    blocks = quickstart_blocks()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "BACKEND_KIT", "DATABASE_URL"))
    }
    env.update({"PARSE_MASTER_KEY": "quickstart-master-key-that-is-long-enough", "PYTHONPATH": ""})
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    py = str(venv / "bin" / "python")
    run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"], tmp_path)
    # a real install from the source tree (builds the wheel), not an editable one
    run([py, "-m", "pip", "install", "-q", f"{ROOT}[realtime]"], tmp_path, env)
    (tmp_path / "host").mkdir()
    run(
        [str(venv / "bin" / "django-admin"), "startproject", "mysite", str(tmp_path / "host")],
        tmp_path,
        env,
    )
    project = tmp_path / "host" / "mysite"
    for name, code in blocks.items():
        target = project / name
        if name == "settings.py":
            target.write_text(target.read_text() + "\n" + code)
        else:
            target.write_text(code)
    host = tmp_path / "host"
    run([py, "manage.py", "check"], host, env)
    run([py, "manage.py", "migrate", "--noinput"], host, env)
    script = textwrap.dedent(
        """
        import json, os, django
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        django.setup()
        from django.conf import settings
        from django.test import Client
        kit = settings.BACKEND_KIT
        c = Client(HTTP_HOST="localhost")
        h = {"X-Parse-Application-Id": kit["APP_ID"], "X-Parse-Master-Key": kit["MASTER_KEY"]}
        r = c.post("/parse/classes/Note", json.dumps({"text": "hi"}), content_type="application/json", headers=h)
        assert r.status_code == 201, r.content
        oid = r.json()["objectId"]
        r = c.get("/parse/classes/Note", {"where": json.dumps({"text": "hi"})}, headers=h)
        assert [o["objectId"] for o in r.json()["results"]] == [oid], r.content
        r = c.get("/parse/classes/Note", headers={"X-Parse-Application-Id": "wrong"})
        assert r.status_code == 403 and r.json() == {"error": "unauthorized"}
        import importlib; importlib.import_module("mysite.asgi")
        print("quickstart ok")
        """
    )
    assert "quickstart ok" in run([py, "-c", script], host, env)
    # the installed package, not the source tree, served the requests
    location = run([py, "-c", "import backend_kit; print(backend_kit.__file__)"], host, env)
    assert str(ROOT) not in location
