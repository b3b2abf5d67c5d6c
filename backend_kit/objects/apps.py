from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _register_sqlite_functions(sender, connection, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        return
    from .operations import register_sqlite_functions as register_ops
    from .query.functions import register_sqlite_functions as register_query

    register_query(connection.connection)
    register_ops(connection.connection)


def _create_initial_classes(sender, using="default", **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Give _User and _Role their schema rows, as Parse Server does when it starts.

    They are listed by ``GET /schemas`` from the first request on, and like any class
    they stop being listed once ``DELETE /schemas/<name>`` removed them.
    """
    from django.db import router

    from .models import ClassSchema
    from .schema import INITIAL_CLASSES

    if not router.allow_migrate_model(using, ClassSchema):
        return
    for class_name in INITIAL_CLASSES:
        ClassSchema.objects.using(using).get_or_create(
            class_name=class_name,
            defaults={"fields": {}, "class_level_permissions": {}, "indexes": {}},
        )


class ObjectsConfig(AppConfig):
    name = "backend_kit.objects"
    label = "backend_kit_objects"
    verbose_name = "backend_kit objects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import connections

        from . import checks  # noqa: F401

        connection_created.connect(
            _register_sqlite_functions, dispatch_uid="backend_kit_sqlite_functions"
        )
        post_migrate.connect(
            _create_initial_classes, sender=self, dispatch_uid="backend_kit_initial_classes"
        )
        # Connections opened before ready() (management commands) get them too.
        for conn in connections.all(initialized_only=True):
            if conn.vendor == "sqlite" and conn.connection is not None:
                _register_sqlite_functions(None, conn)
