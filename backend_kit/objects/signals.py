"""Signals sent by the objects app, always after the write's transaction commits.

``object_saved``
    ``sender`` is the class name. Arguments: ``object`` (API form, as the master key
    reads it, ``ACL`` included), ``original`` (the object before the write: None for a
    create, and also for updates of classes nobody asked the previous state of — it is
    read, under the row lock, only for LiveQuery classes (``LIVE_QUERY["CLASSES"]``) and
    classes with save triggers, so the common update stays one statement), ``context``
    (the writer's :class:`~backend_kit.context.RequestContext`).

``object_deleted``
    ``sender`` is the class name. Arguments: ``object`` (the deleted object, API form)
    and ``context``.

``schema_changed``
    ``sender`` is the class name. Sent after a schema is created, changed or deleted.

Receivers must not raise: a failing receiver is logged and the others still run
(``send_robust``). The realtime app turns these into LiveQuery events.
"""

from django.dispatch import Signal

object_saved = Signal()
object_deleted = Signal()
schema_changed = Signal()
