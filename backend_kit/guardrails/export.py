"""Exporting the audit trail: JSON Lines (one entry per line) or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .models import AuditEntry

COLUMNS = (
    "id",
    "at",
    "origin",
    "target",
    "action",
    "class_name",
    "object_id",
    "master",
    "user_id",
    "username",
    "ip",
    "installation_id",
    "request_id",
    "method",
    "path",
    "before",
    "after",
    "changes",
)
FORMATS = ("jsonl", "csv")


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in COLUMNS}
    row["at"] = entry.at.isoformat()
    return row


def jsonl(entries: Iterable[AuditEntry]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(as_dict(entry), cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for entry in entries:
        row = as_dict(entry)
        for name in ("before", "after", "changes"):
            row[name] = "" if row[name] is None else json.dumps(row[name], ensure_ascii=False)
        writer.writerow([row[name] for name in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest


def lines(entries: Iterable[AuditEntry], fmt: str) -> Iterator[str]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    return jsonl(entries) if fmt == "jsonl" else csv_lines(entries)
