"""Prepared statements for backend_kit's own SQL on PostgreSQL.

Django hands psycopg every statement with its parameters written into the text
(client-side binding) and never prepares one: right behind any pooler, but PostgreSQL
then parses and plans each statement again, and for the one ``SELECT`` of a
``GET /classes/X/<id>`` that is most of its work (pgbench, that statement at 8
connections on the benchmark machine: 14,400 transactions/s as simple queries, 50,000
prepared). backend_kit's statements, everything that goes through
``sql.fetchall``/``fetchone``/``execute`` (objects, users, sessions, installations,
push audiences), take another cursor on the same connection instead: the parameters
travel apart from the text, and a statement the connection has run ``THRESHOLD`` times
is prepared by psycopg (named per connection; psycopg keeps its most recently used
ones and deallocates the rest). Django's own queries keep the connection as the host
configured it.

``BACKEND_KIT["PREPARED_STATEMENTS"]``: ``None`` (the default) prepares unless the
database sets ``DISABLE_SERVER_SIDE_CURSORS``, Django's mark of a transaction pooler
(PgBouncer's transaction mode keeps prepared statements only from 1.21 on, with
``max_prepared_statements``; set ``True`` there); ``False`` never prepares.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from ..conf import bk_settings

# psycopg's own default: a statement run fewer times on a connection is not worth a name
THRESHOLD = 5


class PreparedCursor(ServerBindingCursor):
    """Server-side binding; prepares after ``THRESHOLD`` runs even where Django said never.

    Django opens its connections with ``prepare_threshold=None`` (nothing prepared). The
    threshold is the connection's, so this cursor lends it one for the length of its
    own ``execute`` only: the host's queries on the connection are never prepared by it.
    A threshold the host configured (``OPTIONS["prepare_threshold"]``) is kept.
    """

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        conn = self.connection
        configured = conn.prepare_threshold
        if configured is not None:
            return super().execute(query, params, **kwargs)
        conn.prepare_threshold = THRESHOLD
        try:
            return super().execute(query, params, **kwargs)
        finally:
            conn.prepare_threshold = configured


def prepares(conn: Any) -> bool:
    """Whether backend_kit prepares its statements on this PostgreSQL connection."""
    wanted = bk_settings.PREPARED_STATEMENTS
    if wanted is None:
        return not conn.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    return bool(wanted)


def prepared_cursor(conn: Any) -> Any:
    """A Django cursor wrapper around a :class:`PreparedCursor` on ``conn``.

    What ``conn.cursor()`` does (health check, connection, error wrapping, thread check),
    with this cursor class in place of the connection's: execute wrappers and Django's
    error classes apply as to any other cursor. While Django logs queries (``DEBUG``, a
    test capturing them) the statement goes as Django sends it, so the log shows its
    values: a prepared statement leaves psycopg no text to read back.
    """
    if conn.queries_logged or not prepares(conn):
        return conn.cursor()
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    with conn.wrap_database_errors:
        cursor = PreparedCursor(conn.connection)
        # as Django's create_cursor: timestamps load in the connection's time zone
        loader = conn.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if conn.timezone != loader.timezone:
            register_tzloader(conn.timezone, cursor)
        return conn._prepare_cursor(cursor)
