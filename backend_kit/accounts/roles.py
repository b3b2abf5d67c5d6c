"""Roles: membership through the ``users`` and ``roles`` relations of ``_Role``.

A user holds a role when it is in the role's ``users`` relation, or holds a role
that is in the role's ``roles`` relation (to any depth). All of a user's roles come
from one recursive query (``WITH RECURSIVE``, cycles included), cached in Django's
cache under a version that every role change bumps, and once per request in the
request context.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import transaction

from .. import versions
from ..cache import shared_cache
from ..context import RequestContext
from ..errors import Code, ParseError
from ..objects import writes
from ..objects.handlers import ClassHandler
from ..objects.models import RelationEntry
from ..objects.sql import compiler_for, connection, fetchall, fetchone, tables

logger = logging.getLogger("backend_kit")

ROLE_CLASS = "_Role"
ROLE_NAME_RE = re.compile(r"^[0-9A-Za-z\-_ ]+$")
_VERSION_KEY = "backend_kit:roles_version"


def _cache() -> Any:
    return shared_cache()


def _version() -> Any:
    try:
        return versions.current(_VERSION_KEY, initial=1)
    except Exception:
        return None


def bump_version() -> None:
    try:
        versions.bump(_VERSION_KEY, initial=2)
    except Exception:
        logger.warning("The roles version could not be bumped", exc_info=True)


def invalidate_after_commit() -> None:
    transaction.on_commit(bump_version, using=connection(write=True).alias)


def role_names_for_user(user_id: str) -> list[str]:
    """Names of every role the user holds, inherited ones included."""
    version = _version()
    key = f"backend_kit:roles:{version}:{user_id}"
    if version is not None:
        cached = _cache().get(key)
        if cached is not None:
            return cached
    names = _query_roles(user_id)
    if version is not None:
        _cache().set(key, names, 300)
    return names


def _query_roles(user_id: str) -> list[str]:
    conn = connection()
    table, relation_table = tables(conn)
    name = compiler_for(conn, ROLE_CLASS, None, alias="o").text(("name",))
    sql = (
        f"WITH RECURSIVE held(role_id) AS ("
        f' SELECT r."owner_id" FROM {relation_table} AS r'
        f' WHERE r."owner_class" = %s AND r."key" = \'users\' AND r."related_id" = %s'
        f" UNION"
        f' SELECT p."owner_id" FROM {relation_table} AS p JOIN held ON p."related_id" = held.role_id'
        f' WHERE p."owner_class" = %s AND p."key" = \'roles\''
        f") SELECT DISTINCT {name} FROM {table} AS o"
        f' WHERE o."class_name" = %s AND o."object_id" IN (SELECT role_id FROM held)'
    )
    rows = fetchall(conn, sql, [ROLE_CLASS, user_id, ROLE_CLASS, ROLE_CLASS])
    return sorted(r[0] for r in rows if r[0])


def roles_for(ctx: RequestContext) -> list[str]:
    if ctx.user_id is None:
        return []
    return role_names_for_user(ctx.user_id)


def check_role_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ParseError(Code.INVALID_ROLE_NAME, "Roles must have a name.")
    if not ROLE_NAME_RE.match(name):
        raise ParseError(
            Code.INVALID_ROLE_NAME,
            "A role's name can be only contain alphanumeric characters, _, -, and spaces.",
        )
    return name


class RoleHandler(ClassHandler):
    """``_Role`` writes: a valid, unique, immutable name and an ACL; caches invalidated."""

    def create(self, ctx: RequestContext, class_name: str, body: Any) -> Any:
        if not isinstance(body, dict):
            raise ParseError(Code.INVALID_JSON, "request body must be a JSON object")
        check_role_name(body.get("name"))
        if "ACL" not in body and not ctx.is_master:
            raise ParseError(Code.VALIDATION_ERROR, "ACL is required")
        with transaction.atomic(using=connection(write=True).alias):
            # A taken name is refused (137) by the unique index on _Role.name, after the
            # class-level permissions: a caller who may not create roles cannot probe names.
            result = writes.create(ctx, class_name, body)
            invalidate_after_commit()
        return result

    def update(self, ctx: RequestContext, class_name: str, object_id: str, body: Any) -> Any:
        renaming = isinstance(body, dict) and "name" in body
        with transaction.atomic(using=connection(write=True).alias):
            before = fetchone(*_name_query(object_id)) if renaming else None
            # the write comes first: a caller who may not write the role gets 101, and
            # learns nothing about its name
            result = writes.update(ctx, class_name, object_id, body)
            if renaming and (before is None or before[0] != body["name"]):
                raise ParseError(
                    Code.INVALID_ROLE_NAME,
                    "A role's name can only be set before it has been saved.",
                )  # rolls the write back
            invalidate_after_commit()
        return result

    def delete(self, ctx: RequestContext, class_name: str, object_id: str) -> dict[str, Any]:
        with transaction.atomic(using=connection(write=True).alias):
            result = writes.delete(ctx, class_name, object_id)
            # memberships pointing at the deleted role go with it
            RelationEntry.objects.filter(
                owner_class=ROLE_CLASS, key="roles", related_id=object_id
            ).delete()
            invalidate_after_commit()
        return result

    def purge(self, class_name: str) -> None:
        invalidate_after_commit()


def _name_query(object_id: str) -> tuple[Any, str, list[Any]]:
    conn = connection()
    table, _ = tables(conn)
    expr = compiler_for(conn, ROLE_CLASS, None, alias="o").text(("name",))
    return (
        conn,
        f'SELECT {expr} FROM {table} AS o WHERE o."class_name" = %s AND o."object_id" = %s',
        [ROLE_CLASS, object_id],
    )
