"""``_PushStatus`` objects: what became of a push, readable with the master key.

Fields as Parse Server writes them: ``pushTime``, ``query`` and ``payload`` (JSON
strings), ``source`` (``rest``, ``admin``, ``command``), ``title``, ``expiry`` (epoch
ms), ``expiration_interval``, ``status`` (``pending`` or ``scheduled`` ->
``running`` -> ``succeeded`` or ``failed``), ``numSent``, ``numFailed``,
``sentPerType``, ``failedPerType``, ``count`` (batches left while running),
``pushHash``, ``errorMessage``. The validated request is kept in the hidden field
``_request`` for the workers. Counters are database increments; every change of
``status`` locks the row first, so a redelivered task can never move a finished
push back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code
from ..objects import writes
from ..objects.models import ParseObject
from ..objects.sql import db_alias
from .models import PushBatch
from .payload import PushRequest

CLASS_NAME = "_PushStatus"
PENDING, SCHEDULED, RUNNING = "pending", "scheduled", "running"
SUCCEEDED, FAILED = "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
SOURCES = ("rest", "admin", "command")
REQUEST_FIELD = "_request"
PLANNED_FIELD = "_planned"  # every batch of the audience has been created
EMPTY_HASH = "d41d8cd98f00b204e9800998ecf8427e"  # Parse's hash of a push without alert


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def js_json(value: Any) -> str:
    """``JSON.stringify(value)``: compact, key order kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def push_hash(data: dict[str, Any]) -> str:
    alert = data.get("alert")
    if isinstance(alert, str):
        return hashlib.md5(alert.encode()).hexdigest()
    if isinstance(alert, dict):
        return hashlib.md5(js_json(alert).encode()).hexdigest()
    return EMPTY_HASH


def type_key(device_type: str) -> str:
    """A device type as a key of ``sentPerType`` (field names allow no dots)."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in device_type)
    return cleaned or "unknown"


def create(
    request: PushRequest,
    *,
    source: str,
    scheduled: bool,
    title: str | None = None,
    push_time: str,
) -> str:
    """Write the status of a new push; returns its objectId."""
    if source not in SOURCES:
        raise ValueError(f"unknown push source {source!r}")
    body: dict[str, Any] = {
        "pushTime": push_time,
        "query": js_json(request.where),
        "payload": js_json(request.data),
        "source": source,
        "status": SCHEDULED if scheduled else PENDING,
        "numSent": 0,
        "pushHash": push_hash(request.data),
        "ACL": {},
    }
    if title:
        body["title"] = title
    if request.expiry_ms is not None:
        body["expiry"] = request.expiry_ms
    if request.expiration_interval is not None:
        body["expiration_interval"] = request.expiration_interval
    result = writes.create(_master(), CLASS_NAME, body, internal={REQUEST_FIELD: request.as_json()})
    return str(result.payload["objectId"])


def _locked(status_id: str) -> ParseObject | None:
    return ParseObject.objects.using(db_alias(write=True)).row(
        CLASS_NAME, status_id, for_update=True
    )


def read(status_id: str) -> dict[str, Any] | None:
    """The stored data of a status (hidden fields included), or None."""
    row = ParseObject.objects.using(db_alias()).only("data").row(CLASS_NAME, status_id)
    return dict(row.data) if row is not None else None


def request_of(data: dict[str, Any]) -> PushRequest:
    return PushRequest.from_json(data.get(REQUEST_FIELD) or {})


def claim(status_id: str) -> dict[str, Any] | None:
    """Move a pending or scheduled push to running (call inside a transaction).

    Returns its data, or None when it is gone or another run took it already.
    """
    row = _locked(status_id)
    if row is None or row.data.get("status") not in (PENDING, SCHEDULED):
        return None
    writes.update(_master(), CLASS_NAME, status_id, {"status": RUNNING, "count": 0})
    return dict(row.data)


def count_batch(status_id: str) -> None:
    """One more batch to wait for (``count``, as Parse shows it while running)."""
    writes.update(_master(), CLASS_NAME, status_id, {"count": {"__op": "Increment", "amount": 1}})


def mark_planned(status_id: str) -> None:
    """Every batch exists: the push may complete when they are done."""
    writes.update(_master(), CLASS_NAME, status_id, {}, internal={PLANNED_FIELD: True})


def record(
    status_id: str,
    sent: dict[str, int],
    failed: dict[str, int],
    *,
    batch_done: bool,
) -> None:
    """Add a batch's deliveries to the counters (database increments)."""
    body: dict[str, Any] = {}
    total_sent, total_failed = sum(sent.values()), sum(failed.values())
    if total_sent:
        body["numSent"] = {"__op": "Increment", "amount": total_sent}
    if total_failed:
        body["numFailed"] = {"__op": "Increment", "amount": total_failed}
    for kind, n in sent.items():
        if n:
            body[f"sentPerType.{type_key(kind)}"] = {"__op": "Increment", "amount": n}
    for kind, n in failed.items():
        if n:
            body[f"failedPerType.{type_key(kind)}"] = {"__op": "Increment", "amount": n}
    if batch_done:
        body["count"] = {"__op": "Increment", "amount": -1}
    if body:
        writes.update(_master(), CLASS_NAME, status_id, body)


def note_retry(status_id: str, message: str) -> None:
    """Show on a running push that a provider failed and a retry is coming."""
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") != RUNNING:
            return
        writes.update(
            _master(),
            CLASS_NAME,
            status_id,
            {
                "errorMessage": {
                    "code": Code.PUSH_MISCONFIGURED,
                    "message": message,
                    "retrying": True,
                }
            },
        )


def complete_if_done(status_id: str) -> bool:
    """Succeed a running push whose every batch has finished; True if it did."""
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") != RUNNING:
            return False
        if not row.data.get(PLANNED_FIELD):
            return False
        if PushBatch.objects.filter(status_id=status_id, state=PushBatch.PENDING).exists():
            return False
        body: dict[str, Any] = {"status": SUCCEEDED, "count": {"__op": "Delete"}}
        notice = row.data.get("errorMessage")
        if isinstance(notice, dict) and notice.get("retrying"):
            body["errorMessage"] = {"__op": "Delete"}
        writes.update(_master(), CLASS_NAME, status_id, body)
        return True


def fail(status_id: str, message: str, code: int = Code.PUSH_MISCONFIGURED) -> bool:
    """Fail a push that has not finished, with the reason; False if it had."""
    with transaction.atomic(using=db_alias(write=True)):
        row = _locked(status_id)
        if row is None or row.data.get("status") in FINAL:
            return False
        writes.update(
            _master(),
            CLASS_NAME,
            status_id,
            {"status": FAILED, "errorMessage": {"code": code, "message": message}},
        )
        return True
