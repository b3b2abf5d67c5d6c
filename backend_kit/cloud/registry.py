"""What cloud code registered: functions, triggers per class, jobs.

Cloud modules (``BACKEND_KIT["CLOUD_MODULES"]``) are imported once at start-up; their
decorators (:mod:`backend_kit.cloud`) fill this registry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TRIGGERS = frozenset(
    {
        "beforeSave",
        "afterSave",
        "beforeDelete",
        "afterDelete",
        "beforeFind",
        "afterFind",
        "beforeLogin",
        "afterLogin",
        "afterLogout",
        "beforeSaveFile",
        "afterSaveFile",
        "beforeDeleteFile",
        "afterDeleteFile",
        "beforeConnect",
        "beforeSubscribe",
        "afterLiveQueryEvent",
    }
)
# Triggers that are not about one class: registered under this name.
GLOBAL = "@global"


class CloudError(Exception):
    """Raise in cloud code to fail with 141 and this message (any exception does)."""


@dataclass
class Entry:
    name: str
    handler: Callable[..., Any]
    validator: Any = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Registry:
    functions: dict[str, Entry] = field(default_factory=dict)
    triggers: dict[tuple[str, str], Entry] = field(default_factory=dict)
    jobs: dict[str, Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_function(self, entry: Entry) -> None:
        with self.lock:
            self.functions[entry.name] = entry

    def add_trigger(self, trigger: str, class_name: str, entry: Entry) -> None:
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}")
        with self.lock:
            self.triggers[(trigger, class_name)] = entry

    def add_job(self, entry: Entry) -> None:
        with self.lock:
            self.jobs[entry.name] = entry

    def trigger(self, trigger: str, class_name: str) -> Entry | None:
        return self.triggers.get((trigger, class_name))

    def snapshot(self) -> tuple[dict[str, Entry], dict[tuple[str, str], Entry], dict[str, Entry]]:
        return dict(self.functions), dict(self.triggers), dict(self.jobs)

    def restore(
        self, snap: tuple[dict[str, Entry], dict[tuple[str, str], Entry], dict[str, Entry]]
    ) -> None:
        with self.lock:
            self.functions, self.triggers, self.jobs = (dict(s) for s in snap)  # type: ignore[assignment]

    def clear(self) -> None:
        with self.lock:
            self.functions.clear()
            self.triggers.clear()
            self.jobs.clear()


registry = Registry()
