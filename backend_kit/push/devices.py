"""Installations <-> django-push-notifications device records.

Every installation of a push type has one device record: ``APNSDevice`` for ``ios``,
``macos``, ``tvos``, ``watchos``; ``GCMDevice`` (FCM) for ``android``; ``WebPushDevice``
for ``web`` (its ``deviceToken`` is the browser's ``PushSubscription`` JSON). The record
follows the installation: created with it, updated when its token or user changes,
deactivated when the token goes or a provider rejects it, deleted with it.

Changes are picked up from the objects app's ``object_saved`` / ``object_deleted``
signals (sent after commit by every write path: REST, cloud code, the admin), and
directly by the bulk operations that bypass them (token pruning, purge).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.apps import apps
from django.db import connection, transaction
from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice

from .app_settings import get
from .models import InstallationDevice

log = logging.getLogger("backend_kit.push")
# ids per IN (...) lookup, within every database's limit on bound parameters
LOOKUP_SLICE = 500

KIND_BY_TYPE = {
    "ios": "apns",
    "macos": "apns",
    "osx": "apns",
    "tvos": "apns",
    "watchos": "apns",
    "android": "fcm",
    "fcm": "fcm",
    "web": "webpush",
}
MODELS = {"apns": APNSDevice, "fcm": GCMDevice, "webpush": WebPushDevice}
BROWSERS = (
    ("mozilla.com", "FIREFOX"),
    ("windows.com", "EDGE"),
    ("push.apple.com", "SAFARI"),
)


def kind_of(device_type: Any) -> str | None:
    return KIND_BY_TYPE.get(device_type) if isinstance(device_type, str) else None


def _django_user_id(obj: dict[str, Any]) -> Any:
    pointer = obj.get("user")
    if not isinstance(pointer, dict) or pointer.get("className") != "_User":
        return None
    if not apps.is_installed("backend_kit.accounts"):
        return None
    from ..accounts.models import UserLink

    return (
        UserLink.objects.filter(object_id=pointer.get("objectId"))
        .values_list("user_id", flat=True)
        .first()
    )


def web_subscription(token: str) -> dict[str, Any] | None:
    """``{"endpoint", "keys": {"p256dh", "auth"}}`` from a web installation's token."""
    try:
        value = orjson.loads(token)
    except orjson.JSONDecodeError:
        return None
    keys = value.get("keys") if isinstance(value, dict) else None
    if (
        not isinstance(keys, dict)
        or not isinstance(value.get("endpoint"), str)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        return None
    return value


def _browser(endpoint: str) -> str:
    host = urlsplit(endpoint).hostname or ""
    for suffix, browser in BROWSERS:
        if host.endswith(suffix):
            return browser
    return "CHROME"


def _django_user_ids(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """``{_User objectId: Django user id}`` for the users the installations point to."""
    wanted = {
        pointer.get("objectId")
        for pointer in (obj.get("user") for obj in objs)
        if isinstance(pointer, dict) and pointer.get("className") == "_User"
    }
    wanted.discard(None)
    if not wanted or not apps.is_installed("backend_kit.accounts"):
        return {}
    from ..accounts.models import UserLink

    ids = sorted(wanted)
    found: dict[str, Any] = {}
    for start in range(0, len(ids), LOOKUP_SLICE):
        found.update(
            UserLink.objects.filter(object_id__in=ids[start : start + LOOKUP_SLICE]).values_list(
                "object_id", "user_id"
            )
        )
    return found


def _fields(
    kind: str, obj: dict[str, Any], token: str | None, user_ids: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The device record's fields for ``obj``, or None when its token cannot be one.

    ``user_ids`` (from :func:`_django_user_ids`) saves the user lookup."""
    installation_id = obj.get("installationId") or obj.get("objectId")
    if user_ids is None:
        user_id = _django_user_id(obj)
    else:
        pointer = obj.get("user")
        user_id = (
            user_ids.get(pointer.get("objectId"))
            if isinstance(pointer, dict) and pointer.get("className") == "_User"
            else None
        )
    fields: dict[str, Any] = {
        "name": f"installation {installation_id}"[:255],
        "active": bool(token),
        "user_id": user_id,
    }
    if kind == "webpush":
        subscription = web_subscription(token or "")
        if subscription is None:
            return None if token else {**fields, "registration_id": "", "p256dh": "", "auth": ""}
        fields.update(
            registration_id=subscription["endpoint"],
            p256dh=subscription["keys"]["p256dh"][:88],
            auth=subscription["keys"]["auth"][:24],
            browser=_browser(subscription["endpoint"]),
        )
        return fields
    if kind == "apns" and token and len(token) > 200:
        return None
    fields["registration_id"] = token or ""
    if kind == "fcm":
        fields["cloud_message_type"] = "FCM"
    return fields


def sync(obj: dict[str, Any]) -> None:
    """Create, update or remove the device record of installation ``obj`` (API form)."""
    object_id = obj.get("objectId")
    if not object_id:
        return
    kind = kind_of(obj.get("deviceType"))
    token = obj.get("deviceToken") if isinstance(obj.get("deviceToken"), str) else None
    with transaction.atomic():
        link = InstallationDevice.objects.select_for_update().filter(installation=object_id).first()
        fields = _fields(kind, obj, token or None) if kind else None
        current = link.device if link is not None else None
        if fields is None or (link is not None and link.kind != kind):
            if current is not None:
                current.delete()  # the link goes with it (on_delete=CASCADE)
            link = None
            current = None
        if fields is None:
            InstallationDevice.objects.filter(installation=object_id).delete()
            return
        if current is None:
            device = MODELS[kind].objects.create(**fields)
            InstallationDevice.objects.update_or_create(
                installation=object_id, defaults=dict.fromkeys(MODELS) | {kind: device}
            )
            return
        changed = [name for name, value in fields.items() if getattr(current, name) != value]
        if changed:
            for name in changed:
                setattr(current, name, fields[name])
            current.save(update_fields=changed)


def remove(object_id: str) -> None:
    link = InstallationDevice.objects.filter(installation=object_id).first()
    if link is None:
        return
    device = link.device
    if device is not None:
        device.delete()
    InstallationDevice.objects.filter(pk=link.pk).delete()


def deactivate(installation_ids: list[str]) -> None:
    """Mark the device records of these installations inactive (their token was pruned)."""
    if not installation_ids or not get("SYNC_DEVICES"):
        return
    links = InstallationDevice.objects.filter(installation__in=installation_ids)
    for kind, model in MODELS.items():
        ids = [i for i in links.values_list(f"{kind}_id", flat=True) if i]
        if ids:
            model.objects.filter(pk__in=ids).update(active=False)


def remove_all() -> None:
    """Delete every installation's device record (``_Installation`` purged)."""
    for kind, model in MODELS.items():
        ids = InstallationDevice.objects.exclude(**{f"{kind}_id": None}).values_list(
            f"{kind}_id", flat=True
        )
        model.objects.filter(pk__in=list(ids)).delete()
    InstallationDevice.objects.all().delete()


def device_of(installation_id: str) -> Any:
    link = (
        InstallationDevice.objects.select_related(*MODELS)
        .filter(installation=installation_id)
        .first()
    )
    return link.device if link is not None else None


# --- signal receivers ---------------------------------------------------------------------


def on_saved(sender: str, object: dict[str, Any], **kwargs: Any) -> None:  # noqa: A002
    if sender != "_Installation" or not get("SYNC_DEVICES"):
        return
    try:
        sync(object)
    except Exception:
        log.exception("could not sync the device record of installation %s", object.get("objectId"))


def on_deleted(sender: str, object: dict[str, Any], **kwargs: Any) -> None:  # noqa: A002
    if sender != "_Installation" or not get("SYNC_DEVICES"):
        return
    try:
        remove(str(object.get("objectId")))
    except Exception:
        log.exception(
            "could not remove the device record of installation %s", object.get("objectId")
        )


def sync_rows(rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Sync the device records of ``(objectId, stored data)`` rows (bulk writes).

    What :func:`sync` does row by row, in a few queries per batch: new device records
    and their links are bulk-created, changed ones bulk-updated. The rare rows whose
    record changes kind or goes away take the row-by-row path.
    """
    if not get("SYNC_DEVICES"):
        return
    objs = [
        {**{k: v for k, v in (data or {}).items() if not k.startswith("_")}, "objectId": oid}
        for oid, data in rows
        if oid
    ]
    if not objs:
        return
    user_ids = _django_user_ids(objs)
    ids = [obj["objectId"] for obj in objs]
    links: dict[str, InstallationDevice] = {}
    for start in range(0, len(ids), LOOKUP_SLICE):
        for link in InstallationDevice.objects.select_related(*MODELS).filter(
            installation__in=ids[start : start + LOOKUP_SLICE]
        ):
            links[link.installation] = link
    new: dict[str, list[tuple[str, Any]]] = {}
    changed: dict[str, dict[int, Any]] = {}
    changed_fields: dict[str, set[str]] = {}
    one_by_one: list[dict[str, Any]] = []
    for obj in objs:
        kind = kind_of(obj.get("deviceType"))
        token = obj.get("deviceToken") if isinstance(obj.get("deviceToken"), str) else None
        fields = _fields(kind, obj, token or None, user_ids) if kind else None
        link = links.get(obj["objectId"])
        if fields is None or kind is None or (link is not None and link.kind != kind):
            if link is not None:  # a record to drop or to replace
                one_by_one.append(obj)
            continue
        if link is None:
            new.setdefault(kind, []).append((obj["objectId"], MODELS[kind](**fields)))
            continue
        current = link.device
        names = [name for name, value in fields.items() if getattr(current, name) != value]
        if names:
            for name in names:
                setattr(current, name, fields[name])
            changed.setdefault(kind, {})[current.pk] = current
            changed_fields.setdefault(kind, set()).update(names)
    with transaction.atomic():
        new_links = []
        for kind, pairs in new.items():
            devices = [device for _, device in pairs]
            if connection.features.can_return_rows_from_bulk_insert:
                MODELS[kind].objects.bulk_create(devices)  # sets their primary keys
            else:
                for device in devices:
                    device.save()
            new_links.extend(
                InstallationDevice(installation=oid, **{kind: device}) for oid, device in pairs
            )
        if new_links:
            InstallationDevice.objects.bulk_create(new_links)
        for kind, devices in changed.items():
            MODELS[kind].objects.bulk_update(list(devices.values()), sorted(changed_fields[kind]))
    for obj in one_by_one:
        sync(obj)


def installation_importer() -> Any:
    """The ``bk_import`` importer of ``_Installation``: rows, then their device records."""
    from ..objects.transfer import ClassImporter

    class InstallationImporter(ClassImporter):
        def write_batch(self, class_name: str, rows: list[Any], options: Any) -> Any:
            counts = super().write_batch(class_name, rows, options)
            sync_rows([(row.object_id, row.data) for row in rows])
            return counts

    return InstallationImporter()
