from importlib import import_module

from django.apps import AppConfig


class CloudConfig(AppConfig):
    name = "backend_kit.cloud"
    label = "backend_kit_cloud"
    verbose_name = "backend_kit cloud code"

    def ready(self) -> None:
        from ..conf import bk_settings
        from ..objects import hooks
        from . import checks  # noqa: F401
        from .triggers import CloudTriggers

        hooks.install(CloudTriggers())
        for module in bk_settings.CLOUD_MODULES or []:
            import_module(module)
