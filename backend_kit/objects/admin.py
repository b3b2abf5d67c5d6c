"""The admin for data fixes: browse objects by class, edit them as JSON, fix schemas.

Objects and schemas change only through the same functions as the REST API (with
master rights), never through the ORM, so schema types, required fields, triggers
and change signals hold for admin edits too; the forms in :mod:`.forms` apply them.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import ParseError
from . import writes
from .forms import (
    ClassSchemaForm,
    GlobalConfigForm,
    ParseObjectForm,
    parse_error_message,
    pretty_json,
    visible_data,
)
from .models import ClassSchema, GlobalConfig, ParseObject, RelationEntry
from .query.parser import QueryParser
from .schema import get_schema
from .schema_api import delete_class
from .sql import connection, db_alias, tables, where_clause

PREVIEW_LENGTH = 80


def admin_context(request: HttpRequest) -> RequestContext:
    """Master rights for a staff member's edit; the IP lets triggers and logs tell who."""
    return RequestContext.master(
        app_id=bk_settings.APP_ID, ip=request.META.get("REMOTE_ADDR"), origin="admin"
    )


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def _unquote(word: str) -> str:
    # A quoted phrase ("grace hopper") is searched as one word, as Django's search does.
    if len(word) > 1 and word[0] in "\"'" and word[-1] == word[0]:
        return unescape_string_literal(word)
    return word


def _pre(value: Any) -> str:
    return format_html('<pre style="margin:0">{}</pre>', pretty_json(value))


def where_subquery(class_name: str, where: Any) -> RawSQL:
    """``SELECT id`` of the objects of ``class_name`` matching a Parse ``where``.

    Compiled by the same parser and SQL compiler as ``GET /classes``, without ACLs
    (the admin reads as master); the compiler names the objects table ``o``.
    """
    conn = connection()
    parsed = QueryParser(get_schema).parse_query(class_name, where)
    sql, params = where_clause(conn, class_name, parsed.where, None)
    object_table, _ = tables(conn)
    return RawSQL(f'SELECT o."id" FROM {object_table} AS o WHERE {sql}', params)


# --- list filters ------------------------------------------------------------------------


