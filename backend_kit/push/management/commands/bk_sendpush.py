"""``manage.py bk_sendpush``: send a push, preview its audience, or start due pushes.

manage.py bk_sendpush --channels news,sports --alert "Kick-off in 10 minutes"
manage.py bk_sendpush --where '{"deviceType": "ios"}' --data '{"alert": "Hi", "badge": "Increment"}'
manage.py bk_sendpush --user Xk3dh2Lp9q --alert "Your order shipped" --wait
manage.py bk_sendpush --where '{}' --alert "Maintenance at 22:00" --dry-run
manage.py bk_sendpush --due      # start scheduled pushes whose time has come (cron)
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ....errors import ParseError
from ....jobs import inprocess
from ... import dispatch, runner, service, status
from ...installations import installations_of_user


class Command(BaseCommand):
    help = (
        "Send a push to installations (by channels, a where query, or a user's devices). "
        "Prints the _PushStatus id; --wait follows it until it finishes."
    )

    def add_arguments(self, parser: Any) -> None:
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--channels", help="comma-separated channels")
        target.add_argument("--where", help="a JSON where over installations")
        target.add_argument("--user", help="a _User objectId: the installations of its sessions")
        parser.add_argument("--data", default="{}", help="the push data as a JSON object")
        parser.add_argument("--alert", help="the alert text (sets data.alert)")
        parser.add_argument("--title", help="the title (sets data.title)")
        parser.add_argument("--badge", help='a number, or "Increment"')
        parser.add_argument("--push-time", help="send later: ISO 8601 time or epoch seconds")
        parser.add_argument("--expiration-interval", type=int, help="seconds it stays deliverable")
        parser.add_argument("--dry-run", action="store_true", help="validate and count only")
        parser.add_argument("--wait", action="store_true", help="follow the push until it ends")
        parser.add_argument(
            "--due", action="store_true", help="start the scheduled pushes that are due, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["due"]:
            started = runner.start_due()
            self.stdout.write(f"Started {len(started)} due push(es).")
            self._outlive_threads()
            return
        body = self._body(options)
        try:
            if options["dry_run"]:
                _, types = service.prepare(body)
                total = sum(types.values())
                detail = ", ".join(f"{k or '(no type)'}: {v}" for k, v in sorted(types.items()))
                self.stdout.write(f"{total} installation(s) would receive it ({detail or 'none'}).")
                return
            status_id = service.send(body, source="command")
        except ParseError as exc:
            raise CommandError(f"{exc.message} (code {exc.code})")
        self.stdout.write(f"Push started: _PushStatus {status_id}")
        if (status.read(status_id) or {}).get("status") == status.SCHEDULED:
            if not dispatch.uses_celery():
                self.stdout.write(
                    "Scheduled: without a broker it is started by `bk_sendpush --due` (cron) "
                    "or by the web process that receives pushes."
                )
            return
        self._outlive_threads()
        if options["wait"]:
            self._follow(status_id)

    def _body(self, options: dict[str, Any]) -> dict[str, Any]:
        try:
            data = json.loads(options["data"])
        except ValueError as exc:
            raise CommandError(f"--data is not JSON: {exc}")
        if not isinstance(data, dict):
            raise CommandError("--data must be a JSON object")
        for key in ("alert", "title"):
            if options[key]:
                data[key] = options[key]
        if options["badge"]:
            badge = options["badge"]
            data["badge"] = int(badge) if badge.lstrip("-").isdigit() else badge
        body: dict[str, Any] = {"data": data}
        if options["channels"]:
            body["channels"] = [c.strip() for c in options["channels"].split(",") if c.strip()]
        elif options["where"]:
            try:
                body["where"] = json.loads(options["where"])
            except ValueError as exc:
                raise CommandError(f"--where is not JSON: {exc}")
        elif options["user"]:
            ids = installations_of_user(options["user"])
            if not ids:
                raise CommandError(f"User {options['user']} has no session with an installation.")
            body["where"] = {"installationId": {"$in": ids}}
        if options["push_time"]:
            value = options["push_time"]
            body["push_time"] = float(value) if value.replace(".", "", 1).isdigit() else value
        if options["expiration_interval"]:
            body["expiration_interval"] = options["expiration_interval"]
        return body

    def _outlive_threads(self) -> None:
        if not dispatch.uses_celery():
            # without a broker the push runs in threads of this process
            inprocess.join()

    def _follow(self, status_id: str) -> None:
        shown = None
        while True:
            data = status.read(status_id)
            if data is None:
                raise CommandError(f"_PushStatus {status_id} was deleted.")
            line = (
                f"{data.get('status')}: sent {data.get('numSent', 0)}, "
                f"failed {data.get('numFailed', 0)}"
            )
            if line != shown:
                self.stdout.write(line)
                shown = line
            if data.get("status") == status.SUCCEEDED:
                return
            if data.get("status") == status.FAILED:
                error = data.get("errorMessage") or {}
                raise CommandError(f"Push failed: {error.get('message', error)}")
            time.sleep(0.5)
