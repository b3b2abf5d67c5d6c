"""What every part of an import or export shares: errors, progress bars, counts, options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

from ...context import RequestContext

SCHEMA_FILE = "_SCHEMA"
MASTER = RequestContext.master()
# SQLite caps bound parameters; lookups by objectId go in slices of this size.
ID_LOOKUP_SLICE = 500


class TransferError(Exception):
    """Bad input or data that cannot be stored: the message is meant for the operator."""


class RecordError(TransferError):
    """One record cannot be imported; skipped under ``--continue-on-error``."""

    def __init__(self, class_name: str, object_id: Any, detail: str, field_name: str = "") -> None:
        where = class_name if object_id is None else f"{class_name}/{object_id}"
        if field_name:
            where += f" field {field_name!r}"
        super().__init__(f"{where}: {detail}")


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> Any: ...
    def close(self) -> Any: ...


# (description, total or None, unit) -> a bar; the commands pass tqdm.
ProgressFactory = Callable[[str, "int | None", str], ProgressBar]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(desc: str, total: int | None, unit: str) -> ProgressBar:
    return _NoProgress()


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


@dataclass
class ImportOptions:
    batch_size: int = 1000
    skip_existing: bool = False
    dry_run: bool = False
    continue_on_error: bool = False
    # ``_Session`` objects carry live tokens: they are imported only when asked for.
    sessions: bool = False
