"""The expected answers, computed in Python from a REST-form Parse export on disk.

Each :class:`Case` is a query sent to the imported server through the REST API and a
function that answers the same question from the export's records. Answers are lists
of objectIds (in order when the query has one) or counts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .parse_export import CATEGORIES, ROLE_NAMES, pointer

Record = dict[str, Any]
EARTH_RADIUS_KM = 6371.0
LIMIT = 1000


@dataclass
class Case:
    name: str
    class_name: str
    params: dict[str, Any]
    expected: Callable[[], Any]
    ordered: bool = False  # compare lists as they are, not as sets
    as_user: str | None = None  # objectId of the user whose session asks (None: master)


class Export:
    """The records of a REST-form export directory, indexed for the oracle."""

    def __init__(self, directory: Path) -> None:
        self.classes: dict[str, list[Record]] = {}
        self.joins: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for path in sorted(directory.glob("*.json")):
            records = orjson.loads(path.read_bytes())["results"]
            stem = path.name[: -len(".json")]
            if stem == "_SCHEMA":
                continue
            if stem.startswith("_Join:"):
                _, key, owner = stem.split(":")
                self.joins[(key, owner)] = [(r["owningId"], r["relatedId"]) for r in records]
            else:
                self.classes[stem] = records
        self.by_id = {c: {r["objectId"]: r for r in rs} for c, rs in self.classes.items()}

    def objects(self, class_name: str) -> list[Record]:
        if class_name == "_Installation":
            return self.installations()
        return self.classes[class_name]

    def installations(self) -> list[Record]:
        """Parse's rule: one installation per (lower-cased) installationId, the last saved."""
        newest: dict[str, Record] = {}
        for record in self.classes["_Installation"]:
            key = record["installationId"].lower()
            if key not in newest or record["updatedAt"] >= newest[key]["updatedAt"]:
                newest[key] = record
        return list(newest.values())

    def related(self, key: str, owner: str, owner_id: str) -> list[str]:
        return [r for o, r in self.joins[(key, owner)] if o == owner_id]

    def role_names_of(self, user_id: str) -> set[str]:
        """Roles a user holds, directly or through roles inheriting roles."""
        names = {r["objectId"]: r["name"] for r in self.classes["_Role"]}
        held = deque(o for o, u in self.joins[("users", "_Role")] if u == user_id)
        parents = defaultdict(list)
        for parent, child in self.joins[("roles", "_Role")]:
            parents[child].append(parent)
        seen: set[str] = set()
        while held:
            role = held.popleft()
            if role not in seen:
                seen.add(role)
                held.extend(parents[role])
        return {names[r] for r in seen}

    def readable_by(self, user_id: str) -> Callable[[Record], bool]:
        principals = {"*", user_id} | {f"role:{n}" for n in self.role_names_of(user_id)}

        def readable(record: Record) -> bool:
            acl = record.get("ACL")
            return acl is None or any(acl.get(p, {}).get("read") for p in principals)

        return readable


def ids(records: list[Record]) -> list[str]:
    return [r["objectId"] for r in records]


def date(iso: str) -> dict[str, str]:
    return {"__type": "Date", "iso": iso}


