"""A realistic Parse app's data, written as Parse exports it: REST JSON and MongoDB documents.

Run it to write both forms of one data set::

    python -m tests.migration.parse_export OUT --objects 100000 --users 10000

``OUT/rest`` holds what a hosted Parse export and ``GET /classes`` with the master key
give (``{"results": [...]}`` per class, ``bcryptPassword`` on users, ``_SCHEMA.json``,
``_Join:<key>:<Class>.json``); ``OUT/mongo`` holds the same objects as ``mongoexport``
writes the collections of a Parse database (JSON lines, ``_id``, ``_p_<pointer>``,
``_rperm``/``_wperm``/``_acl``, ``_hashed_password``, ``_auth_data_<provider>``,
Extended JSON dates), with Parse Config (``_GlobalConfig``) and two collections of
Parse Server's bookkeeping that are not imported. The data: posts, comments and places (pointers, relations,
dates, geo points, polygons, files, bytes, arrays, objects), users with real bcrypt
hashes (cost 4 for speed, a few of cost 10 in every prefix Parse libraries write),
GitHub and anonymous authData, roles inheriting roles, sessions and installations
(with the duplicate installationIds old apps have).

Everything derives from the seed, so tests know every password and id without a side
file: user ``i`` is ``user{i:05d}`` with password :func:`password_of`.
"""

from __future__ import annotations

import argparse
import base64
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from random import Random
from typing import Any

import bcrypt
import orjson

ALNUM = string.ascii_letters + string.digits
CATEGORIES = ["news", "sport", "tech", "music", "food", "travel", "art", "games"]
TAGS = [f"t{i}" for i in range(10)]
LANGS = ["en", "fr", "de", "es"]
ROLE_NAMES = ["Admins", "Moderators", "Editors", "Members", "Writers", "Readers"]
# (child, parent): holders of child also hold parent (child is in parent's "roles")
ROLE_TREE = [
    ("Admins", "Moderators"),
    ("Moderators", "Members"),
    ("Editors", "Writers"),
    ("Writers", "Readers"),
    ("Admins", "Editors"),
]
EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
# users whose hash has Parse Server's own cost (10), one per bcrypt prefix
COST_10_USERS = {0: "$2a$", 1: "$2b$", 2: "$2y$"}
SESSION_EXPIRY = "2099-01-01T00:00:00.000Z"


def password_of(index: int) -> str:
    return f"secret-{index:05d}!"


def github_id_of(index: int) -> str:
    return str(700000 + index)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def date(moment: datetime) -> dict[str, str]:
    return {"__type": "Date", "iso": iso(moment)}


def pointer(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def _hash(job: tuple[int, str]) -> str:
    index, password = job
    prefix = COST_10_USERS.get(index)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(10 if prefix else 4)).decode()
    return prefix + hashed[4:] if prefix else hashed.replace("$2b$", "$2a$", 1)


@dataclass
class Export:
    """One Parse app's data in REST form, with the relation memberships beside it."""

    schemas: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    joins: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)


