"""Class-level permissions, pointer permissions, protected fields and ACLs.

CLPs are checked before a query runs; what they restrict further (pointer
permissions) becomes part of the query itself, as does the ACL, so ``limit``,
``skip`` and ``count`` stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Code, ParseError, permission_denied
from .query import ast

if TYPE_CHECKING:
    from ..context import RequestContext
    from .schema import Schema

READ_OPERATIONS = ("find", "get", "count")
ROLE_NAME_RE = re.compile(r"^[0-9A-Za-z_\- ]+$")


@dataclass
class Access:
    """What a CLP check grants: everything, or only objects whose pointer fields hold the user."""

    pointer_fields: list[str] | None = None

    def restriction(self, ctx: RequestContext, schema: Schema) -> ast.Node | None:
        if self.pointer_fields is None:
            return None
        user_id = ctx.user_id
        if not user_id:
            return ast.Const(False)
        options: list[ast.Node] = []
        for name in self.pointer_fields:
            spec = schema.fields.get(name) or {}
            ref = ast.FieldRef(
                name,
                path=(name,),
                kind=ast.SCHEMA_TYPE_KIND.get(spec.get("type", ""), None),
                target_class=spec.get("targetClass"),
            )
            value = ast.Value(ast.POINTER, ("_User", user_id))
            if spec.get("type") == "Array":
                options.append(ast.All(ref, [value]))
            else:
                options.append(ast.Cmp(ref, "eq", value))
        return ast.Or(options) if options else ast.Const(False)


def _groups(ctx: RequestContext) -> list[str]:
    return ctx.principals()


def check_clp(ctx: RequestContext, schema: Schema, operation: str) -> Access:
    """Raise 119 (or 101 for requiresAuthentication) unless ``operation`` is allowed."""
    if ctx.is_master or (ctx.is_read_only_master and operation in READ_OPERATIONS):
        return Access()
    clp = schema.clp
    perms = clp.get(operation)
    if perms is None:
        return Access()
    groups = _groups(ctx)
    if perms.get("*") or any(perms.get(g) is True for g in groups):
        return Access()
    if perms.get("requiresAuthentication"):
        if not ctx.user_id:
            raise permission_denied(
                "Permission denied, user needs to be authenticated.", Code.OBJECT_NOT_FOUND
            )
        return Access()
    user_fields_key = "readUserFields" if operation in READ_OPERATIONS else "writeUserFields"
    if operation == "create":
        raise permission_denied(
            f"Permission denied for action {operation} on class {schema.class_name}."
        )
    pointer_fields: list[str] = []
    if isinstance(clp.get(user_fields_key), list):
        pointer_fields.extend(clp[user_fields_key])
    if isinstance(perms.get("pointerFields"), list):
        pointer_fields.extend(perms["pointerFields"])
    if pointer_fields and operation != "addField":
        return Access(pointer_fields=sorted(set(pointer_fields)))
    raise permission_denied(
        f"Permission denied for action {operation} on class {schema.class_name}."
    )


# System classes only the master key may read or write (Parse's volatile classes).
MASTER_ONLY_CLASSES = frozenset(
    {
        "_JobStatus",
        "_PushStatus",
        "_Hooks",
        "_GlobalConfig",
        "_GraphQLConfig",
        "_JobSchedule",
        "_Audience",
        "_Idempotency",
    }
)


def check_class_access(ctx: RequestContext, class_name: str, method: str) -> None:
    """Refuse clients (119) the master-only system classes, and find/delete on
    ``_Installation``; ``method`` is find, get, create, update or delete."""
    if ctx.has_master_rights:
        return
    if class_name in MASTER_ONLY_CLASSES:
        raise permission_denied(
            f"Clients aren't allowed to perform the {method} operation on the {class_name} collection."
        )
    if class_name == "_Installation" and method in ("find", "delete"):
        raise permission_denied(
            f"Clients aren't allowed to perform the {method} operation on the installation collection."
        )


def check_class_exists_for(ctx: RequestContext, class_name: str) -> None:
    """Parse refuses clients (119) a class that does not exist unless they may create one."""
    from ..conf import bk_settings

    if ctx.has_master_rights or bk_settings.ALLOW_CLIENT_CLASS_CREATION:
        return
    raise permission_denied(f"This user is not allowed to access non-existent class: {class_name}")


def check_add_field(ctx: RequestContext, schema: Schema, *, is_update: bool) -> None:
    """The ``addField`` CLP, checked (as in Parse) before the create/update CLP."""
    if ctx.is_master:
        return
    clp = schema.clp
    perms = clp.get("addField")
    if perms is None:
        return
    groups = _groups(ctx)
    if perms.get("*") or any(perms.get(g) is True for g in groups):
        return
    if perms.get("requiresAuthentication"):
        if not ctx.user_id:
            raise permission_denied(
                "Permission denied, user needs to be authenticated.", Code.OBJECT_NOT_FOUND
            )
        return
    # Parse lets writeUserFields through here; the write itself is then restricted
    if isinstance(clp.get("writeUserFields"), list) and clp["writeUserFields"]:
        return
    if is_update and isinstance(perms.get("pointerFields"), list) and perms["pointerFields"]:
        return
    raise permission_denied(f"Permission denied for action addField on class {schema.class_name}.")


def protected_fields(ctx: RequestContext, schema: Schema) -> set[str]:
    """Fields hidden from this caller (before per-object ``userField:`` rules)."""
    if ctx.is_master or ctx.is_read_only_master:
        return set()
    perms = schema.clp.get("protectedFields") or {}
    if not perms:
        return set()
    applicable: list[set[str]] = []
    if "*" in perms:
        applicable.append(set(perms["*"]))
    if ctx.user_id:
        if "authenticated" in perms:
            applicable.append(set(perms["authenticated"]))
        if ctx.user_id in perms:
            applicable.append(set(perms[ctx.user_id]))
        for role in ctx.roles:
            key = f"role:{role}"
            if key in perms:
                applicable.append(set(perms[key]))
    if not applicable:
        return set()
    hidden = applicable[0]
    for group in applicable[1:]:
        hidden &= group
    return hidden


def pointer_protected_fields(schema: Schema) -> dict[str, set[str]]:
    """``userField:<field>`` entries: fields visible to the user the field points to."""
    perms = schema.clp.get("protectedFields") or {}
    return {
        key.split(":", 1)[1]: set(value)
        for key, value in perms.items()
        if key.startswith("userField:")
    }


# --- ACLs ----------------------------------------------------------------------------


def validate_acl(acl: Any) -> dict[str, dict[str, bool]]:
    if not isinstance(acl, dict):
        raise ParseError(Code.INVALID_ACL, "ACL must be an object")
    clean: dict[str, dict[str, bool]] = {}
    for principal, perms in acl.items():
        if not isinstance(principal, str) or not principal:
            raise ParseError(Code.INVALID_ACL, "Invalid ACL key")
        if principal.startswith("role:"):
            if not ROLE_NAME_RE.match(principal[5:]):
                raise ParseError(Code.INVALID_ACL, f"Invalid role name in ACL: {principal}")
        elif principal != "*" and not re.match(r"^[A-Za-z0-9_\-]+$", principal):
            raise ParseError(Code.INVALID_ACL, f"Invalid ACL key: {principal}")
        if not isinstance(perms, dict):
            raise ParseError(Code.INVALID_ACL, "ACL permissions must be objects")
        entry: dict[str, bool] = {}
        for perm, allowed in perms.items():
            if perm not in ("read", "write") or not isinstance(allowed, bool):
                raise ParseError(
                    Code.INVALID_ACL, f"Invalid ACL permission {perm!r} for {principal}"
                )
            if allowed:
                entry[perm] = True
        if entry:
            clean[principal] = entry
    return clean


def acl_principals(
    acl: dict[str, dict[str, bool]] | None,
) -> tuple[dict[str, bool], dict[str, bool]]:
    """(read, write) principal sets; an object without an ACL is public."""
    if acl is None:
        return {"*": True}, {"*": True}
    read = {p: True for p, perms in acl.items() if perms.get("read")}
    write = {p: True for p, perms in acl.items() if perms.get("write")}
    return read, write


def can(ctx: RequestContext, principals: dict[str, Any], *, write: bool = False) -> bool:
    if ctx.is_master or (ctx.is_read_only_master and not write):
        return True
    return any(p in principals for p in ctx.principals())


def default_acl(ctx: RequestContext, schema: Schema) -> dict[str, dict[str, bool]] | None:
    """The CLP's ``ACL`` entry applied to objects created without an ACL (Parse 9)."""
    acl = schema.clp.get("ACL")
    if not acl or acl == {"*": {"read": True, "write": True}}:
        return None
    acl = {k: dict(v) for k, v in acl.items()}
    current = acl.pop("currentUser", None)
    if current is not None and ctx.user_id:
        acl[ctx.user_id] = dict(current)
    return acl
