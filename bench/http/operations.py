"""The benchmarked operations: how each request is built and what a good answer looks like.

Requests are plain Parse REST calls with the REST API key (never the master key), so the
ACL and class-level permission checks run as they would for an app. Each operation
writes a file of pre-built requests (one per line: ``METHOD<TAB>PATH<TAB>BODY``) that the
load generator cycles through, so random targets cost the load generator nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from . import seed
from .servers import CLIENT_HEADERS

PATH = f"/parse/classes/{seed.CLASS}"
BATCH_SIZE = 50
QUERY_LIMIT = 20


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any = None

    def line(self) -> str:
        body = "" if self.body is None else json.dumps(self.body, separators=(",", ":"))
        return f"{self.method}\t{self.path}\t{body}"


@dataclass(frozen=True)
class Operation:
    name: str
    describe: str
    build: Callable[[random.Random, int, int], Request]  # rng, objects, users
    check: Callable[[int, Any], str | None]  # status, body -> problem or None

    def write_requests(self, path: Path, objects: int, users: int, count: int = 4000) -> Path:
        rng = random.Random(f"{self.name}-{objects}")
        lines = [self.build(rng, objects, users).line() for _ in range(count)]
        path.write_text("\n".join(lines) + "\n")
        return path


def _new_item(rng: random.Random) -> dict[str, Any]:
    return {
        "category": seed.category(rng.randrange(seed.CATEGORIES)),
        "score": rng.randrange(1_000_000),
        "name": "new item",
        "counter": 0,
        "active": True,
    }


def _where(rng: random.Random) -> str:
    return json.dumps({"category": seed.category(rng.randrange(seed.CATEGORIES))})


def _random_id(rng: random.Random, objects: int) -> str:
    return seed.object_id(rng.randrange(1, objects + 1))


def _expect(
    status: int, predicate: Callable[[Any], bool], what: str
) -> Callable[[int, Any], str | None]:
    def check(got: int, body: Any) -> str | None:
        if got != status:
            return f"HTTP {got} (expected {status}): {str(body)[:300]}"
        try:
            ok = predicate(body)
        except (KeyError, TypeError, IndexError):
            ok = False
        return None if ok else f"unexpected answer (expected {what}): {str(body)[:300]}"

    return check


def _sorted_page(body: Any) -> bool:
    scores = [r["score"] for r in body["results"]]
    return len(scores) == QUERY_LIMIT and scores == sorted(scores, reverse=True)


OPERATIONS: list[Operation] = [
    Operation(
        "create",
        f"POST {PATH} (5 fields)",
        lambda rng, n, u: Request("POST", PATH, _new_item(rng)),
        _expect(201, lambda b: len(b["objectId"]) >= 10, "an objectId"),
    ),
    Operation(
        "get",
        f"GET {PATH}/<random objectId>",
        lambda rng, n, u: Request("GET", f"{PATH}/{_random_id(rng, n)}"),
        _expect(200, lambda b: b["objectId"].startswith("o") and "score" in b, "the object"),
    ),
    Operation(
        "query",
        f'GET {PATH}?where={{"category":<random>}}&order=-score&limit={QUERY_LIMIT}',
        lambda rng, n, u: Request(
            "GET",
            PATH + "?" + urlencode({"where": _where(rng), "order": "-score", "limit": QUERY_LIMIT}),
        ),
        _expect(200, _sorted_page, f"{QUERY_LIMIT} results by score, descending"),
    ),
    Operation(
        "update",
        f'PUT {PATH}/<random objectId> {{"counter":{{"__op":"Increment","amount":1}}}}',
        lambda rng, n, u: Request(
            "PUT",
            f"{PATH}/{_random_id(rng, n)}",
            {"counter": {"__op": "Increment", "amount": 1}},
        ),
        _expect(200, lambda b: "updatedAt" in b, "updatedAt"),
    ),
    Operation(
        "batch",
        f"POST /parse/batch ({BATCH_SIZE} creates)",
        lambda rng, n, u: Request(
            "POST",
            "/parse/batch",
            {
                "requests": [
                    {"method": "POST", "path": PATH, "body": _new_item(rng)}
                    for _ in range(BATCH_SIZE)
                ]
            },
        ),
        _expect(
            200,
            lambda b: len(b) == BATCH_SIZE and all("objectId" in r["success"] for r in b),
            f"{BATCH_SIZE} successes",
        ),
    ),
    Operation(
        "count",
        f'GET {PATH}?where={{"category":<random>}}&count=1&limit=0',
        lambda rng, n, u: Request(
            "GET", PATH + "?" + urlencode({"where": _where(rng), "count": 1, "limit": 0})
        ),
        _expect(200, lambda b: b["count"] > 0 and b["results"] == [], "a count"),
    ),
    Operation(
        "login",
        "POST /parse/login (random user, bcrypt cost 10)",
        lambda rng, n, u: Request(
            "POST",
            "/parse/login",
            {"username": seed.username(rng.randrange(1, u + 1)), "password": seed.PASSWORD},
        ),
        _expect(200, lambda b: b["sessionToken"].startswith("r:"), "a session token"),
    ),
]

BY_NAME = {op.name: op for op in OPERATIONS}


def request_values(
    op: Operation, rng: random.Random, objects: int, users: int
) -> tuple[Request, dict[str, str]]:
    """One request of ``op`` and the values it chose (for the floor's variables)."""
    request = op.build(rng, objects, users)
    values: dict[str, str] = {}
    if op.name in ("get", "update"):
        values["object_id"] = request.path.rsplit("/", 1)[1]
    if op.name in ("query", "count"):
        where = dict(parse_qsl(request.path.split("?", 1)[1]))["where"]
        values["category"] = json.loads(where)["category"]
    if op.name == "login":
        values["username"] = request.body["username"]
    return request, values


def send(origin: str, request: Request) -> tuple[int, Any]:
    """One request with the client headers; its status and decoded body."""
    response = httpx.request(
        request.method,
        origin + request.path,
        json=request.body,
        headers=CLIENT_HEADERS,
        timeout=60,
    )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text
