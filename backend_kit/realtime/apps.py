from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "backend_kit.realtime"
    label = "backend_kit_realtime"
    verbose_name = "backend_kit realtime (LiveQuery)"

    def ready(self) -> None:
        from ..objects import signals, writes
        from . import checks, publisher, settings  # noqa: F401

        signals.object_saved.connect(publisher.on_saved, dispatch_uid="bk_lq_saved")
        signals.object_deleted.connect(publisher.on_deleted, dispatch_uid="bk_lq_deleted")
        writes.set_live_class_check(settings.is_live)
        try:
            from ..accounts.signals import sessions_revoked
        except ImportError:
            return
        sessions_revoked.connect(
            publisher.on_sessions_revoked, dispatch_uid="bk_lq_sessions_revoked"
        )
