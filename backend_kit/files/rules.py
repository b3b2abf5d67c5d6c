"""Who may upload, and whether a new file is private (Parse Server 9's file rules)."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..errors import permission_denied
from . import settings as files_settings
from .names import save_error


def is_anonymous_user(ctx: RequestContext) -> bool:
    """A user signed in through ``authData.anonymous`` (Parse's ``AnonymousUtils.isLinked``)."""
    data = getattr(ctx.user, "data", None) or {}
    auth = data.get("authData") if isinstance(data, dict) else None
    return isinstance(auth, dict) and bool(auth.get("anonymous"))


def check_may_upload(ctx: RequestContext) -> None:
    """Refuse (130, Parse's messages) a caller the settings do not let upload."""
    if ctx.is_read_only_master:
        raise permission_denied("read-only masterKey isn't allowed to create a file.")
    if ctx.is_master:
        return
    if ctx.user is not None and is_anonymous_user(ctx):
        if not files_settings.get("ENABLE_FOR_ANONYMOUS"):
            raise save_error("File upload by anonymous user is disabled.")
    elif ctx.user is not None:
        if not files_settings.get("ENABLE_FOR_AUTHENTICATED"):
            raise save_error("File upload by authenticated user is disabled.")
    elif not files_settings.get("ENABLE_FOR_PUBLIC"):
        raise save_error("File upload by public is disabled.")
    roles = files_settings.get("UPLOAD_ROLES")
    if roles is not None and not set(roles) & set(ctx.roles if ctx.user is not None else []):
        raise save_error("File upload needs one of the roles " + ", ".join(sorted(roles)) + ".")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def wants_private(ctx: RequestContext, metadata: dict[str, Any]) -> bool:
    """``metadata.private`` when the caller may choose, else ``PRIVATE_BY_DEFAULT``."""
    default = bool(files_settings.get("PRIVATE_BY_DEFAULT"))
    if "private" not in metadata:
        return default
    if ctx.is_master or files_settings.get("CLIENT_PRIVACY"):
        return _truthy(metadata["private"])
    return default
