from django.apps import AppConfig


class BackendKitConfig(AppConfig):
    name = "backend_kit"
    label = "backend_kit"
    verbose_name = "backend_kit"

    def ready(self) -> None:
        from . import checks, openapi  # noqa: F401  (system checks, OpenAPI extension)
