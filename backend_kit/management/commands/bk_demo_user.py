"""Create the demo superuser once and print its password (``python3 dev.py demo``)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a demo superuser 'admin' with a random password, printed once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "A superuser exists already; its password was printed when it was created."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(
            username=options["username"], email="admin@example.com", password=password
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo superuser created: username '{options['username']}', password '{password}' "
                "(shown only this once)."
            )
        )
