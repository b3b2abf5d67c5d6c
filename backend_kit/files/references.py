"""Which objects reference which files (``{"__type": "File", "name": ...}`` anywhere).

Object rows are prefiltered in SQL on their JSON text (``"File"``, or a file's name)
and then walked in Python, so both databases give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from ..objects.models import GlobalConfig, ParseObject
from ..objects.sql import db_alias

Progress = Callable[[int], Any]
BATCH = 200


def file_names_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("__type") == "File":
            if isinstance(value.get("name"), str):
                yield value["name"]
            return
        for item in value.values():
            yield from file_names_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from file_names_in(item)


def _objects_as_text() -> Any:
    return ParseObject.objects.using(db_alias()).annotate(_bk_text=Cast("data", TextField()))


def referenced_names(progress: Progress | None = None, chunk_size: int = 2000) -> set[str]:
    """Every file name any object or config parameter references."""
    found: set[str] = set()
    rows = _objects_as_text().filter(_bk_text__contains='"File"').values_list("data", flat=True)
    for data in rows.iterator(chunk_size=chunk_size):
        found.update(file_names_in(data))
        if progress is not None:
            progress(1)
    for value in GlobalConfig.objects.values_list("value", flat=True):
        found.update(file_names_in(value))
    return found


def referencing(names: Iterable[str]) -> dict[str, list[tuple[int, str, str]]]:
    """For each name, the objects that reference it: ``[(pk, class_name, object_id)]``."""
    wanted = list(dict.fromkeys(names))
    out: dict[str, list[tuple[int, str, str]]] = {name: [] for name in wanted}
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        match = Q()
        for name in batch:
            match |= Q(_bk_text__contains=name)
        rows = _objects_as_text().filter(match).values_list("pk", "class_name", "object_id", "data")
        for pk, class_name, object_id, data in rows.iterator(chunk_size=500):
            for name in set(file_names_in(data)) & set(batch):
                out[name].append((pk, class_name, object_id))
        configs = GlobalConfig.objects.values_list("name", "value")
        for config_name, value in configs:
            for name in set(file_names_in(value)) & set(batch):
                out[name].append((0, "_GlobalConfig", config_name))
    return out
