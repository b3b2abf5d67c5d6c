"""Parse's aggregate endpoint: MongoDB-style pipelines and ``distinct`` over a class.

Supported stages: ``$match`` (Parse ``where`` syntax), ``$group`` (``$sum``, ``$avg``,
``$min``, ``$max``, ``$count``, ``$first``, ``$last``, ``$push``, ``$addToSet``; keys
may use date operators such as ``$year``), ``$project``, ``$sort``, ``$limit``,
``$skip``, ``$unwind`` and ``$count``. See :mod:`.executor` for what runs in SQL.
"""

from __future__ import annotations

from typing import Any

from ...context import RequestContext
from .distinct import run_distinct
from .executor import run_pipeline
from .request import parse_request


def aggregate(
    ctx: RequestContext, class_name: str, params: dict[str, Any], *, optimize: bool = True
) -> dict[str, Any]:
    """Answer ``GET /aggregate/<class_name>`` with ``params``: ``{"results": [...]}``.

    ``optimize=False`` evaluates every stage after the leading ``$match`` in Python
    (the reference the SQL shortcuts are tested against).
    """
    request = parse_request(params)
    if request.distinct is not None:
        return {"results": run_distinct(ctx, class_name, request.distinct, request.where)}
    return {"results": run_pipeline(ctx, class_name, request.stages, optimize=optimize)}


__all__ = ["aggregate"]
