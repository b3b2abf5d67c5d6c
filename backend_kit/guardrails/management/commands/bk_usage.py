"""``bk_usage``: current usage against the quotas; ``--recount`` resets the levels."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from ... import levels, quotas


class Command(BaseCommand):
    help = "Show usage (today, this month, levels) against the quotas."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON document")
        parser.add_argument(
            "--recount",
            action="store_true",
            help="recount the levels from the tables (after a TRUNCATE or a restore)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["recount"]:
            installed = levels.install()
            found = levels.recount()
            for metric, value in found.items():
                note = " (triggers installed)" if metric in installed else ""
                self.stdout.write(f"{metric}: {value}{note}")
        rows = [quotas.describe(row) for row in quotas.report()]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            caps = row["caps"]
            if row["kind"] == "flow":
                text = f"day {row['day']}/{caps.get('day', '-')}  month {row['month']}/{caps.get('month', '-')}"
            else:
                text = f"level {row['level']}/{caps.get('max', '-')}"
            self.stdout.write(f"{row['metric']:<22} {text}  [{row['state']}]")
