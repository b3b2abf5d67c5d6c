"""Importing relation memberships (``_Join:<key>:<Owner>``: ``{owningId, relatedId}`` pairs)."""

from __future__ import annotations

from ..models import RelationEntry
from ..sql import db_alias
from .base import ID_LOOKUP_SLICE


def store_pairs(owner: str, key: str, target: str, pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """Add the pairs that are missing; ``(created, already there)``."""
    alias = db_alias(write=True)
    created = unchanged = 0
    for start in range(0, len(pairs), ID_LOOKUP_SLICE):
        part = list(dict.fromkeys(pairs[start : start + ID_LOOKUP_SLICE]))
        present = set(
            RelationEntry.objects.using(alias)
            .filter(
                owner_class=owner,
                key=key,
                owner_id__in={o for o, _ in part},
                related_id__in={r for _, r in part},
            )
            .values_list("owner_id", "related_id")
        )
        new = [p for p in part if p not in present]
        RelationEntry.objects.using(alias).bulk_create(
            [
                RelationEntry(
                    owner_class=owner, owner_id=o, key=key, related_class=target, related_id=r
                )
                for o, r in new
            ],
            ignore_conflicts=True,
        )
        created += len(new)
        unchanged += len(part) - len(new)
    return created, unchanged
