"""The body of ``POST /push`` and the message built from it for each device.

Parse's rules: ``channels`` or ``where`` (not both, one of them), ``data`` (``alert``,
``title``, ``badge`` as a number, ``"Increment"`` or ``{"__op": "Increment",
"amount": n}``, ``sound``, ``content-available``, ``category``, ``uri``, anything
else passed through; ``alert-<locale>`` / ``title-<locale>`` pick a text by the
installation's ``localeIdentifier``), ``push_time`` (epoch seconds or ISO 8601; a
time without a zone is kept as Parse keeps it, without ``Z``, and sent as UTC),
``expiration_time`` or ``expiration_interval``. Every problem is a 115 (as in Parse)
except a bad ``where``, which is a query error (102/105).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import Code, ParseError

LOCALIZABLE = ("alert", "title")
# A badge that is incremented is not known before sending: sizes are checked with
# one this long.
WORST_CASE_BADGE = 99999


def misconfigured(message: str) -> ParseError:
    return ParseError(Code.PUSH_MISCONFIGURED, message)


def _js_str(value: Any) -> str:
    """How JavaScript would print ``value`` in Parse's error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join(_js_str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_time(value: Any, name: str) -> tuple[datetime, bool]:
    """``(moment in UTC, is local time)`` of an epoch-seconds number or ISO string."""
    invalid = misconfigured(f"{_js_str(value)} is not valid time.")
    if _number(value):
        if not math.isfinite(value):
            raise invalid
        try:
            return datetime.fromtimestamp(float(value), UTC), False
        except (OverflowError, OSError, ValueError):
            raise invalid
    if not isinstance(value, str) or not value.strip():
        raise invalid
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid
    if moment.tzinfo is None:
        # Parse keeps a time without a zone as "local time"; it is sent as UTC here.
        return moment.replace(tzinfo=UTC), True
    return moment.astimezone(UTC), False


def format_push_time(moment: datetime, local: bool) -> str:
    text = (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    )
    return text if local else text + "Z"


@dataclass
class BadgeOp:
    """What a push does to its installations' ``badge`` before sending."""

    kind: str  # "increment" or "set"
    amount: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": self.amount}


def parse_badge(badge: Any) -> BadgeOp | None:
    """Parse's badge forms; anything else is a 115."""
    if isinstance(badge, str) and badge.lower() == "increment":
        return BadgeOp("increment", 1)
    if (
        isinstance(badge, dict)
        and isinstance(badge.get("__op"), str)
        and badge["__op"].lower() == "increment"
        and _number(badge.get("amount"))
        and badge["amount"] == int(badge["amount"])
        and badge["amount"] != 0
    ):
        return BadgeOp("increment", int(badge["amount"]))
    if _number(badge) and badge == int(badge) and badge >= 0:
        return BadgeOp("set", int(badge))
    raise misconfigured(
        "Invalid value for badge, expected number or 'Increment' or {increment: number}"
    )


@dataclass
class PushRequest:
    """A validated push: audience, data and timing, as stored with its status."""

    where: dict[str, Any]
    data: dict[str, Any]
    push_at: datetime | None = None  # None: send now
    local_time: bool = False
    expiry_ms: int | None = None  # expiration_time (epoch ms)
    expiration_interval: float | None = None
    badge: BadgeOp | None = None
    channels: list[str] | None = field(default=None)

    @property
    def push_time(self) -> str | None:
        """``pushTime`` as Parse writes it (None for an immediate push)."""
        if self.push_at is None:
            return None
        return format_push_time(self.push_at, self.local_time)

    def expires_at(self, sending_at: datetime) -> datetime | None:
        if self.expiry_ms is not None:
            return datetime.fromtimestamp(self.expiry_ms / 1000, UTC)
        if self.expiration_interval is not None:
            return sending_at + timedelta(seconds=self.expiration_interval)
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "data": self.data,
            "push_at": self.push_at.isoformat() if self.push_at else None,
            "local_time": self.local_time,
            "expiry_ms": self.expiry_ms,
            "expiration_interval": self.expiration_interval,
            "badge": self.badge.as_json() if self.badge else None,
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> PushRequest:
        badge = stored.get("badge")
        return cls(
            where=stored.get("where") or {},
            data=stored.get("data") or {},
            push_at=datetime.fromisoformat(stored["push_at"]) if stored.get("push_at") else None,
            local_time=bool(stored.get("local_time")),
            expiry_ms=stored.get("expiry_ms"),
            expiration_interval=stored.get("expiration_interval"),
            badge=BadgeOp(badge["kind"], int(badge["amount"])) if badge else None,
        )


