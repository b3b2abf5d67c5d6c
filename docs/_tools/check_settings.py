#!/usr/bin/env python3
"""Fail when docs/reference/settings.md and the settings the code reads disagree.

The code's settings are the keys of ``backend_kit.conf.DEFAULTS`` (``BACKEND_KIT``) and
of each app's own dict: ``LIVE_QUERY`` (``backend_kit/realtime/settings.py``), ``FILES``
(``backend_kit/files/settings.py``), ``PUSH`` (``backend_kit/push/app_settings.py``,
when the push app exists) and ``GUARDRAILS`` (``backend_kit/guardrails/app_settings.py``).
The jobs app's keys live in ``DEFAULTS`` itself.

The page marks each section with an HTML comment ``<!-- settings: NAME -->``; a key is
documented when a table row of that section starts with it in backticks. Keys missing
from the page and keys on the page the code no longer has both fail the check.

Run from the repository root: ``python docs/_tools/check_settings.py``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "settings.md"
MARKER = re.compile(r"<!--\s*settings:\s*([A-Z_]+)\s*-->")
ROW_KEY = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|")

# section name -> (module, attribute holding the defaults dict)
SOURCES = {
    "BACKEND_KIT": ("backend_kit.conf", "DEFAULTS"),
    "LIVE_QUERY": ("backend_kit.realtime.settings", "DEFAULTS"),
    "FILES": ("backend_kit.files.settings", "DEFAULTS"),
    "PUSH": ("backend_kit.push.app_settings", "DEFAULTS"),
    "GUARDRAILS": ("backend_kit.guardrails.app_settings", "DEFAULTS"),
}


def code_keys() -> dict[str, set[str]]:
    sys.path.insert(0, str(ROOT))
    found: dict[str, set[str]] = {}
    for section, (module, attribute) in SOURCES.items():
        try:
            defaults = getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError:
            if section == "PUSH":  # the push app is optional and may not exist yet
                continue
            raise
        found[section] = set(defaults)
    return found


def page_keys(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    section: str | None = None
    for line in text.splitlines():
        marker = MARKER.search(line)
        if marker:
            section = marker.group(1)
            if section != "END":
                found.setdefault(section, set())
            continue
        row = ROW_KEY.match(line)
        if row and section and section != "END":
            found[section].add(row.group(1))
    return found


def main() -> int:
    in_code = code_keys()
    on_page = page_keys(PAGE.read_text(encoding="utf-8"))
    problems = []
    for section, keys in sorted(in_code.items()):
        documented = on_page.get(section)
        if documented is None:
            problems.append(f"{section}: no <!-- settings: {section} --> section on the page")
            continue
        for key in sorted(keys - documented):
            problems.append(f"{section}[{key!r}] is read by the code but not documented")
        for key in sorted(documented - keys):
            problems.append(f"{section}[{key!r}] is documented but the code has no such key")
    for section in sorted(set(on_page) - set(in_code)):
        problems.append(f"section {section} on the page has no settings dict in the code")
    if problems:
        print(f"{PAGE.relative_to(ROOT)} is out of date:")
        for problem in problems:
            print("  " + problem)
        return 1
    total = sum(len(keys) for keys in in_code.values())
    print(f"settings reference OK: {total} keys in {', '.join(sorted(in_code))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
