"""``bk_audit_cleanup``: delete audit entries older than the retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ... import app_settings
from ...retention import clean_up, cutoff


class Command(BaseCommand):
    help = "Delete audit entries older than GUARDRAILS['AUDIT_RETENTION_DAYS'] (or --days)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, help="keep this many days instead of the setting")
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        if days is None and app_settings.get("AUDIT_RETENTION_DAYS") is None:
            self.stdout.write("AUDIT_RETENTION_DAYS is None: audit entries are kept forever.")
            return
        before = cutoff(days)
        count = clean_up(days, dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {count} audit entries older than {before:%Y-%m-%d %H:%M:%S %Z}")
