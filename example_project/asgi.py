"""ASGI entry point: ``uvicorn example_project.asgi:application --workers 4``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from backend_kit.routing import parse_application  # noqa: E402

application = parse_application(django_application, mount="/parse")
