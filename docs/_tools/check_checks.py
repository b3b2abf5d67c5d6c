#!/usr/bin/env python3
"""Fail when docs/reference/checks.md and the system check ids in the code disagree.

Every ``backend_kit.E0xx`` / ``backend_kit.W0xx`` id found in ``backend_kit/**/*.py``
must have a table row on the page (a row starting with the id in backticks), and every
id on the page must still exist in the code.

Run from the repository root: ``python docs/_tools/check_checks.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "checks.md"
CHECK_ID = re.compile(r"backend_kit\.[EW]\d{3}")
ROW_ID = re.compile(r"^\|\s*`(backend_kit\.[EW]\d{3})`\s*\|")


def ids_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "backend_kit").rglob("*.py")):
        for check_id in set(CHECK_ID.findall(path.read_text(encoding="utf-8"))):
            found.setdefault(check_id, []).append(str(path.relative_to(ROOT)))
    return found


def ids_on_page() -> set[str]:
    ids = set()
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        row = ROW_ID.match(line)
        if row:
            ids.add(row.group(1))
    return ids


def main() -> int:
    in_code = ids_in_code()
    on_page = ids_on_page()
    problems = [
        f"{check_id} (in {', '.join(in_code[check_id])}) is not documented"
        for check_id in sorted(set(in_code) - on_page)
    ]
    problems += [
        f"{check_id} is documented but no code uses it"
        for check_id in sorted(on_page - set(in_code))
    ]
    if problems:
        print(f"{PAGE.relative_to(ROOT)} is out of date:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"checks reference OK: {len(in_code)} ids")
    return 0


if __name__ == "__main__":
    sys.exit(main())