def km_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def cases(export: Export) -> list[Case]:
    """The query set, with its answers drawn from ``export``."""
    posts, comments = export.classes["Post"], export.classes["Comment"]
    places, users = export.classes["Place"], export.classes["_User"]
    roles = {r["name"]: r["objectId"] for r in export.classes["_Role"]}
    likes = Counter(o for o, _ in export.joins[("likes", "Post")])
    popular = sorted(likes, key=lambda o: (-likes[o], o))[:3]
    commented = comments[0]["post"]["objectId"]
    author = posts[0]["author"]["objectId"]

    def where(records: list[Record], test: Callable[[Record], bool]) -> Callable[[], Any]:
        return lambda: ids([r for r in records if test(r)])

    def count(records: list[Record], test: Callable[[Record], bool]) -> Callable[[], Any]:
        return lambda: sum(1 for r in records if test(r))

    def top(records: list[Record], test: Callable[[Record], bool], key: Any, n: int) -> Any:
        return lambda: ids(sorted((r for r in records if test(r)), key=key)[:n])

    best_scores = {o["objectId"] for o in posts if o["score"] >= 995}
    paris = (48.8566, 2.3522)
    out = [
        Case(
            "equality",
            "Post",
            {"where": {"category": "news", "draft": True, "score": {"$lt": 300}}},
            where(posts, lambda r: r["category"] == "news" and r["draft"] and r["score"] < 300),
        ),
        Case(
            "integer range",
            "Post",
            {"where": {"score": {"$gt": 500, "$lte": 510}}},
            where(posts, lambda r: 500 < r["score"] <= 510),
        ),
        Case(
            "float range",
            "Post",
            {"where": {"rating": {"$gte": 0.25, "$lt": 0.26}}},
            where(posts, lambda r: 0.25 <= r["rating"] < 0.26),
        ),
        Case(
            "$in",
            "Post",
            {"where": {"category": {"$in": ["sport", "tech"]}, "score": {"$in": list(range(10))}}},
            where(posts, lambda r: r["category"] in ("sport", "tech") and r["score"] < 10),
        ),
        Case(
            "$or",
            "Post",
            {"where": {"$or": [{"score": 7}, {"tags": "t3", "score": {"$lt": 15}}]}},
            where(posts, lambda r: r["score"] == 7 or ("t3" in r["tags"] and r["score"] < 15)),
        ),
        Case(
            "$all on arrays",
            "Post",
            {"where": {"tags": {"$all": ["t1", "t2"]}, "score": {"$lt": 100}}},
            where(posts, lambda r: {"t1", "t2"} <= set(r["tags"]) and r["score"] < 100),
        ),
        Case(
            "date range",
            "Post",
            {
                "where": {
                    "published": {
                        "$gte": date("2019-06-01T00:00:00.000Z"),
                        "$lt": date("2019-06-15T00:00:00.000Z"),
                    }
                }
            },
            where(
                posts,
                lambda r: "2019-06-01T00:00:00.000Z" <= r["published"]["iso"] < "2019-06-15",
            ),
        ),
        Case(
            "createdAt range",
            "Comment",
            {
                "where": {
                    "createdAt": {
                        "$gte": date("2016-03-01T00:00:00.000Z"),
                        "$lt": date("2016-03-08T00:00:00.000Z"),
                    }
                }
            },
            where(comments, lambda r: "2016-03-01T00:00:00.000Z" <= r["createdAt"] < "2016-03-08"),
        ),
        Case(
            "pointer equality",
            "Comment",
            {"where": {"post": pointer("Post", commented)}},
            where(comments, lambda r: r["post"]["objectId"] == commented),
        ),
        Case(
            "pointer to a user",
            "Post",
            {"where": {"author": pointer("_User", author)}},
            where(posts, lambda r: r["author"]["objectId"] == author),
        ),
        Case(
            "$inQuery through a pointer",
            "Comment",
            {
                "where": {
                    "post": {"$inQuery": {"className": "Post", "where": {"score": {"$gte": 995}}}}
                }
            },
            where(comments, lambda r: r["post"]["objectId"] in best_scores),
        ),
        Case(
            "order and limit",
            "Post",
            {"where": {"draft": False}, "order": "-score,objectId", "limit": 50},
            top(posts, lambda r: not r["draft"], lambda r: (-r["score"], r["objectId"]), 50),
            ordered=True,
        ),
        Case(
            "order by date",
            "Post",
            {"where": {"category": "art"}, "order": "published", "limit": 20},
            top(posts, lambda r: r["category"] == "art", lambda r: r["published"]["iso"], 20),
            ordered=True,
        ),
        Case(
            "count",
            "Post",
            {"where": {"category": "food"}, "count": 1, "limit": 0},
            count(posts, lambda r: r["category"] == "food"),
        ),
        Case(
            "count of files",
            "Post",
            {"where": {"photo": {"$exists": True}}, "count": 1, "limit": 0},
            count(posts, lambda r: "photo" in r),
        ),
        Case(
            "count by a key of an object",
            "Post",
            {"where": {"meta.lang": "fr", "meta.words": {"$gt": 4000}}, "count": 1, "limit": 0},
            count(posts, lambda r: r["meta"]["lang"] == "fr" and r["meta"]["words"] > 4000),
        ),
        Case(
            "geo: nearest first",
            "Place",
            {
                "where": {
                    "location": {
                        "$nearSphere": {
                            "__type": "GeoPoint",
                            "latitude": paris[0],
                            "longitude": paris[1],
                        },
                        "$maxDistanceInKilometers": 1500,
                    }
                },
                "limit": LIMIT,
            },
            top(
                places,
                lambda r: (
                    km_between(*paris, r["location"]["latitude"], r["location"]["longitude"])
                    <= 1500
                ),
                lambda r: km_between(*paris, r["location"]["latitude"], r["location"]["longitude"]),
                LIMIT,
            ),
            ordered=True,
        ),
        Case(
            "geo: within a box",
            "Place",
            {
                "where": {
                    "location": {
                        "$within": {
                            "$box": [
                                {"__type": "GeoPoint", "latitude": 10, "longitude": 20},
                                {"__type": "GeoPoint", "latitude": 20, "longitude": 35},
                            ]
                        }
                    }
                }
            },
            where(
                places,
                lambda r: (
                    10 <= r["location"]["latitude"] <= 20 and 20 <= r["location"]["longitude"] <= 35
                ),
            ),
        ),
        Case(
            "users: equality and range",
            "_User",
            {"where": {"emailVerified": True, "age": {"$gte": 85}}},
            where(users, lambda r: r["emailVerified"] and r["age"] >= 85),
        ),
        Case(
            "users without email",
            "_User",
            {"where": {"email": {"$exists": False}}, "count": 1, "limit": 0},
            count(users, lambda r: "email" not in r),
        ),
        Case(
            "members of a role ($relatedTo)",
            "_User",
            {
                "where": {
                    "$relatedTo": {"object": pointer("_Role", roles["Admins"]), "key": "users"}
                }
            },
            lambda: export.related("users", "_Role", roles["Admins"]),
        ),
        Case(
            "roles inheriting a role",
            "_Role",
            {
                "where": {
                    "$relatedTo": {"object": pointer("_Role", roles["Members"]), "key": "roles"}
                }
            },
            lambda: export.related("roles", "_Role", roles["Members"]),
        ),
        Case(
            "installations, one per id",
            "_Installation",
            {"count": 1, "limit": 0},
            lambda: len(export.installations()),
        ),
        Case(
            "installations by channel",
            "_Installation",
            {"where": {"deviceType": "ios", "channels": "news"}, "count": 1, "limit": 0},
            count(
                export.installations(),
                lambda r: r["deviceType"] == "ios" and "news" in r["channels"],
            ),
        ),
    ]
    for n, post_id in enumerate(popular):
        out.append(
            Case(
                f"likes of a post ($relatedTo) #{n}",
                "_User",
                {"where": {"$relatedTo": {"object": pointer("Post", post_id), "key": "likes"}}},
                lambda post_id=post_id: export.related("likes", "Post", post_id),
            )
        )
    # Reads as users holding roles (directly or inherited): ACLs on user ids and roles.
    session_users = [s["user"]["objectId"] for s in export.classes.get("_Session", [])]
    ranked = sorted(session_users, key=lambda u: (-len(export.role_names_of(u)), u))
    for user_id in ranked[:3]:
        readable = export.readable_by(user_id)
        held = ", ".join(sorted(export.role_names_of(user_id))) or "no role"
        out.append(
            Case(
                f"ACL as {user_id} ({held})",
                "Post",
                {"where": {"score": {"$gte": 990}}, "limit": LIMIT},
                where(posts, lambda r, ok=readable: r["score"] >= 990 and ok(r)),
                as_user=user_id,
            )
        )
    assert set(CATEGORIES) >= {"news", "sport", "tech", "food", "art"} and "Admins" in ROLE_NAMES
    return out
