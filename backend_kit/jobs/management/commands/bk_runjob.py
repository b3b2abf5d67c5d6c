"""``manage.py bk_runjob <name> [--params JSON] [--wait]``: start a cloud job."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ....errors import ParseError
from ... import inprocess, status
from ...backends import uses_celery
from ...dispatch import start_job


class Command(BaseCommand):
    help = (
        "Start a job registered with @cloud.job (its _JobStatus source is 'command'). "
        "Prints the status id; --wait follows the job until it finishes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="the job's name")
        parser.add_argument("--params", default="{}", help="a JSON object of params")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the job and fail if the job fails"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            params = json.loads(options["params"])
        except ValueError as exc:
            raise CommandError(f"--params is not JSON: {exc}")
        try:
            status_id = start_job(options["name"], params, source="command")
        except ParseError as exc:
            raise CommandError(f"{exc.message} (code {exc.code})")
        self.stdout.write(f"Started {options['name']}: _JobStatus {status_id}")
        if not uses_celery():
            # The job runs in a thread of this process, which must outlive it.
            inprocess.join()
        elif not options["wait"]:
            return
        self._follow(status_id)

    def _follow(self, status_id: str) -> None:
        shown = None
        while True:
            data = status.read(status_id)
            if data is None:
                raise CommandError(f"_JobStatus {status_id} was deleted.")
            line = f"{data.get('status')}: {data.get('message') or ''}".rstrip(": ")
            if line != shown:
                self.stdout.write(line)
                shown = line
            if data.get("status") == status.SUCCEEDED:
                return
            if data.get("status") == status.FAILED:
                raise CommandError(f"Job failed: {data.get('message')}")
            time.sleep(0.5)
