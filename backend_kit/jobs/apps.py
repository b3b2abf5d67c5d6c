import importlib.util

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "backend_kit.jobs"
    label = "backend_kit_jobs"
    verbose_name = "backend_kit jobs"

    def ready(self) -> None:
        from . import checks  # noqa: F401

        if importlib.util.find_spec("celery") is not None:
            # Registers the shared tasks with every Celery app, including a host
            # app that does not autodiscover tasks.
            from . import tasks  # noqa: F401