class Generator:
    def __init__(self, objects: int, users: int, seed: int = 7) -> None:
        self.rng = Random(seed)
        self.objects, self.users = objects, users
        self.used_ids: set[str] = set()
        self.export = Export()

    def new_id(self) -> str:
        while True:
            candidate = "".join(self.rng.choices(ALNUM, k=10))
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def moment(self, start: datetime = EPOCH, days: int = 5 * 365) -> datetime:
        return start + timedelta(
            seconds=self.rng.randrange(days * 86400), milliseconds=self.rng.randrange(1000)
        )

    def stamps(self, record: dict[str, Any]) -> dict[str, Any]:
        created = self.moment()
        record["createdAt"] = iso(created)
        record["updatedAt"] = iso(created + timedelta(seconds=self.rng.randrange(86400 * 30)))
        return record

    def generate(self) -> Export:
        user_ids = self.make_users()
        self.make_roles(user_ids)
        posts = self.make_posts(user_ids)
        self.make_comments(posts, user_ids)
        self.make_places()
        self.make_sessions(user_ids)
        self.make_installations(user_ids)
        self.export.schemas = schemas()
        return self.export

    # users, roles, sessions, installations

    def make_users(self) -> list[str]:
        ids = [self.new_id() for _ in range(self.users)]
        with Pool(2) as pool:
            hashes = pool.map(
                _hash, [(i, password_of(i)) for i in range(self.users)], chunksize=200
            )
        users = []
        for i, object_id in enumerate(ids):
            user: dict[str, Any] = {
                "objectId": object_id,
                "username": f"user{i:05d}",
                "bcryptPassword": hashes[i],
                "emailVerified": self.rng.random() < 0.7,
                "age": self.rng.randrange(13, 90),
                "city": self.rng.choice(["Paris", "Lyon", "Oslo", "Lima", "Pune"]),
                "ACL": {"*": {"read": True}, object_id: {"read": True, "write": True}},
            }
            if i % 10 != 3:
                user["email"] = f"user{i}@example.com"
            if i % 20 == 5:
                user["authData"] = {"github": {"id": github_id_of(i), "access_token": "gho_old"}}
            elif i % 50 == 7:
                user["authData"] = {"anonymous": {"id": f"anon-{object_id.lower()}"}}
            users.append(self.stamps(user))
        self.export.classes["_User"] = users
        return ids

    def make_roles(self, user_ids: list[str]) -> None:
        roles = {name: self.new_id() for name in ROLE_NAMES}
        records = []
        for name, object_id in roles.items():
            acl = {"*": {"read": True}, "role:Admins": {"read": True, "write": True}}
            record = {"objectId": object_id, "name": name, "ACL": acl}
            record["users"] = {"__type": "Relation", "className": "_User"}
            record["roles"] = {"__type": "Relation", "className": "_Role"}
            records.append(self.stamps(record))
        self.export.classes["_Role"] = records
        members = []
        for i, user_id in enumerate(user_ids):
            if i % 3 == 0:
                members.append((roles[self.rng.choice(ROLE_NAMES)], user_id))
        self.export.joins[("users", "_Role")] = sorted(set(members))
        self.export.joins[("roles", "_Role")] = [
            (roles[parent], roles[child]) for child, parent in ROLE_TREE
        ]

    def make_sessions(self, user_ids: list[str]) -> None:
        sessions = []
        for i, user_id in enumerate(user_ids):
            if i % 5 != 1:
                continue
            session = {
                "objectId": self.new_id(),
                "sessionToken": "r:" + "".join(self.rng.choices("0123456789abcdef", k=32)),
                "user": pointer("_User", user_id),
                "createdWith": {"action": "login", "authProvider": "password"},
                "restricted": False,
                "expiresAt": {"__type": "Date", "iso": SESSION_EXPIRY},
                "installationId": f"inst-{i:05d}",
                "ACL": {user_id: {"read": True, "write": True}},
            }
            sessions.append(self.stamps(session))
        self.export.classes["_Session"] = sessions

    def make_installations(self, user_ids: list[str]) -> None:
        installations = []
        for i in range(len(user_ids) // 2):
            ios = i % 2 == 0
            token = (
                "".join(self.rng.choices("0123456789abcdef", k=64))
                if ios
                else "fcm:" + "".join(self.rng.choices(ALNUM, k=40))
            )
            record = {
                "objectId": self.new_id(),
                "installationId": f"0000{i:04x}-aaaa-bbbb-cccc-{i:012d}",
                "deviceType": "ios" if ios else "android",
                "deviceToken": token,
                "channels": self.rng.sample(
                    ["news", "sport", "deals", "weekly"], k=self.rng.randrange(3)
                ),
                "timeZone": "Europe/Paris",
                "appIdentifier": "com.example.app",
                "badge": self.rng.randrange(5),
                "user": pointer("_User", user_ids[i]),
            }
            installations.append(self.stamps(record))
        # reinstalls saved twice: the same id (in upper case), saved earlier
        for original in installations[:: max(1, len(installations) // 20)][:20]:
            duplicate = dict(original, objectId=self.new_id(), badge=99)
            duplicate["installationId"] = original["installationId"].upper()
            duplicate["createdAt"] = duplicate["updatedAt"] = iso(EPOCH - timedelta(days=30))
            installations.append(duplicate)
        self.export.classes["_Installation"] = installations

    # the app's own classes

    def make_posts(self, user_ids: list[str]) -> list[str]:
        posts, likes = [], []
        for i in range(self.objects // 2):
            object_id = self.new_id()
            author = self.rng.choice(user_ids)
            record: dict[str, Any] = {
                "objectId": object_id,
                "title": f"Post {i}",
                "score": self.rng.randrange(1000),
                "rating": round(self.rng.random(), 4),
                "category": self.rng.choice(CATEGORIES),
                "tags": self.rng.sample(TAGS, k=self.rng.randrange(4)),
                "author": pointer("_User", author),
                "published": date(self.moment()),
                "draft": self.rng.random() < 0.2,
                "meta": {"words": self.rng.randrange(50, 5000), "lang": self.rng.choice(LANGS)},
                "likes": {"__type": "Relation", "className": "_User"},
            }
            if i % 5 == 0:
                name = "".join(self.rng.choices("0123456789abcdef", k=32)) + f"_photo{i}.jpg"
                record["photo"] = {
                    "__type": "File",
                    "name": name,
                    "url": f"https://parsefiles.back4app.com/oldAppId/{name}",
                }
            if i % 20 == 0:
                record["ACL"] = {author: {"read": True, "write": True}}
            elif i % 20 == 1:
                record["ACL"] = {"role:Moderators": {"read": True}, author: {"read": True}}
            else:
                record["ACL"] = {"*": {"read": True}, author: {"read": True, "write": True}}
            posts.append(self.stamps(record))
            for liker in self.rng.sample(user_ids, k=min(len(user_ids), self.rng.randrange(5))):
                likes.append((object_id, liker))
        self.export.classes["Post"] = posts
        self.export.joins[("likes", "Post")] = likes
        return [p["objectId"] for p in posts]

    def make_comments(self, posts: list[str], user_ids: list[str]) -> None:
        comments = []
        for i in range(self.objects * 3 // 10):
            record = {
                "objectId": self.new_id(),
                "post": pointer("Post", self.rng.choice(posts)),
                "author": pointer("_User", self.rng.choice(user_ids)),
                "text": f"comment {i} " + self.rng.choice(["great", "meh", "thanks", "lol"]),
                "votes": self.rng.randrange(-5, 50),
                "ACL": {"*": {"read": True}},
            }
            comments.append(self.stamps(record))
        self.export.classes["Comment"] = comments

    def make_places(self) -> None:
        places = []
        count = self.objects - self.objects // 2 - self.objects * 3 // 10
        for i in range(count):
            lat = round(self.rng.uniform(-60, 60), 6)
            lng = round(self.rng.uniform(-180, 180), 6)
            record: dict[str, Any] = {
                "objectId": self.new_id(),
                "name": f"Place {i}",
                "location": {"__type": "GeoPoint", "latitude": lat, "longitude": lng},
                "category": self.rng.choice(["cafe", "park", "museum", "shop"]),
                "visits": self.rng.randrange(10**6),
                "ACL": {"*": {"read": True}},
            }
            if i % 100 == 0:
                ring = [[lat, lng], [lat + 0.01, lng], [lat + 0.01, lng + 0.01], [lat, lng]]
                record["area"] = {"__type": "Polygon", "coordinates": ring}
                record["checksum"] = {
                    "__type": "Bytes",
                    "base64": base64.b64encode(f"place-{i}".encode()).decode(),
                }
            places.append(self.stamps(record))
        self.export.classes["Place"] = places


def schemas() -> list[dict[str, Any]]:
    """The ``/schemas`` form of the app's classes (system fields left to the server)."""
    public = {op: {"*": True} for op in ("find", "count", "get", "create", "update", "delete")}
    public["addField"] = {}
    return [
        {
            "className": "Post",
            "fields": {
                "title": {"type": "String"},
                "score": {"type": "Number"},
                "rating": {"type": "Number"},
                "category": {"type": "String"},
                "tags": {"type": "Array"},
                "author": {"type": "Pointer", "targetClass": "_User"},
                "published": {"type": "Date"},
                "draft": {"type": "Boolean"},
                "meta": {"type": "Object"},
                "photo": {"type": "File"},
                "likes": {"type": "Relation", "targetClass": "_User"},
            },
            "classLevelPermissions": public,
        },
        {
            "className": "Comment",
            "fields": {
                "post": {"type": "Pointer", "targetClass": "Post"},
                "author": {"type": "Pointer", "targetClass": "_User"},
                "text": {"type": "String"},
                "votes": {"type": "Number"},
            },
            "classLevelPermissions": public,
        },
        {
            "className": "Place",
            "fields": {
                "name": {"type": "String"},
                "location": {"type": "GeoPoint"},
                "category": {"type": "String"},
                "visits": {"type": "Number"},
                "area": {"type": "Polygon"},
                "checksum": {"type": "Bytes"},
            },
            "classLevelPermissions": public,
        },
        {"className": "_User", "fields": {"age": {"type": "Number"}, "city": {"type": "String"}}},
        {
            "className": "_Installation",
            "fields": {"user": {"type": "Pointer", "targetClass": "_User"}},
        },
    ]


# --- writing ----------------------------------------------------------------------------------


def _write_results(path: Path, records: Iterable[Any]) -> None:
    with open(path, "wb") as out:
        out.write(b'{"results": [')
        for n, record in enumerate(records):
            out.write((b"\n" if n == 0 else b",\n") + orjson.dumps(record))
        out.write(b"\n]}\n")


def _write_lines(path: Path, records: Iterable[Any]) -> None:
    with open(path, "wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")


def write_rest(export: Export, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _write_results(directory / "_SCHEMA.json", export.schemas)
    for class_name, records in export.classes.items():
        _write_results(directory / f"{class_name}.json", records)
    for (key, owner), pairs in export.joins.items():
        rows = ({"owningId": o, "relatedId": r} for o, r in pairs)
        _write_results(directory / f"_Join:{key}:{owner}.json", rows)


_MONGO_TYPES = {
    "String": "string",
    "Number": "number",
    "Boolean": "boolean",
    "Date": "date",
    "Object": "object",
    "Array": "array",
    "GeoPoint": "geopoint",
    "File": "file",
    "Bytes": "bytes",
    "Polygon": "polygon",
}


def mongo_schema(schema: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": schema["className"],
        "objectId": "string",
        "createdAt": "date",
        "updatedAt": "date",
    }
    for name, spec in schema["fields"].items():
        if spec["type"] == "Pointer":
            doc[name] = "*" + spec["targetClass"]
        elif spec["type"] == "Relation":
            doc[name] = f"relation<{spec['targetClass']}>"
        else:
            doc[name] = _MONGO_TYPES[spec["type"]]
    if "classLevelPermissions" in schema:
        doc["_metadata"] = {"class_permissions": schema["classLevelPermissions"]}
    return doc


def _mongo_date(value: str) -> dict[str, str]:
    return {"$date": value}


def mongo_document(class_name: str, record: dict[str, Any], n: int) -> dict[str, Any]:
    """One REST-form object as Parse Server's MongoDB adapter stores it."""
    doc: dict[str, Any] = {"_id": record["objectId"]}
    for key, value in record.items():
        if key == "objectId":
            continue
        if key in ("createdAt", "updatedAt"):
            doc["_created_at" if key == "createdAt" else "_updated_at"] = _mongo_date(value)
        elif key == "ACL":
            doc["_rperm"] = [k for k, v in value.items() if v.get("read")]
            doc["_wperm"] = [k for k, v in value.items() if v.get("write")]
            doc["_acl"] = {
                k: {"r": bool(v.get("read")), "w": bool(v.get("write"))} for k, v in value.items()
            }
        elif key == "bcryptPassword":
            doc["_hashed_password"] = value
        elif key == "sessionToken":
            doc["_session_token"] = value
        elif key == "authData":
            for provider, data in value.items():
                doc[f"_auth_data_{provider}"] = data
        elif key == "expiresAt":
            doc["_expiresAt"] = _mongo_date(value["iso"])
        else:
            doc.update(_mongo_field(key, value, n))
    return doc


def _mongo_field(key: str, value: Any, n: int) -> dict[str, Any]:
    kind = value.get("__type") if isinstance(value, dict) else None
    if kind == "Pointer":
        return {f"_p_{key}": f"{value['className']}${value['objectId']}"}
    if kind == "Relation":
        return {}
    if kind == "Date":
        return {key: _mongo_date(value["iso"])}
    if kind == "GeoPoint":
        return {key: [value["longitude"], value["latitude"]]}
    if kind == "File":
        return {key: value["name"]}
    if kind == "Polygon":
        ring = [[lng, lat] for lat, lng in value["coordinates"]]
        return {key: {"type": "Polygon", "coordinates": [ring]}}
    if kind == "Bytes":
        return {key: {"$binary": {"base64": value["base64"], "subType": "00"}}}
    if isinstance(value, int) and not isinstance(value, bool) and n % 7 == 0:
        return {key: {"$numberLong": str(value)}}  # as mongoexport writes large counters
    return {key: value}


# Parse Config as Parse Server keeps it in MongoDB (one document), and collections of
# its own bookkeeping that a dump holds beside the classes.
CONFIG = {
    "_id": 1,
    "params": {
        "welcome": "Hello from Parse",
        "maxUploads": 25,
        "launch": {"__type": "Date", "iso": "2019-05-01T10:00:00.000Z"},
        "banner": {
            "__type": "File",
            "name": "0123456789abcdef0123456789abcdef_banner.png",
            "url": "https://parsefiles.back4app.com/oldAppId/0123456789abcdef0123456789abcdef_banner.png",
        },
        "apiSecret": "s3cr3t",
    },
    "masterKeyOnly": {"apiSecret": True},
}
PARSE_SERVER_COLLECTIONS = {
    "_Hooks": [
        {
            "_id": {"$oid": "5f0000000000000000000001"},
            "functionName": "hello",
            "url": "https://hooks.example.com/hello",
        }
    ],
    "_Idempotency": [
        {"_id": "k1", "reqId": "req-1", "expire": {"$date": "2019-01-01T00:00:00.000Z"}}
    ],
}


def write_mongo(export: Export, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _write_lines(directory / "_SCHEMA.json", (mongo_schema(s) for s in export.schemas))
    _write_lines(directory / "_GlobalConfig.json", [CONFIG])
    for name, docs in PARSE_SERVER_COLLECTIONS.items():
        _write_lines(directory / f"{name}.json", docs)
    for class_name, records in export.classes.items():
        docs = (mongo_document(class_name, r, n) for n, r in enumerate(records))
        _write_lines(directory / f"{class_name}.json", docs)
    for (key, owner), pairs in export.joins.items():
        rows = (
            {"_id": f"{n:024x}", "owningId": o, "relatedId": r} for n, (o, r) in enumerate(pairs)
        )
        _write_lines(directory / f"_Join:{key}:{owner}.json", rows)


def write_both(out: Path, objects: int, users: int, seed: int = 7) -> Export:
    export = Generator(objects, users, seed).generate()
    write_rest(export, out / "rest")
    write_mongo(export, out / "mongo")
    return export


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    export = write_both(args.out, args.objects, args.users, args.seed)
    total = sum(len(r) for r in export.classes.values())
    print(f"wrote {total} objects in {len(export.classes)} classes to {args.out}/rest and /mongo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
