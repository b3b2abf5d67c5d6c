"""``bk_files_cleanup``: delete files no object references (a dry run unless ``--delete``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from ... import cleanup
from ... import settings as files_settings


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class Command(BaseCommand):
    help = (
        "Find files that no object references and that are older than the grace period; "
        "list them (the default) or delete them with --delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="delete the orphans (default: a dry run)"
        )
        parser.add_argument(
            "--grace",
            type=int,
            default=None,
            help="seconds a file must exist before it may go (default: FILES['CLEANUP_GRACE'])",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        grace = options["grace"]
        if grace is None:
            grace = int(files_settings.get("CLEANUP_GRACE"))
        if grace < 0:
            raise CommandError("--grace must not be negative")
        self.show_progress = not options["no_progress"]
        try:
            report = cleanup.run(grace, delete=options["delete"], progress=self.progress_bar)
        except DatabaseError as exc:
            raise CommandError(f"clean-up failed: {exc}") from None
        total = sum(f.size or 0 for f in report.orphans)
        if not options["delete"]:
            for record in report.orphans:
                self.stdout.write(f"would delete {record.name} ({_size(record.size or 0)})")
            self.stdout.write(
                f"{len(report.orphans)} orphan files ({_size(total)}); dry run, nothing "
                "deleted (use --delete)"
            )
            return
        for name in report.kept:
            self.stdout.write(f"kept {name}: referenced again")
        for name in report.failed:
            self.stderr.write(f"could not delete {name}")
        self.stdout.write(
            f"{len(report.deleted)} orphan files deleted ({_size(report.freed_bytes)}), "
            f"{len(report.kept)} kept, {len(report.failed)} failed"
        )
        if report.failed:
            raise CommandError(f"{len(report.failed)} files could not be deleted")

    def progress_bar(self, desc: str, total: int | None, unit: str) -> Any:
        stream = getattr(self.stderr, "_out", self.stderr)
        enabled = self.show_progress and hasattr(stream, "isatty") and stream.isatty()
        return tqdm(
            desc=desc, total=total, unit=unit, file=stream, disable=not enabled, leave=False
        )
