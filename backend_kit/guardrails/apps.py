from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_level_triggers(sender, using="default", **kwargs) -> None:  # type: ignore[no-untyped-def]
    from . import levels

    levels.install(using)


def _stored_file_pre_save(sender, instance, raw=False, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Refuse a file record that would take the stored bytes past their cap."""
    if raw or not instance._state.adding or not instance.size:
        return
    from . import audit, quotas

    scope = audit.current()
    quotas.check_level_room("file_bytes_stored", scope.ctx if scope else None, int(instance.size))


class GuardrailsConfig(AppConfig):
    name = "backend_kit.guardrails"
    label = "backend_kit_guardrails"
    verbose_name = "backend_kit guardrails"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import pre_save

        from .. import api, routing
        from ..objects import writes
        from . import asgi, checks, guards, retention, sources, usage  # noqa: F401

        # every registration below is idempotent: ready() runs again when tests
        # swap INSTALLED_APPS
        api.add_request_guard(guards.request_guard)
        api.add_response_observer(guards.response_observer)
        writes.add_original_predicate(sources.wants_original)
        writes.add_write_listener(sources.object_written, acts_on=sources.acts_on)
        writes.add_write_listener(usage.object_written, acts_on=usage.acts_on)
        routing.register_application_wrapper(asgi.wrap)
        sources.connect()
        post_migrate.connect(
            _install_level_triggers, sender=self, dispatch_uid="backend_kit_guardrails_levels"
        )
        if apps.is_installed("backend_kit.files"):
            pre_save.connect(
                _stored_file_pre_save,
                sender="backend_kit_files.StoredFile",
                dispatch_uid="backend_kit_guardrails_file_bytes",
            )
        retention.register_cleanup_job()
