"""Admin for accounts: Parse users, their linked identities, sessions and roles.

Users are edited where Django users are (the host's user admin); this admin shows
the Parse side of each user (fields, ACL, identities, sessions). Sessions and roles
are objects of ``_Session``/``_Role``: they are listed here through proxy models of
the objects table, with a revoke action for sessions and membership lists for roles.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join

from ..conf import bk_settings
from ..context import RequestContext
from ..objects import writes
from ..objects.models import ParseObject, RelationEntry
from .models import AuthIdentity, UserLink


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def _pretty(value: Any) -> str:
    return format_html(
        "<pre style='white-space:pre-wrap'>{}</pre>",
        orjson.dumps(value, option=orjson.OPT_INDENT_2).decode(),
    )


class AuthIdentityInline(admin.TabularInline):
    model = AuthIdentity
    extra = 0
    fields = ("provider", "uid", "created_at", "updated_at")
    readonly_fields = fields
    # Unlinking goes through the Parse write path (PUT /users with authData: null), which
    # also updates authData and allauth's social account; a row delete here would not.
    can_delete = False


@admin.register(UserLink)
class UserLinkAdmin(admin.ModelAdmin):
    list_display = ("object_id", "user", "parse_username", "created_at")
    search_fields = ("object_id",)
    readonly_fields = ("user", "object_id", "created_at", "parse_fields", "sessions")
    inlines = [AuthIdentityInline]

    def get_search_fields(self, request: Any) -> tuple[str, ...]:
        from django.contrib.auth import get_user_model

        return ("object_id", f"user__{get_user_model().USERNAME_FIELD}")

    def has_add_permission(self, request: Any) -> bool:
        return False  # created with the Django user (or by sign-up)

    def _doc(self, obj: UserLink) -> ParseObject | None:
        return ParseObject.objects.filter(class_name="_User", object_id=obj.object_id).first()

    @admin.display(description="Parse username")
    def parse_username(self, obj: UserLink) -> str:
        doc = self._doc(obj)
        return (doc.data or {}).get("username", "") if doc else ""

    @admin.display(description="Parse fields and ACL")
    def parse_fields(self, obj: UserLink) -> str:
        doc = self._doc(obj)
        if doc is None:
            return "-"
        return _pretty(
            {
                "fields": doc.data and {k: v for k, v in doc.data.items() if not k.startswith("_")},
                "ACL": doc.acl,
            }
        )

    @admin.display(description="Sessions")
    def sessions(self, obj: UserLink) -> str:
        # filtered in the database: a user's page must not load every session there is
        mine = SessionObject.objects.filter(
            class_name="_Session", data__user__objectId=obj.object_id
        ).order_by("-created_at")
        return (
            format_html_join(
                "\n",
                "<div>{} — {} — expires {}</div>",
                (
                    (
                        s.object_id,
                        ((s.data or {}).get("createdWith") or {}).get("action", ""),
                        ((s.data or {}).get("expiresAt") or {}).get("iso", ""),
                    )
                    for s in mine
                ),
            )
            or "-"
        )

    def delete_model(self, request: Any, obj: UserLink) -> None:
        from . import users

        users.delete(_master(), obj.object_id)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        from . import users

        with transaction.atomic():
            for link in list(queryset):
                users.delete(_master(), link.object_id)


class SessionObject(ParseObject):
    class Meta:
        proxy = True
        verbose_name = "session"
        verbose_name_plural = "sessions"


class RoleObject(ParseObject):
    class Meta:
        proxy = True
        verbose_name = "role"
        verbose_name_plural = "roles"


@admin.register(SessionObject)
class SessionAdmin(admin.ModelAdmin):
    list_display = (
        "object_id",
        "user_id",
        "action",
        "provider",
        "installation",
        "expires",
        "created_at",
    )
    search_fields = ("object_id",)
    actions = ["revoke"]
    readonly_fields = ("object_id", "created_at", "updated_at", "details")
    fields = readonly_fields

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).filter(class_name="_Session")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def _d(self, obj: Any) -> dict[str, Any]:
        return obj.data or {}

    @admin.display(description="user")
    def user_id(self, obj: Any) -> str:
        return (self._d(obj).get("user") or {}).get("objectId", "")

    @admin.display(description="created with")
    def action(self, obj: Any) -> str:
        return (self._d(obj).get("createdWith") or {}).get("action", "")

    @admin.display(description="provider")
    def provider(self, obj: Any) -> str:
        return (self._d(obj).get("createdWith") or {}).get("authProvider", "")

    @admin.display(description="installation")
    def installation(self, obj: Any) -> str:
        return self._d(obj).get("installationId", "")

    @admin.display(description="expires at")
    def expires(self, obj: Any) -> str:
        return (self._d(obj).get("expiresAt") or {}).get("iso", "")

    @admin.display(description="session")
    def details(self, obj: Any) -> str:
        return _pretty({k: v for k, v in self._d(obj).items() if not k.startswith("_")})

    @admin.action(description="Revoke the selected sessions")
    def revoke(self, request: Any, queryset: Any) -> None:
        count = 0
        with transaction.atomic():
            for session in list(queryset):
                writes.delete(_master(), "_Session", session.object_id)
                count += 1
        messages.success(request, f"Revoked {count} session(s).")

    def delete_model(self, request: Any, obj: Any) -> None:
        writes.delete(_master(), "_Session", obj.object_id)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        self.revoke(request, queryset)


@admin.register(RoleObject)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("object_id", "name", "member_count", "child_role_count", "updated_at")
    search_fields = ("object_id",)
    readonly_fields = ("object_id", "name", "acl_view", "members", "child_roles", "inherited_by")
    fields = readonly_fields

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).filter(class_name="_Role")

    def has_add_permission(self, request: Any) -> bool:
        return False  # roles are created through the API (name rules, ACL) or the objects admin

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def _related(self, obj: Any, key: str) -> list[str]:
        return list(
            RelationEntry.objects.filter(
                owner_class="_Role", owner_id=obj.object_id, key=key
            ).values_list("related_id", flat=True)
        )

    @admin.display(description="name")
    def name(self, obj: Any) -> str:
        return (obj.data or {}).get("name", "")

    @admin.display(description="ACL")
    def acl_view(self, obj: Any) -> str:
        return _pretty(obj.acl)

    @admin.display(description="users")
    def member_count(self, obj: Any) -> int:
        return len(self._related(obj, "users"))

    @admin.display(description="child roles")
    def child_role_count(self, obj: Any) -> int:
        return len(self._related(obj, "roles"))

    @admin.display(description="members (users)")
    def members(self, obj: Any) -> str:
        ids = self._related(obj, "users")
        names = {
            d.object_id: (d.data or {}).get("username", "")
            for d in ParseObject.objects.filter(class_name="_User", object_id__in=ids)
        }
        return format_html_join(", ", "{} ({})", ((names.get(i, "?"), i) for i in ids)) or "-"

    @admin.display(description="child roles (their users hold this role too)")
    def child_roles(self, obj: Any) -> str:
        return self._role_names(self._related(obj, "roles"))

    @admin.display(description="roles this one inherits")
    def inherited_by(self, obj: Any) -> str:
        parents = RelationEntry.objects.filter(
            owner_class="_Role", key="roles", related_id=obj.object_id
        )
        return self._role_names(list(parents.values_list("owner_id", flat=True)))

    def _role_names(self, ids: list[str]) -> str:
        rows = ParseObject.objects.filter(class_name="_Role", object_id__in=ids)
        return (
            format_html_join(
                ", ", "{} ({})", (((r.data or {}).get("name", ""), r.object_id) for r in rows)
            )
            or "-"
        )

    def delete_model(self, request: Any, obj: Any) -> None:
        from .roles import RoleHandler

        RoleHandler().delete(_master(), "_Role", obj.object_id)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        from .roles import RoleHandler

        with transaction.atomic():
            for role in list(queryset):
                RoleHandler().delete(_master(), "_Role", role.object_id)
