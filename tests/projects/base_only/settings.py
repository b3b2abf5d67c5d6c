"""The package without optional extras: only the root and the objects app."""

from ..base import *  # noqa: F403
from ..base import INSTALLED_APPS

INSTALLED_APPS = [
    a
    for a in INSTALLED_APPS
    if not a.startswith(
        (
            "backend_kit.accounts",
            "backend_kit.cloud",
            "backend_kit.realtime",
            "backend_kit.jobs",
            "backend_kit.files",
            "backend_kit.push",
            "allauth",
            "django_celery_beat",
        )
    )
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