class ClassNameFilter(admin.SimpleListFilter):
    """Classes with a schema and classes that merely have objects (created implicitly)."""

    title = "class"
    parameter_name = "class_name"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = set(ClassSchema.objects.values_list("class_name", flat=True))
        names.update(ParseObject.objects.order_by().values_list("class_name", flat=True).distinct())
        return [(name, name) for name in sorted(names)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(class_name=value) if value else queryset


class WhereFilter(admin.ListFilter):
    """A box taking a Parse ``where`` JSON for the class chosen in :class:`ClassNameFilter`."""

    title = "Parse query"
    parameter_name = "where"
    template = "admin/backend_kit_objects/where_filter.html"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, admin: Any):
        super().__init__(request, params, model, admin)
        if self.parameter_name in params:
            self.used_parameters[self.parameter_name] = params.pop(self.parameter_name)[-1]
        self.class_name = request.GET.get(ClassNameFilter.parameter_name)
        self._reported = False

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name]

    def choices(self, changelist: Any) -> Any:
        # One "choice": the form, carrying the other filters and the search along.
        keep = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        ]
        yield {
            "value": self.used_parameters.get(self.parameter_name, ""),
            "keep": keep,
            "class_name": self.class_name,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        text = self.used_parameters.get(self.parameter_name, "").strip()
        if not text:
            return queryset
        # A bad query shows nothing rather than everything, so no one mistakes the
        # unfiltered list for the answer; the reason is shown once per page.
        if not self.class_name:
            self._report(request, "Choose a class first: a query is read against its schema.")
            return queryset.none()
        try:
            where = json.loads(text)
            return queryset.filter(pk__in=where_subquery(self.class_name, where))
        except ValueError as err:
            self._report(request, f"The query is not valid JSON: {err}")
        except ParseError as err:
            self._report(request, f"The query was refused. {parse_error_message(err)}")
        return queryset.none()

    def _report(self, request: HttpRequest, message: str) -> None:
        if not self._reported:
            messages.error(request, message)
            self._reported = True


# --- objects -----------------------------------------------------------------------------


class ParseWriteAdmin(admin.ModelAdmin):
    """Deletes through a Parse function and turns its refusal into a message."""

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.write_context = admin_context(request)  # a fresh class per request
        return form

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django's bulk delete would bypass the write path.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form has written through the Parse functions; show what was stored.
        obj.refresh_from_db()

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ParseError as err:  # raised inside the view's transaction: nothing was deleted
            self.message_user(request, f"Not deleted. {parse_error_message(err)}", messages.ERROR)
            opts = self.opts
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(url)


@admin.register(ParseObject)
class ParseObjectAdmin(ParseWriteAdmin):
    form = ParseObjectForm
    list_display = ("object_id", "class_name", "created_at", "updated_at", "data_preview")
    list_display_links = ("object_id",)
    list_filter = (ClassNameFilter, WhereFilter)
    date_hierarchy = "updated_at"
    search_fields = ("object_id",)  # and the JSON text: see get_search_results
    search_help_text = "objectId, or any text inside the object's fields"
    ordering = ("-updated_at",)
    list_per_page = 50
    actions = ["delete_objects"]
    save_as = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("read_principals", "write_principals")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["class_name", "data", "acl"]
        return [
            "class_name",
            "object_id",
            "created_at",
            "updated_at",
            "data",
            "acl",
            "internal_keys",
            "loaded_updated_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["class_name", "object_id", "created_at", "updated_at", "internal_keys"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Each word must appear in the objectId or in the JSON; casting the JSON to
        # text is the one search both SQLite and PostgreSQL run the same way.
        words = [_unquote(word) for word in smart_split(search_term)]
        if not words:
            return queryset, False
        queryset = queryset.annotate(data_text=Cast("data", TextField()))
        for word in words:
            queryset = queryset.filter(Q(object_id__icontains=word) | Q(data_text__icontains=word))
        return queryset, False

    @admin.display(description="fields")
    def data_preview(self, obj: ParseObject) -> str:
        return _preview(visible_data(obj.data))

    @admin.display(description="internal keys")
    def internal_keys(self, obj: ParseObject) -> str:
        hidden = sorted(k for k in (obj.data or {}) if k not in visible_data(obj.data))
        return ", ".join(hidden) or "-"

    def delete_model(self, request: HttpRequest, obj: ParseObject) -> None:
        writes.delete(admin_context(request), obj.class_name, obj.object_id)

    @admin.action(description="Delete selected objects", permissions=["delete"])
    def delete_objects(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Confirm, then delete each object through the write path, all or none."""
        chosen = list(queryset.only("pk", "class_name", "object_id"))
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Delete objects: are you sure?",
                "opts": self.opts,
                "objects": chosen,
                "action": "delete_objects",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/backend_kit_objects/delete_objects_confirmation.html", context
            )
        ctx = admin_context(request)
        current = None
        try:
            with transaction.atomic(using=db_alias(write=True)):
                for current in chosen:
                    writes.delete(ctx, current.class_name, current.object_id)
        except ParseError as err:
            self.message_user(
                request,
                f"Nothing was deleted: {current} was refused. {parse_error_message(err)}",
                messages.ERROR,
            )
            return None
        self.log_deletions(request, chosen)
        self.message_user(request, f"Deleted {len(chosen)} objects.", messages.SUCCESS)
        return None


# --- schemas -----------------------------------------------------------------------------


@admin.register(ClassSchema)
class ClassSchemaAdmin(ParseWriteAdmin):
    form = ClassSchemaForm
    list_display = ("class_name", "field_count", "object_count", "updated_at")
    search_fields = ("class_name",)
    save_as = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        counts = (
            ParseObject.objects.filter(class_name=OuterRef("class_name"))
            .order_by()
            .values("class_name")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(object_total=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = ["fields", "class_level_permissions", "indexes"]
        if obj is None:
            return ["class_name", *editable]
        return ["class_name", *editable, "full_schema", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["class_name", "full_schema", "created_at", "updated_at"]

    @admin.display(description="fields")
    def field_count(self, obj: ClassSchema) -> int:
        return len(obj.fields or {})

    @admin.display(description="objects", ordering="object_total")
    def object_count(self, obj: ClassSchema) -> int:
        return obj.object_total

    @admin.display(description="schema (as GET /schemas answers)")
    def full_schema(self, obj: ClassSchema) -> str:
        schema = get_schema(obj.class_name, fresh=True)
        return _pre(schema.to_api()) if schema is not None else "-"

    def delete_model(self, request: HttpRequest, obj: ClassSchema) -> None:
        delete_class(obj.class_name)


# --- relations and config ----------------------------------------------------------------


@admin.register(RelationEntry)
class RelationEntryAdmin(admin.ModelAdmin):
    list_display = ("owner_class", "owner_id", "key", "related_class", "related_id")
    list_filter = ("owner_class", "key", "related_class")
    search_fields = ("owner_id", "related_id")
    ordering = ("owner_class", "key", "owner_id")


@admin.register(GlobalConfig)
class GlobalConfigAdmin(admin.ModelAdmin):
    form = GlobalConfigForm
    list_display = ("name", "value_preview", "master_key_only", "updated_at")
    list_filter = ("master_key_only",)
    search_fields = ("name",)

    @admin.display(description="value")
    def value_preview(self, obj: GlobalConfig) -> str:
        return _preview(obj.value)
