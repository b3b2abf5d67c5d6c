"""The small interface through which the objects app calls triggers.

``objects`` never imports ``cloud``: the cloud app installs an implementation of
:class:`Triggers` with :func:`install` in its ``ready()``. Without it every hook is a
no-op and :meth:`Triggers.has` is false, so the write path takes its fast route.

Objects passed to hooks are in the API form (what a client would receive from a
master-key read): ``{"objectId", "createdAt", "updatedAt", "ACL", ...fields}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..context import RequestContext


class Triggers:
    """Default: no triggers registered."""

    def has(self, trigger: str, class_name: str) -> bool:
        return False

    def before_save(
        self,
        ctx: RequestContext,
        class_name: str,
        obj: dict[str, Any],
        original: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """Return the fields to store (possibly changed) or raise to refuse."""
        return None

    def after_save(
        self,
        ctx: RequestContext,
        class_name: str,
        obj: dict[str, Any],
        original: dict[str, Any] | None,
    ) -> None:
        return None

    def before_delete(self, ctx: RequestContext, class_name: str, obj: dict[str, Any]) -> None:
        return None

    def after_delete(self, ctx: RequestContext, class_name: str, obj: dict[str, Any]) -> None:
        return None

    def before_find(
        self,
        ctx: RequestContext,
        class_name: str,
        query: dict[str, Any],
        *,
        count: bool,
        is_get: bool,
    ) -> dict[str, Any]:
        """Return the (possibly changed) query: ``{"where", "limit", "skip", "keys", ...}``."""
        return query

    def after_find(
        self, ctx: RequestContext, class_name: str, objects: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return objects

    def before_login(self, ctx: RequestContext, user: dict[str, Any]) -> None:
        """Raise to refuse a log-in (after the password or authData was checked)."""
        return None

    def after_login(self, ctx: RequestContext, user: dict[str, Any]) -> None:
        return None

    def after_logout(self, ctx: RequestContext, session: dict[str, Any]) -> None:
        return None

    # --- files (called by backend_kit.files) -------------------------------------
    # ``file`` is ``{"name", "contentType", "size", "metadata", "tags", "private"}``;
    # ``size`` is None while it is not known yet (a streamed upload without a length),
    # and after a save ``name`` is the stored name and ``url`` is set.

    def before_save_file(self, ctx: RequestContext, file: dict[str, Any]) -> dict[str, Any] | None:
        """Return the file description to use (possibly changed), None to keep it; raise to refuse."""
        return None

    def after_save_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        return None

    def before_delete_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        """Raise to refuse deleting the file."""
        return None

    def after_delete_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        return None


_triggers: Triggers = Triggers()


def install(triggers: Triggers | None) -> None:
    global _triggers
    _triggers = triggers or Triggers()


def triggers() -> Triggers:
    return _triggers
