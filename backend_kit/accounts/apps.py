from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend_kit.accounts"
    label = "backend_kit_accounts"
    verbose_name = "backend_kit accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save, pre_delete

        from .. import identity
        from ..objects import handlers
        from . import checks, importers, roles, sessions, signals, users  # noqa: F401

        class AccountsIdentity:
            def authenticate_session(self, token, context):  # type: ignore[no-untyped-def]
                return sessions.lookup(token)

            def roles_for(self, context):  # type: ignore[no-untyped-def]
                return roles.roles_for(context)

        identity.register(AccountsIdentity())
        importers.register()
        handlers.register("_User", users.UserHandler())
        handlers.register("_Session", sessions.SessionHandler())
        handlers.register("_Role", roles.RoleHandler())
        handlers.register_output_filter("_User", users.user_output)
        handlers.register_output_filter("_Session", sessions.session_output)
        model = settings.AUTH_USER_MODEL
        post_save.connect(signals.sync_saved_user, sender=model, dispatch_uid="bk_sync_saved_user")
        pre_delete.connect(
            signals.remember_object_id, sender=model, dispatch_uid="bk_remember_object_id"
        )
        post_delete.connect(
            signals.sync_deleted_user, sender=model, dispatch_uid="bk_sync_deleted_user"
        )
        from django.apps import apps

        if apps.is_installed("allauth.account"):
            from . import social

            social.connect_signals()
