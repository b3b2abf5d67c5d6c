"""Starting a push: every way in (REST, admin, ``bk_sendpush``) comes through :func:`send`.

Everything that can be checked is checked before anything is written: push
configured (115), the request (115), the audience's ``where`` (102/105), and the
payload against the size limit of every device type the audience holds (115). Only
then is the ``_PushStatus`` written and the sending handed over, after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from ..errors import Code, ParseError
from ..objects.sql import db_alias
from . import audience, dispatch, status, transports
from .payload import PushMessage, PushRequest, format_push_time, misconfigured, parse_request


def check_configured() -> None:
    if not transports.is_configured():
        raise ParseError(Code.PUSH_MISCONFIGURED, "Missing push configuration")


def check_sizes(request: PushRequest, types: dict[str, int]) -> None:
    """115 when some device of the audience could not take the payload."""
    message = PushMessage(push_id="", data=request.data, badge=request.badge)
    for device_type in sorted(types):
        transport = transports.transport_for(device_type)
        if transport is None:
            continue
        for variant in message.variants():
            size = transport.payload_size(variant)
            if size > transport.max_payload_bytes:
                raise misconfigured(
                    f"The push payload is {size} bytes, over the {transport.max_payload_bytes} "
                    f"bytes {device_type} devices accept."
                )


def prepare(body: Any, *, now: datetime | None = None) -> tuple[PushRequest, dict[str, int]]:
    """The validated request and its audience by device type (nothing is written)."""
    check_configured()
    request = parse_request(body, now=now)
    audience.check_where(request.where)
    types = audience.count_by_type(request.where)
    check_sizes(request, types)
    return request, types


def send(
    body: Any, *, source: str = "rest", title: str | None = None, now: datetime | None = None
) -> str:
    """Validate and start a push; returns its ``_PushStatus`` id at once."""
    now = now or datetime.now(UTC)
    request, _ = prepare(body, now=now)
    scheduled = request.push_at is not None and request.push_at > now
    if request.expiration_interval is not None and request.push_at is None:
        # Parse fixes the expiry of an immediate push when it is requested
        request.expiry_ms = int(now.timestamp() * 1000 + request.expiration_interval * 1000)
    push_time = request.push_time or format_push_time(now, False)
    with transaction.atomic(using=db_alias(write=True)):
        status_id = status.create(
            request, source=source, scheduled=scheduled, title=title, push_time=push_time
        )
        delay = (request.push_at - now).total_seconds() if scheduled and request.push_at else 0.0
        dispatch.start(status_id, delay)
    return status_id
