"""``bk_audit_export``: write the audit trail (filtered) as JSON Lines or CSV."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from ...export import FORMATS, lines
from ...models import AuditEntry


def _moment(value: str, option: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is not None:
            parsed = datetime(day.year, day.month, day.day)
    if parsed is None:
        raise CommandError(f"--{option}: not a date or datetime: {value!r}")
    return make_aware(parsed) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Export the audit trail as JSON Lines (default) or CSV, oldest first."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--since", help="from this date or datetime (inclusive)")
        parser.add_argument("--until", help="up to this date or datetime (exclusive)")
        parser.add_argument(
            "--origin", action="append", help="api, admin, cloud, job, command, system"
        )
        parser.add_argument(
            "--target", action="append", help="object, schema, clp, config, model, request"
        )
        parser.add_argument("--class", dest="class_name", help="a Parse class or model label")
        parser.add_argument("--user", help="a Parse user id or a username")

    def handle(self, *args: Any, **options: Any) -> None:
        entries = AuditEntry.objects.order_by("at", "id")
        if options["since"]:
            entries = entries.filter(at__gte=_moment(options["since"], "since"))
        if options["until"]:
            entries = entries.filter(at__lt=_moment(options["until"], "until"))
        if options["origin"]:
            entries = entries.filter(origin__in=options["origin"])
        if options["target"]:
            entries = entries.filter(target__in=options["target"])
        if options["class_name"]:
            entries = entries.filter(class_name=options["class_name"])
        if options["user"]:
            from django.db.models import Q

            entries = entries.filter(Q(user_id=options["user"]) | Q(username=options["user"]))
        total = entries.count()
        with contextlib.ExitStack() as stack:
            out = (
                stack.enter_context(open(options["output"], "w", encoding="utf-8", newline=""))
                if options["output"]
                else None
            )
            for line in lines(entries.iterator(chunk_size=2000), options["format"]):
                if out is None:
                    self.stdout.write(line, ending="")
                else:
                    out.write(line)
        if options["output"]:
            self.stderr.write(f"{total} entries written to {options['output']}")
        elif sys.stdout.isatty():
            self.stderr.write(f"{total} entries")
