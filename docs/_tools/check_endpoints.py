#!/usr/bin/env python3
"""List every URL pattern under the mount from ``backend_kit.urls`` and compare with
docs/reference/endpoints.md.

Django is configured here with every backend_kit app whose dependencies are
installed, so the list is what a project installing all of them serves. A pattern is
documented when a table row of the page starts with it in backticks and names the
same HTTP methods (``GET, POST``; ``any`` for plain Django views).

    python docs/_tools/check_endpoints.py           # check the page
    python docs/_tools/check_endpoints.py --print   # print the generated table rows
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "endpoints.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|")
METHODS = ("get", "post", "put", "delete")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def setup_django() -> None:
    import django
    from django.conf import settings

    apps = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "rest_framework",
        "drf_spectacular",
        "backend_kit",
        "backend_kit.objects",
        "backend_kit.accounts",
        "backend_kit.cloud",
        "backend_kit.files",
    ]
    if installed("channels"):
        apps.append("backend_kit.realtime")
    if installed("django_celery_beat"):
        apps += ["django_celery_beat", "backend_kit.jobs"]
        if installed("backend_kit.push") and installed("push_notifications"):
            apps += ["push_notifications", "backend_kit.push"]
    apps.append("backend_kit.guardrails")
    settings.configure(
        SECRET_KEY="endpoints-listing",
        INSTALLED_APPS=apps,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF="backend_kit.urls",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        BACKEND_KIT={"APP_ID": "docs", "MASTER_KEY": "docs"},
        USE_TZ=True,
    )
    django.setup()


def routes() -> list[tuple[str, str, str]]:
    """``(route, methods, view)`` for every pattern of ``backend_kit.urls``, in order."""
    from django.urls import URLResolver

    import backend_kit.urls as bk_urls

    out: list[tuple[str, str, str]] = []

    def walk(patterns: list, prefix: str = "") -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            callback = pattern.callback
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            if view is not None:
                methods = ", ".join(m.upper() for m in METHODS if hasattr(view, m))
                name = f"{view.__module__}.{view.__name__}"
            else:
                methods = "any"
                name = f"{callback.__module__}.{callback.__name__}"
            out.append((route, methods, name))

    walk(bk_urls.urlpatterns)
    return out


def documented() -> dict[str, str]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    setup_django()
    found = routes()
    if "--print" in argv:
        for route, methods, view in found:
            print(f"| `{route}` | {methods} | `{view}` |")
        return 0
    on_page = documented()
    problems = []
    for route, methods, _view in found:
        if route not in on_page:
            problems.append(f"`{route}` ({methods}) is served but not documented")
        elif on_page[route] != methods:
            problems.append(f"`{route}`: the page says {on_page[route]!r}, the code {methods!r}")
    served = {route for route, _, _ in found}
    problems += [
        f"`{route}` is documented but not served" for route in sorted(set(on_page) - served)
    ]
    if problems:
        print(f"{PAGE.relative_to(ROOT)} is out of date:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"endpoints reference OK: {len(found)} patterns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
