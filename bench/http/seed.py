"""The benchmark data: the same objects and users in both servers' databases.

``BenchItem`` has five fields; ``category`` (1000 values, ~100 objects each) carries an
index declared through each server's schema API. Object ``i`` has the objectId
``o%09d`` so that requests (and pgbench) can pick any object at random. Objects go in
through each server's fast path: ``bk_import`` for backend_kit, ``COPY`` into the class
table for Parse Server (which has no import command); the class, its fields and its
index are created through the schema API, and the users by signing up over REST, so
passwords are hashed by the server itself.

Seeded databases are kept as PostgreSQL templates named after a hash of everything that
shapes them; each run copies a template (seconds) instead of seeding again (minutes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from . import servers
from .servers import MASTER_HEADERS, ROOT, say

SEED_VERSION = 1
CLASS = "BenchItem"
CATEGORIES = 1000
PASSWORD = "bench-password-1"
FIELDS = {
    "category": {"type": "String"},
    "score": {"type": "Number"},
    "name": {"type": "String"},
    "counter": {"type": "Number"},
    "active": {"type": "Boolean"},
}
INDEXES = {"category_1": {"category": 1}}
PUBLIC_ACL = {"*": {"read": True, "write": True}}
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def object_id(i: int) -> str:
    return f"o{i:09d}"


def username(i: int) -> str:
    return f"user{i:05d}"


def category(i: int) -> str:
    return f"c{i:03d}"


def objects(count: int) -> list[dict[str, Any]]:
    """The seeded objects, identical on every run and for both servers."""
    rng = random.Random(20260101)
    rows = []
    for i in range(1, count + 1):
        stamp = (EPOCH + timedelta(seconds=i)).isoformat(timespec="milliseconds")
        rows.append(
            {
                "objectId": object_id(i),
                "createdAt": stamp.replace("+00:00", "Z"),
                "updatedAt": stamp.replace("+00:00", "Z"),
                "category": category(rng.randrange(CATEGORIES)),
                "score": rng.randrange(1_000_000),
                "name": f"item {i}",
                "counter": 0,
                "active": i % 2 == 0,
                "ACL": PUBLIC_ACL,
            }
        )
    return rows


def fingerprint(kind: str, count: int, users: int) -> str:
    """What a seeded template depends on: change any of it and the template is rebuilt."""
    parts = [f"v{SEED_VERSION}", kind, str(count), str(users), Path(__file__).read_text()]
    if kind == "bk":
        parts += sorted(
            str(p.relative_to(ROOT)) for p in (ROOT / "backend_kit").rglob("migrations/0*.py")
        )
    else:
        parts.append(servers.PARSE_SERVER_VERSION)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:10]


# --- through the REST API (both servers) ---------------------------------------------------------
def declare_class(origin: str) -> None:
    body = {"className": CLASS, "fields": FIELDS, "indexes": INDEXES}
    response = httpx.post(f"{origin}/parse/schemas/{CLASS}", json=body, headers=MASTER_HEADERS)
    if response.status_code >= 300:
        raise RuntimeError(f"creating {CLASS} failed: {response.status_code} {response.text}")


async def _sign_up(origin: str, users: int, concurrency: int = 8) -> None:
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=origin, timeout=60) as client:

        async def one(i: int) -> None:
            async with gate:
                response = await client.post(
                    "/parse/users",
                    json={"username": username(i), "password": PASSWORD},
                    headers=servers.CLIENT_HEADERS,
                )
                if response.status_code != 201:
                    raise RuntimeError(f"sign-up failed: {response.status_code} {response.text}")

        await asyncio.gather(*(one(i) for i in range(1, users + 1)))


def sign_up_users(origin: str, users: int) -> None:
    asyncio.run(_sign_up(origin, users))


# --- backend_kit ---------------------------------------------------------------------------------
def seed_backend_kit(name: str, count: int, users: int, workers: int) -> None:
    url = servers.create_database(name)
    with servers.redis_server() as redis_url:
        env = servers.backend_kit_env(url, redis_url, 0)
        say(f"  migrating {name}")
        servers.manage(env, "migrate", "--noinput", "-v", "0")
        with servers.running(servers.backend_kit_process(url, redis_url, workers)) as server:
            origin = servers.origin_of(server)
            declare_class(origin)
            say(f"  signing up {users} users")
            sign_up_users(origin, users)
        with tempfile.TemporaryDirectory(prefix="bkbench_seed_") as tmp:
            path = Path(tmp) / f"{CLASS}.json"
            path.write_text(json.dumps({"results": objects(count)}))
            say(f"  importing {count} objects with bk_import")
            servers.manage(env, "bk_import", str(path), "--class", CLASS, "--no-progress")


def upgrade_backend_kit(name: str) -> None:
    """``migrate`` on a kept template, as an upgrade of a deployment runs it: what
    backend_kit installs after migrating (the usage-level triggers) is this checkout's."""
    with servers.redis_server() as redis_url:
        env = servers.backend_kit_env(servers.db_url(name), redis_url, 0)
        servers.manage(env, "migrate", "--noinput", "-v", "0")


# --- Parse Server --------------------------------------------------------------------------------
def seed_parse(name: str, count: int, users: int, install_dir: Path) -> None:
    url = servers.create_database(name)
    with servers.running(servers.parse_process(url, 1, install_dir)) as server:
        origin = servers.origin_of(server)
        declare_class(origin)
        say(f"  signing up {users} users")
        sign_up_users(origin, users)
    say(f"  copying {count} objects into the {CLASS} table")
    columns = ["objectId", "createdAt", "updatedAt", "_rperm", "_wperm", *FIELDS]
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{CLASS}" ({quoted}) FROM STDIN') as copy:
            for row in objects(count):
                copy.write_row(
                    [
                        row["objectId"],
                        row["createdAt"],
                        row["updatedAt"],
                        ["*"],
                        ["*"],
                        *(row[f] for f in FIELDS),
                    ]
                )


# --- templates -----------------------------------------------------------------------------------
def ensure_template(kind: str, count: int, users: int, **options: Any) -> str:
    """Name of a seeded template database for ``kind`` (``bk`` or ``parse``); seeds it once."""
    # one template per size: a quick run with fewer objects keeps the full-size one
    prefix = f"bkbench_tpl_{kind}_{count}_{users}_"
    name = prefix + fingerprint(kind, count, users)
    for stale in servers.databases_like(prefix):
        if stale != name:
            servers.drop_database(stale)
    if servers.database_exists(name):
        if kind == "bk":
            upgrade_backend_kit(name)
        return name
    building = f"bkbench_seeding_{kind}"
    say(f"seeding {kind} ({count} objects, {users} users) into a template database (once)")
    if kind == "bk":
        seed_backend_kit(building, count, users, options["workers"])
    else:
        seed_parse(building, count, users, options["install_dir"])
    servers.analyze(building)
    servers.rename_database(building, name)
    return name
