"""Signals of the accounts app (sent after the work is done; receivers must not raise).

``user_signed_up``  — ``sender="_User"``, ``object_id``, ``context``.
``user_logged_in``  — ``sender="_User"``, ``object_id``, ``context``.
``user_logged_out`` — ``sender="_User"``, ``object_id``, ``context``.
``sessions_revoked`` — ``sender="_Session"``, ``session_ids``.

Django's own ``post_save``/``post_delete`` on ``AUTH_USER_MODEL`` keep the Parse side
in step with users created, renamed or deleted outside the Parse API (the admin,
``createsuperuser``, allauth).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.dispatch import Signal

user_signed_up = Signal()
user_logged_in = Signal()
user_logged_out = Signal()
#: ``sender="_Session"``, ``session_ids``: sessions deleted in bulk (logout, password
#: change, user deletion), after commit. LiveQuery ends their subscriptions.
sessions_revoked = Signal()

_from_parse: contextvars.ContextVar[bool] = contextvars.ContextVar("bk_from_parse", default=False)


@contextlib.contextmanager
def creating_from_parse() -> Iterator[None]:
    """Django user writes made by the Parse API itself: the sync handlers stand aside."""
    token = _from_parse.set(True)
    try:
        yield
    finally:
        _from_parse.reset(token)


def sync_saved_user(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw or _from_parse.get():
        return
    from .models import UserLink
    from .users import ensure_parse_user

    link = UserLink.objects.filter(user=instance).first()
    if link is None:
        ensure_parse_user(instance)
        return
    if not instance.is_active:
        # a deactivated user's sessions end now, not when they expire
        from .sessions import revoke_user_sessions

        revoke_user_sessions(link.object_id)
    from ..conf import bk_settings
    from ..context import RequestContext
    from ..objects import reads, writes

    doc = reads.fetch_one_as_master("_User", link.object_id)
    if doc is None:
        return
    from .adapter import get_adapter

    username, email = get_adapter().parse_identity(instance, doc.get("username"), doc.get("email"))
    changes: dict[str, Any] = {}
    if username and doc.get("username") != username:
        changes["username"] = username
    if email != doc.get("email"):
        changes["email"] = email if email else {"__op": "Delete"}
    if changes:
        writes.update(
            RequestContext.master(app_id=bk_settings.APP_ID), "_User", link.object_id, changes
        )


def sync_deleted_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _from_parse.get():
        return
    from ..conf import bk_settings
    from ..context import RequestContext
    from ..errors import ParseError
    from ..objects import writes
    from .models import UserLink
    from .sessions import revoke_user_sessions

    link = UserLink.objects.filter(user_id=instance.pk).first()
    object_id = link.object_id if link else getattr(instance, "_bk_object_id", None)
    if not object_id:
        return
    try:
        writes.delete(RequestContext.master(app_id=bk_settings.APP_ID), "_User", object_id)
    except ParseError:
        pass
    revoke_user_sessions(object_id)


def remember_object_id(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Before a Django user is deleted (cascading its link), note its objectId."""
    from .models import UserLink

    link = UserLink.objects.filter(user_id=instance.pk).first()
    if link is not None:
        instance._bk_object_id = link.object_id
