import importlib.util

from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "backend_kit.push"
    label = "backend_kit_push"
    verbose_name = "backend_kit push"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..objects import handlers, signals
        from . import checks, devices  # noqa: F401
        from .installations import InstallationHandler

        handlers.register("_Installation", InstallationHandler())
        from ..objects.transfer import register_importer

        register_importer("_Installation", devices.installation_importer())
        signals.object_saved.connect(devices.on_saved, dispatch_uid="bk_push_device_saved")
        signals.object_deleted.connect(devices.on_deleted, dispatch_uid="bk_push_device_deleted")
        if importlib.util.find_spec("celery") is not None:
            # registers the shared tasks with every Celery app, the host's included
            from . import tasks  # noqa: F401
