from django.apps import AppConfig

_limit_registered = False


class FilesConfig(AppConfig):
    name = "backend_kit.files"
    label = "backend_kit_files"
    verbose_name = "backend_kit files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..objects.encoding import set_file_url_resolver
        from ..routing import register_body_limit
        from . import checks  # noqa: F401
        from .jobs import register_cleanup_job
        from .links import resolve

        set_file_url_resolver(resolve)
        global _limit_registered
        if not _limit_registered:  # ready() runs again when tests swap INSTALLED_APPS
            register_body_limit(files_body_limit)
            _limit_registered = True
        register_cleanup_job()


def files_body_limit(path: str) -> tuple[int, int, str] | None:
    """The ASGI body limit below the mount: the JSON form of the largest allowed file,
    refused with the same 130 the view answers for a file over ``MAX_SIZE``."""
    if path == "files" or path.startswith("files/"):
        from ..errors import Code
        from .settings import json_form_limit, max_size

        return (
            json_form_limit(),
            Code.FILE_SAVE_ERROR,
            f"File size exceeds maximum allowed: {max_size()} bytes.",
        )
    return None
