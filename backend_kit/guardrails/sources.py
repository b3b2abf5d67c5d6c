"""Where audit entries come from: object writes, model signals, master requests."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.forms.models import model_to_dict

from ..objects.writes import WriteEvent
from . import app_settings, audit

log = logging.getLogger("backend_kit.guardrails")

# Models with their own recording (or none): never recorded as plain admin changes.
OWN_LABELS = frozenset(
    {
        "backend_kit_objects.classschema",
        "backend_kit_objects.globalconfig",
        "backend_kit_objects.parseobject",
        "backend_kit_objects.relationentry",
        "backend_kit_guardrails.auditentry",
        "backend_kit_guardrails.usagelevel",
        "backend_kit_guardrails.quotanotice",
    }
)
READ_METHODS = ("GET", "HEAD", "OPTIONS")


# --- object writes (a write listener of backend_kit.objects.writes) ----------------------


def wants_original(class_name: str, ctx: Any) -> bool:
    return audit.audited_write(class_name, ctx)


def acts_on(class_name: str, ctx: Any, action: str) -> bool:
    """Whether :func:`object_written` records this write (in the audit trail)."""
    return audit.audited_write(class_name, ctx)


def object_written(event: WriteEvent) -> None:
    if not audit.audited_write(event.class_name, event.ctx):
        return
    obj = event.object or {}
    before: Any = None
    after: Any = None
    if event.action == "create":
        after = obj
    elif event.action == "delete":
        before = obj
    elif event.original is not None:
        before, after = audit.diff(event.original, obj)
    else:
        after = obj
    audit.record(
        target="object",
        action=event.action,
        ctx=event.ctx,
        class_name=event.class_name,
        object_id=obj.get("objectId", ""),
        before=before,
        after=after,
        changes=event.body if event.action != "delete" else None,
    )


# --- schemas, CLPs, indexes, config -------------------------------------------------------


def _schema_state(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "fields": row.fields or {},
        "classLevelPermissions": row.class_level_permissions or {},
        "indexes": row.indexes or {},
    }


def _stash_before(
    sender: Any, instance: Any, raw: bool = False, using: Any = None, **kw: Any
) -> None:
    if raw or not audit.enabled() or instance.pk is None:
        instance._bk_audit_before = None
        return
    old = sender._default_manager.using(using).filter(pk=instance.pk).first()
    instance._bk_audit_before = old


def _server_shape(class_name: str) -> bool:
    """A system class (``_Session``...) growing a field because the server wrote to it,
    in an API request that is not a schema call: the server's shape, not a change."""
    scope = audit.current()
    if not class_name.startswith("_") or scope is None or scope.origin != "api":
        return False
    from ..api import mount_relative_path

    try:
        path = mount_relative_path(scope.request)
    except Exception:
        return False
    return not path.startswith("schemas")


def schema_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw or not audit.enabled() or _server_shape(instance.class_name):
        return
    after = _schema_state(instance)
    assert after is not None
    if created:
        audit.record(target="schema", action="create", class_name=instance.class_name, after=after)
        return
    before = _schema_state(getattr(instance, "_bk_audit_before", None)) or {}
    for part in ("fields", "indexes"):
        old, new = audit.diff(before.get(part) or {}, after[part])
        if old or new:
            audit.record(
                target="schema",
                action="update",
                class_name=instance.class_name,
                before={part: old},
                after={part: new},
            )
    old_clp = before.get("classLevelPermissions") or {}
    if old_clp != after["classLevelPermissions"]:
        audit.record(
            target="clp",
            action="update",
            class_name=instance.class_name,
            before=old_clp,
            after=after["classLevelPermissions"],
        )


def schema_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if audit.enabled():
        audit.record(
            target="schema",
            action="delete",
            class_name=instance.class_name,
            before=_schema_state(instance),
        )


def _config_state(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"value": row.value, "masterKeyOnly": bool(row.master_key_only)}


def config_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw or not audit.enabled():
        return
    before = _config_state(getattr(instance, "_bk_audit_before", None))
    after = _config_state(instance)
    if before == after:
        return
    audit.record(
        target="config",
        action="create" if created else "update",
        class_name="_GlobalConfig",
        object_id=instance.name,
        before=before,
        after=after,
    )


def config_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if audit.enabled():
        audit.record(
            target="config",
            action="delete",
            class_name="_GlobalConfig",
            object_id=instance.name,
            before=_config_state(instance),
        )


# --- any model, through the admin ---------------------------------------------------------


