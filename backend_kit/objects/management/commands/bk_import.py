"""``bk_import``: objects, schemas and relations from Parse JSON or MongoDB exports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from ...transfer import Counts, Importer, ImportOptions, ProgressBar, TransferError


class Command(BaseCommand):
    help = (
        "Import a file or a directory written by bk_export, a Parse export "
        '({"results": [...]}), a Parse dashboard export or MongoDB documents of a Parse '
        "database. Upserts by objectId: importing the same data twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file, directory, or - for standard input")
        parser.add_argument(
            "--class",
            dest="class_name",
            metavar="CLASS",
            help="class of the objects in a file (default: the file name); in a directory, "
            "import only this class",
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="objects per transaction")
        parser.add_argument(
            "--skip-existing", action="store_true", help="leave objects that exist untouched"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count, then roll everything back"
        )
        parser.add_argument(
            "--continue-on-error",
            action="store_true",
            help="skip (and report) records that cannot be imported instead of stopping",
        )
        parser.add_argument(
            "--sessions",
            action="store_true",
            help="also import _Session objects, so clients logged in on the old server stay "
            "logged in (skipped by default)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        self.show_progress = not options["no_progress"]
        importer = Importer(
            ImportOptions(
                batch_size=options["batch_size"],
                skip_existing=options["skip_existing"],
                dry_run=options["dry_run"],
                continue_on_error=options["continue_on_error"],
                sessions=options["sessions"],
            ),
            progress=self.progress_bar,
            warn=self.stderr.write,
        )
        try:
            results = importer.run(options["path"], options["class_name"])
        except (TransferError, DatabaseError, OSError) as exc:
            message = str(exc) if isinstance(exc, TransferError) else f"import failed: {exc}"
            if importer.batches_written:
                message += (
                    f" ({importer.batches_written} batches written before were kept; "
                    "importing again is safe)"
                )
            raise CommandError(message) from None
        total = Counts()
        for label, counts in results:
            total.add(counts)
            self.stdout.write(f"{label}: {counts.summary()}")
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}total: {total.summary()}"))

    def progress_bar(self, desc: str, total: int | None, unit: str) -> ProgressBar:
        stream = getattr(self.stderr, "_out", self.stderr)
        enabled = self.show_progress and hasattr(stream, "isatty") and stream.isatty()
        return tqdm(
            desc=desc,
            total=total,
            unit=unit,
            unit_scale=True,
            file=stream,
            disable=not enabled,
            leave=False,
        )
