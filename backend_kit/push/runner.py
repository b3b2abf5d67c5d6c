"""Sending a push: claim it, cut its audience into batches, send each batch.

:func:`start_push` claims the status (pending/scheduled -> running), applies the
badge change to the whole audience in the same transaction (so it happens once),
then plans: each ``BATCH_SIZE`` slice of the audience by objectId becomes a
:class:`~backend_kit.push.models.PushBatch` and a task. :func:`run_batch` reads
its slice, hands each device type's devices to its transport, prunes the tokens
the providers reject, and records the outcome with the batch's state change in
one transaction, so a batch counts once however often its task runs. Devices the
provider could not take now (unreachable, overloaded) are sent again after a
backoff; when the attempts are used up the push fails with the provider's reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from ..errors import Code
from ..objects.models import ParseObject
from ..objects.sql import db_alias
from . import app_settings, audience, devices, dispatch, status
from .models import PushBatch
from .payload import PushMessage
from .transports import Delivery, Device, TransportUnavailable, transport_for

log = logging.getLogger("backend_kit.push")

EXPIRED = "The push expired before it could be sent."


def _now() -> datetime:
    return datetime.now(UTC)


def start_push(status_id: str) -> list[int]:
    """Claim and plan ``status_id``; returns the ids of the batches it created."""
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        data = status.claim(status_id)
        claimed = data is not None
        if data is None:
            data = status.read(status_id)
            if not data or data.get("status") != status.RUNNING or data.get(status.PLANNED_FIELD):
                return []  # gone, finished, or planned by an earlier delivery
            log.info("push %s: resuming its planning", status_id)
        request = status.request_of(data)
        expires = request.expires_at(request.push_at or _now())
        expired = expires is not None and expires <= _now()
        if claimed and request.badge is not None and not expired:
            audience.apply_badge(request.where, request.badge)
    if expired:
        status.fail(status_id, EXPIRED)
        return []
    batch_ids = plan(status_id, request.where)
    if not dispatch.uses_celery():
        # one thread sends the whole push, batch after batch
        for batch_id in batch_ids:
            run_batch_safely(batch_id, inline=True)
    status.complete_if_done(status_id)
    return batch_ids


def plan(status_id: str, where: dict[str, Any]) -> list[int]:
    """Create (and, with Celery, queue) the batches of the audience not planned yet."""
    size = max(1, int(app_settings.get("BATCH_SIZE")))
    alias = db_alias(write=True)
    last = PushBatch.objects.using(alias).filter(status_id=status_id).order_by("-seq").first()
    pending = list(
        PushBatch.objects.using(alias)
        .filter(status_id=status_id, state=PushBatch.PENDING)
        .values_list("pk", flat=True)
    )
    if last is not None and last.upto == "":
        created: list[int] = []  # an earlier delivery planned everything
    else:
        created = _cut(status_id, where, size, last)
    for batch_id in pending:
        if dispatch.uses_celery():
            dispatch.batch(batch_id)  # queued by a delivery that died while planning
    status.mark_planned(status_id)
    return [*pending, *created] if not dispatch.uses_celery() else created


def _cut(status_id: str, where: dict[str, Any], size: int, last: PushBatch | None) -> list[int]:
    alias = db_alias(write=True)
    after = last.upto if last is not None else ""
    seq = last.seq + 1 if last is not None else 0
    created: list[int] = []
    while True:
        upto = audience.next_boundary(where, after, size)
        if upto is None and not audience.any_after(where, after):
            break
        with transaction.atomic(using=alias):
            batch = PushBatch.objects.using(alias).create(
                status_id=status_id, seq=seq, after=after, upto=upto or ""
            )
            status.count_batch(status_id)
            if dispatch.uses_celery():
                dispatch.batch(batch.pk)
        created.append(batch.pk)
        if upto is None:
            break
        after, seq = upto, seq + 1
    return created


# --- one batch ---------------------------------------------------------------------------


def run_batch_safely(batch_id: int, *, inline: bool = False) -> None:
    """:func:`run_batch`, turning anything unexpected into a retry (never a lost batch)."""
    try:
        run_batch(batch_id)
    except Exception as exc:
        log.exception("push batch %s failed unexpectedly", batch_id)
        batch_crashed(batch_id, f"{type(exc).__name__}: {exc}")
    if not inline:
        batch = PushBatch.objects.using(db_alias()).filter(pk=batch_id).first()
        if batch is not None:
            status.complete_if_done(batch.status_id)


def run_batch(batch_id: int) -> None:
    alias = db_alias(write=True)
    batch = PushBatch.objects.using(alias).filter(pk=batch_id).first()
    if batch is None or batch.state != PushBatch.PENDING:
        return
    data = status.read(batch.status_id)
    if data is None or data.get("status") != status.RUNNING:
        # failed meanwhile (another batch ran out of attempts): what this batch would
        # have sent counts as failed, so the totals add up to the audience
        skipped: list[Delivery] = []
        if data is not None:
            request = status.request_of(data)
            targets = audience.devices_in(
                request.where, batch.after, batch.upto or None, batch.retry_ids
            )
            skipped = [Delivery(d, False, "push failed") for d in targets]
        sent, failed = _tally(skipped)
        _close_batch(batch_id, PushBatch.FAILED, "the push is no longer running", sent, failed)
        return
    request = status.request_of(data)
    now = _now()
    expires = request.expires_at(request.push_at or now)
    message = PushMessage(
        push_id=batch.status_id,
        data=request.data,
        badge=request.badge,
        expires_at=expires,
        sent_at=now,
    )
    targets = audience.devices_in(request.where, batch.after, batch.upto or None, batch.retry_ids)
    if expires is not None and expires <= now:
        deliveries = [Delivery(d, False, "expired") for d in targets]
    else:
        deliveries = _deliver(message, targets)
    _prune(deliveries)
    _settle(batch_id, deliveries)


def _deliver(message: PushMessage, targets: list[Device]) -> list[Delivery]:
    by_transport: dict[int, tuple[Any, list[Device]]] = {}
    deliveries: list[Delivery] = []
    for device in targets:
        transport = transport_for(device.device_type)
        if transport is None:
            deliveries.append(Delivery(device, False, f"no transport for {device.device_type!r}"))
            continue
        by_transport.setdefault(id(transport), (transport, []))[1].append(device)
    for transport, group in by_transport.values():
        try:
            results = transport.send(message, group)
        except TransportUnavailable as exc:
            reason = str(exc) or type(exc).__name__
            results = [Delivery(d, False, reason, retry=True) for d in group]
        except Exception as exc:  # a transport bug: retried, then reported, never dropped
            log.exception("push %s: %s failed", message.push_id, type(transport).__name__)
            reason = f"{type(transport).__name__} failed: {type(exc).__name__}: {exc}"
            results = [Delivery(d, False, reason, retry=True) for d in group]
        deliveries.extend(results)
    return deliveries


def _prune(deliveries: list[Delivery]) -> None:
    if not app_settings.get("PRUNE_INVALID_TOKENS"):
        return
    dead = [(d.device.installation_id, d.device.token) for d in deliveries if d.invalid_token]
    if not dead:
        return
    with transaction.atomic(using=db_alias(write=True)):
        pruned = audience.prune_tokens(dead)
        devices.deactivate(pruned)
    log.info("pruned %d invalid device token(s)", len(pruned))


def _tally(deliveries: list[Delivery]) -> tuple[Counter[str], Counter[str]]:
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for d in deliveries:
        (sent if d.sent else failed)[d.device.device_type or "unknown"] += 1
    return sent, failed


def _settle(batch_id: int, deliveries: list[Delivery]) -> None:
    final = [d for d in deliveries if not d.retry]
    again = [d for d in deliveries if d.retry]
    sent, failed = _tally(final)
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        batch = PushBatch.objects.using(alias).select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.state != PushBatch.PENDING:
            return  # another delivery of this task recorded it
        attempts = batch.attempts + 1
        reason = again[0].error if again else ""
        if again and attempts < int(app_settings.get("RETRY_ATTEMPTS")):
            delay = app_settings.retry_delay(attempts - 1)
            batch.attempts = attempts
            batch.retry_ids = [d.device.installation_id for d in again]
            batch.error = reason or ""
            batch.sent += sum(sent.values())
            batch.failed += sum(failed.values())
            batch.save()
            status.record(batch.status_id, sent, failed, batch_done=False)
            dispatch.batch(batch_id, delay)
            transaction.on_commit(
                lambda: status.note_retry(
                    batch.status_id,
                    f"{len(again)} device(s) not reached: {reason}. "
                    f"Attempt {attempts} of {app_settings.get('RETRY_ATTEMPTS')}, "
                    f"retrying in {delay:g} s.",
                ),
                using=alias,
            )
            return
        if again:
            more_sent, more_failed = _tally([Delivery(d.device, False, d.error) for d in again])
            failed.update(more_failed)
            sent.update(more_sent)
            batch.state = PushBatch.FAILED
            batch.error = reason or "provider unavailable"
            message = (
                f"{len(again)} device(s) could not be reached after {attempts} attempts: {reason}"
            )
            transaction.on_commit(lambda: status.fail(batch.status_id, message), using=alias)
        else:
            batch.state = PushBatch.DONE
        batch.attempts = attempts
        batch.retry_ids = None
        batch.sent += sum(sent.values())
        batch.failed += sum(failed.values())
        batch.save()
        status.record(batch.status_id, sent, failed, batch_done=True)


def _close_batch(
    batch_id: int, state: str, error: str, sent: Counter[str], failed: Counter[str]
) -> None:
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        batch = PushBatch.objects.using(alias).select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.state != PushBatch.PENDING:
            return
        batch.state, batch.error = state, error
        batch.save()
        status.record(batch.status_id, sent, failed, batch_done=True)


def batch_crashed(batch_id: int, reason: str) -> None:
    """A batch run that died (a bug, a time limit): retry it, or fail the push."""
    alias = db_alias(write=True)
    with transaction.atomic(using=alias):
        batch = PushBatch.objects.using(alias).select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.state != PushBatch.PENDING:
            return
        attempts = batch.attempts + 1
        batch.attempts = attempts
        batch.error = reason
        if attempts < int(app_settings.get("RETRY_ATTEMPTS")):
            batch.save()
            dispatch.batch(batch_id, app_settings.retry_delay(attempts - 1))
            return
        batch.state = PushBatch.FAILED
        batch.save()
        status.record(batch.status_id, {}, {}, batch_done=True)
        status_id = batch.status_id
        transaction.on_commit(
            lambda: status.fail(
                status_id, f"A batch failed {attempts} times: {reason}", Code.INTERNAL_SERVER_ERROR
            ),
            using=alias,
        )


# --- the sweep -------------------------------------------------------------------------------


def start_due(now: datetime | None = None) -> list[str]:
    """Start scheduled pushes whose time has come; re-queue work that was lost.

    Run every minute by beat (``backend_kit.push.due``) or ``bk_sendpush --due``.
    """
    now = now or _now()
    started = []
    rows = ParseObject.objects.using(db_alias()).filter(
        class_name=status.CLASS_NAME, data__status__in=[status.SCHEDULED, status.PENDING]
    )
    stale = now - timedelta(minutes=2)
    for row in rows.only("object_id", "data", "created_at").iterator():
        data = row.data or {}
        request = status.request_of(data)
        if data.get("status") == status.SCHEDULED:
            due = request.push_at is None or request.push_at <= now
        else:
            due = row.created_at <= stale  # its start message was lost
        if due:
            started.append(row.object_id)
            with transaction.atomic(using=db_alias(write=True)):
                dispatch.start(row.object_id)
    limit = int(app_settings.get("BATCH_TIME_LIMIT")) + int(app_settings.get("RETRY_MAX_DELAY"))
    lost = PushBatch.objects.using(db_alias()).filter(
        state=PushBatch.PENDING, updated_at__lt=now - timedelta(seconds=limit + 120)
    )
    for batch_id in lost.values_list("pk", flat=True):
        with transaction.atomic(using=db_alias(write=True)):
            PushBatch.objects.using(db_alias(write=True)).filter(pk=batch_id).update(updated_at=now)
            dispatch.batch(batch_id)
    return started