def audience_where(body: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """The ``where`` over installations: the body's, or ``channels`` ``$in``."""
    has_where, has_channels = "where" in body, "channels" in body
    if has_where and has_channels:
        raise misconfigured("Channels and query can not be set at the same time.")
    if has_channels:
        channels = body["channels"]
        if (
            not isinstance(channels, list)
            or not channels
            or not all(isinstance(c, str) for c in channels)
        ):
            raise misconfigured("channels must be a non-empty array of channel names.")
        return {"channels": {"$in": channels}}, channels
    if has_where:
        where = body["where"]
        if not isinstance(where, dict):
            raise ParseError(Code.INVALID_QUERY, "Invalid where clause: must be a JSON object")
        return where, None
    raise misconfigured('Sending a push requires either "channels" or a "where" query.')


def parse_request(body: Any, *, now: datetime | None = None) -> PushRequest:
    """Validate a ``POST /push`` body (the audience's fields are checked separately)."""
    now = now or datetime.now(UTC)
    if not isinstance(body, dict):
        raise ParseError(Code.INVALID_JSON, "The push must be a JSON object.")
    where, channels = audience_where(body)
    data = body.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise misconfigured("data must be a JSON object.")
    request = PushRequest(where=where, data=copy.deepcopy(data), channels=channels)
    if data.get("badge") not in (None, ""):
        request.badge = parse_badge(data["badge"])
    if "expiration_time" in body:
        moment, _ = parse_time(body["expiration_time"], "expiration_time")
        request.expiry_ms = int(moment.timestamp() * 1000)
    if "expiration_interval" in body:
        interval = body["expiration_interval"]
        if not _number(interval) or interval <= 0 or not math.isfinite(interval):
            raise misconfigured("expiration_interval must be a number greater than 0")
        request.expiration_interval = float(interval)
    if request.expiry_ms is not None and request.expiration_interval is not None:
        raise misconfigured("Both expiration_time and expiration_interval cannot be set")
    if "push_time" in body:
        request.push_at, request.local_time = parse_time(body["push_time"], "push_time")
    expires = request.expires_at(max(request.push_at or now, now))
    if expires is not None and expires <= max(request.push_at or now, now):
        raise misconfigured("The push would expire before it is sent.")
    return request


# --- per-device data -----------------------------------------------------------------


def locales_of(data: dict[str, Any]) -> list[str]:
    """Locales named by ``alert-<locale>`` / ``title-<locale>`` keys, in order."""
    seen: list[str] = []
    for key in data:
        for base in LOCALIZABLE:
            if key.startswith(base + "-") and key[len(base) + 1 :] not in seen:
                seen.append(key[len(base) + 1 :])
    return seen


def _strip_locales(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not any(k.startswith(b + "-") for b in LOCALIZABLE)}


def localized(data: dict[str, Any], locale: str | None) -> dict[str, Any]:
    """``data`` for an installation of ``locale`` (Parse: the first locale that is a
    prefix of the installation's ``localeIdentifier`` wins)."""
    chosen = None
    if locale:
        for candidate in locales_of(data):
            if locale.startswith(candidate):
                chosen = candidate
                break
    out = _strip_locales(data)
    if chosen is not None:
        for base in LOCALIZABLE:
            value = data.get(f"{base}-{chosen}")
            if value:
                out[base] = value
    return out


@dataclass
class PushMessage:
    """One push as the transports get it."""

    push_id: str
    data: dict[str, Any]
    badge: BadgeOp | None = None
    expires_at: datetime | None = None
    sent_at: datetime | None = None

    def data_for(self, locale: str | None, badge: int | None) -> dict[str, Any]:
        """The Parse data one installation receives (its text, its badge)."""
        out = localized(self.data, locale)
        if self.badge is not None:
            if self.badge.kind == "increment":
                out["badge"] = int(badge or 0)
            else:
                out["badge"] = self.badge.amount
        return out

    def variants(self) -> list[dict[str, Any]]:
        """Every distinct data some installation may receive (for size checks)."""
        worst = WORST_CASE_BADGE if self.badge and self.badge.kind == "increment" else None
        return [self.data_for(locale, worst) for locale in [None, *locales_of(self.data)]]
