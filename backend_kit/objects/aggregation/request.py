"""Reading an aggregate request's parameters, in every form Parse clients send them.

- ``pipeline``: an array of one-key stage objects, or one object of stages;
- stages at the top level of the parameters (``$group={...}``, or ``group={...}``);
- ``distinct=<field>`` with an optional ``where``.

``where`` only applies to ``distinct``: Parse ignores it for pipelines (the SDK puts
the query's constraints into a leading ``$match`` itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ...errors import Code, ParseError
from .stages import Stage, parse_stage
from .values import bad

# Options Parse accepts for MongoDB; they change nothing here.
IGNORED_PARAMS = frozenset(
    {"hint", "explain", "readPreference", "comment", "rawValues", "rawFieldNames"}
)
# Keys that are never stages, even inside a pipeline object (Parse skips them too).
NOT_STAGES = frozenset({"distinct", "where"})


@dataclass
class AggregateRequest:
    stages: list[Stage] = field(default_factory=list)
    distinct: str | None = None
    where: Any = None


def parse_request(params: dict[str, Any]) -> AggregateRequest:
    body = {k: v for k, v in params.items() if k not in IGNORED_PARAMS}
    where = body.get("where")
    if isinstance(where, str):
        try:
            where = orjson.loads(where) if where.strip() else None
        except orjson.JSONDecodeError:
            raise ParseError(Code.INVALID_JSON, "where parameter is not valid JSON")
    distinct = body.get("distinct")
    if distinct not in (None, ""):
        if not isinstance(distinct, str):
            raise bad("distinct must be the name of a field")
        return AggregateRequest(distinct=distinct, where=where)
    pipeline = body.get("pipeline")
    if pipeline is None or pipeline == "":
        pipeline = {k: v for k, v in body.items() if k != "pipeline"}
    return AggregateRequest(stages=parse_pipeline(pipeline))


def parse_pipeline(pipeline: Any) -> list[Stage]:
    if isinstance(pipeline, dict):
        raw = [{k: v} for k, v in pipeline.items()]
    elif isinstance(pipeline, list):
        raw = pipeline
    else:
        raise bad("pipeline must be an array of stages or an object of stages")
    stages = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise bad('Pipeline stages must be objects such as {"$group": {...}}')
        if len(entry) != 1:
            raise bad(
                f"Pipeline stages should only have one key but found {', '.join(map(str, entry))}."
            )
        name, value = next(iter(entry.items()))
        if name in NOT_STAGES:
            continue
        stages.append(parse_stage(name, value))
    return stages