def _admin_recording(sender: Any) -> bool:
    scope = audit.current()
    if scope is None or scope.origin != "admin" or not audit.enabled():
        return False
    label = sender._meta.label_lower
    ignored = {str(m).lower() for m in app_settings.get("AUDIT_IGNORED_MODELS") or ()}
    return label not in OWN_LABELS and label not in ignored


def _dump(instance: Any) -> dict[str, Any]:
    data = model_to_dict(instance)
    data["pk"] = instance.pk
    return data


def admin_pre_save(
    sender: Any, instance: Any, raw: bool = False, using: Any = None, **kw: Any
) -> None:
    if raw or not _admin_recording(sender) or instance.pk is None:
        return
    old = sender._default_manager.using(using).filter(pk=instance.pk).first()
    instance._bk_audit_dump = _dump(old) if old is not None else None


def admin_post_save(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw or not _admin_recording(sender):
        return
    fields = kw.get("update_fields")
    if fields and set(fields) <= {"last_login"}:
        return  # logging in to the admin is not a change
    after = _dump(instance)
    before = getattr(instance, "_bk_audit_dump", None)
    if not created and before is not None:
        before, after = audit.diff(audit.jsonable(before), audit.jsonable(after))
        if not before and not after:
            return
    audit.record(
        target="model",
        action="create" if created else "update",
        class_name=sender._meta.label_lower,
        object_id=str(instance.pk),
        before=None if created else before,
        after=after,
    )


def admin_post_delete(sender: Any, instance: Any, **kw: Any) -> None:
    if not _admin_recording(sender):
        return
    audit.record(
        target="model",
        action="delete",
        class_name=sender._meta.label_lower,
        object_id=str(instance.pk),
        before=_dump(instance),
    )


def admin_m2m_changed(
    sender: Any, instance: Any, action: str, model: Any, pk_set: Any, **kw: Any
) -> None:
    if not action.startswith("post_") or not _admin_recording(type(instance)):
        return
    audit.record(
        target="model",
        action="update",
        class_name=type(instance)._meta.label_lower,
        object_id=str(instance.pk),
        changes={
            "relation": sender._meta.label_lower,
            "action": action[len("post_") :],
            "related": model._meta.label_lower,
            "pks": sorted(str(pk) for pk in pk_set or ()),
        },
    )


def connect() -> None:
    from ..objects.models import ClassSchema, GlobalConfig

    uid = "backend_kit_guardrails_audit"
    pre_save.connect(_stash_before, sender=ClassSchema, dispatch_uid=f"{uid}_schema_pre")
    post_save.connect(schema_saved, sender=ClassSchema, dispatch_uid=f"{uid}_schema_post")
    post_delete.connect(schema_deleted, sender=ClassSchema, dispatch_uid=f"{uid}_schema_del")
    pre_save.connect(_stash_before, sender=GlobalConfig, dispatch_uid=f"{uid}_config_pre")
    post_save.connect(config_saved, sender=GlobalConfig, dispatch_uid=f"{uid}_config_post")
    post_delete.connect(config_deleted, sender=GlobalConfig, dispatch_uid=f"{uid}_config_del")
    pre_save.connect(admin_pre_save, dispatch_uid=f"{uid}_admin_pre")
    post_save.connect(admin_post_save, dispatch_uid=f"{uid}_admin_post")
    post_delete.connect(admin_post_delete, dispatch_uid=f"{uid}_admin_del")
    m2m_changed.connect(admin_m2m_changed, dispatch_uid=f"{uid}_admin_m2m")


# --- master requests that left no other entry ------------------------------------------------


def request_finished(request: Any, response: Any, mark: int) -> None:
    """A master-key request that changed state but wrote no entry gets one of its own."""
    ctx = getattr(request, "bk", None)
    if ctx is None or not audit.enabled() or not ctx.is_master or ctx.origin != "api":
        return
    if request.method in READ_METHODS or response.status_code >= 400:
        return
    if audit.recorded_count() != mark:
        return
    from ..api import mount_relative_path

    django_request = request._request
    # Only a body the view already parsed: parsing here would read a streamed upload
    # (files) a second time, which Django refuses.
    parsed = getattr(request, "_full_data", None)
    body = parsed if isinstance(parsed, dict) else None
    path = mount_relative_path(django_request)
    audit.record(
        target="request",
        action=request.method,
        ctx=ctx,
        class_name=path.split("/")[1] if path.count("/") >= 1 else "",
        changes=body,
        method=request.method,
        path=django_request.path,
    )
