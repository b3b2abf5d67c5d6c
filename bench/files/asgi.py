import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.files.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from backend_kit.routing import parse_application  # noqa: E402

application = parse_application(get_asgi_application(), mount="/parse")
