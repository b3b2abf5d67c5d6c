"""``bk_export``: classes to Parse's JSON export format (``{"results": [...]}``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from ...transfer import Exporter, ProgressBar, TransferError, open_output


class Command(BaseCommand):
    help = (
        "Export one class to a file or standard output (-), or several or all classes into a "
        "directory: <Class>.json, _SCHEMA.json and _Join:<field>:<Class>.json relation files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--class",
            dest="classes",
            action="append",
            metavar="CLASS",
            help="class to export (repeat for several; default: all classes)",
        )
        parser.add_argument(
            "--output",
            "-o",
            help="file or - for one class (default: standard output); directory otherwise",
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per query")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        self.show_progress = not options["no_progress"]
        exporter = Exporter(options["batch_size"], progress=self.progress_bar)
        classes, output = options["classes"], options["output"]
        try:
            if classes and len(classes) == 1 and not _is_directory(output):
                self._export_one(exporter, classes[0], output or "-")
                return
            if not output or output == "-":
                raise CommandError("exporting several classes needs --output DIRECTORY")
            for label, count in exporter.export_directory(Path(output), classes):
                self.stdout.write(f"{label}: {count} exported")
        except TransferError as exc:
            raise CommandError(str(exc)) from None
        except (DatabaseError, OSError) as exc:
            raise CommandError(f"export failed: {exc}") from None

    def _export_one(self, exporter: Exporter, class_name: str, output: str) -> None:
        exporter.check_class(class_name)
        if output == "-":
            # The JSON goes to standard output, so the counts go to standard error.
            count = exporter.export_class(class_name, getattr(self.stdout, "_out", self.stdout))
            self.stderr.write(f"{class_name}: {count} exported")
            return
        with open_output(output) as out:
            count = exporter.export_class(class_name, out)
        self.stdout.write(f"{class_name}: {count} exported to {output}")

    def progress_bar(self, desc: str, total: int | None, unit: str) -> ProgressBar:
        stream = getattr(self.stderr, "_out", self.stderr)
        enabled = self.show_progress and hasattr(stream, "isatty") and stream.isatty()
        return tqdm(
            desc=desc, total=total, unit=unit, file=stream, disable=not enabled, leave=False
        )


def _is_directory(output: str | None) -> bool:
    return bool(output) and output != "-" and (os.path.isdir(output) or output.endswith(os.sep))
