"""The one table of query cases: (class, where, order, expected objects).

Run by the tests against the SQL compiler on SQLite and on PostgreSQL, and against
the in-memory matcher (LiveQuery), so a subscription and a find cannot disagree.
Object labels stand for fixed objectIds ("qa", "qb"...). ``expected`` is a set of
labels, or a list when ``order`` is given (the order is then part of the answer).
"""

from __future__ import annotations

from typing import Any


def ptr(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def date(iso: str) -> dict[str, str]:
    return {"__type": "Date", "iso": iso}


def geo(lat: float, lng: float) -> dict[str, Any]:
    return {"__type": "GeoPoint", "latitude": lat, "longitude": lng}


SF, NYC, LONDON = geo(37.7749, -122.4194), geo(40.7128, -74.0060), geo(51.5074, -0.1278)

SCHEMAS: dict[str, dict[str, Any]] = {
    "QCOther": {"fields": {"label": {"type": "String"}, "rank": {"type": "Number"}}},
    "QC": {
        "fields": {
            "name": {"type": "String"},
            "score": {"type": "Number"},
            "flag": {"type": "Boolean"},
            "when": {"type": "Date"},
            "tags": {"type": "Array"},
            "owner": {"type": "Pointer", "targetClass": "QCOther"},
            "owners": {"type": "Array"},
            "meta": {"type": "Object"},
            "loc": {"type": "GeoPoint"},
            "area": {"type": "Polygon"},
            "body": {"type": "String"},
            "file": {"type": "File"},
            "blob": {"type": "Bytes"},
            "rel": {"type": "Relation", "targetClass": "QCOther"},
        }
    },
}

# class, objectId, fields
OBJECTS: list[tuple[str, str, dict[str, Any]]] = [
    ("QCOther", "o1", {"label": "alpha", "rank": 1}),
    ("QCOther", "o2", {"label": "Gamma", "rank": 2}),
    ("QCOther", "o3", {"label": "nobody", "rank": 3}),
    (
        "QC",
        "qa",
        {
            "name": "alpha",
            "score": 10,
            "flag": True,
            "when": date("2024-01-01T00:00:00.000Z"),
            "tags": ["x", "y"],
            "owner": ptr("QCOther", "o1"),
            "meta": {"level": 1, "kind": "gold", "nested": {"deep": "v"}},
            "loc": SF,
            "area": {
                "__type": "Polygon",
                "coordinates": [[37.0, -123.0], [38.5, -123.0], [38.5, -121.5], [37.0, -121.5]],
            },
            "body": "The quick brown fox jumps over the lazy dog",
            "file": {"__type": "File", "name": "f1.txt"},
            "blob": {"__type": "Bytes", "base64": "aGVsbG8="},
        },
    ),
    (
        "QC",
        "qb",
        {
            "name": "beta",
            "score": 20.5,
            "flag": False,
            "when": date("2024-06-01T12:30:00.000Z"),
            "tags": ["y", "z"],
            "owner": ptr("QCOther", "o2"),
            "meta": {"level": 2, "kind": "silver"},
            "loc": NYC,
            "body": "Lazy cats are sleeping",
            "file": {"__type": "File", "name": "f2.txt"},
        },
    ),
    (
        "QC",
        "qc",
        {
            "name": "Gamma",
            "score": -5,
            "tags": [],
            "owners": [ptr("QCOther", "o1"), ptr("QCOther", "o2")],
            "meta": {"level": 3},
            "loc": LONDON,
            "body": "Quick thinking wins",
            "when": date("2023-12-31T23:59:59.999Z"),
        },
    ),
    ("QC", "qd", {"name": "delta", "score": None, "tags": ["x"], "flag": True}),
    ("QC", "qe", {"name": "épsilon", "score": 0, "flag": False}),
]

RELATIONS: list[tuple[str, str, str, list[str]]] = [
    ("QC", "qa", "rel", ["o1", "o2"]),
    ("QC", "qb", "rel", ["o3"]),
]

ALL = {"qa", "qb", "qc", "qd", "qe"}

# (id, class, where, order, expected)
CASES: list[tuple[str, str, dict[str, Any], str | None, Any]] = [
    # equality and types
    ("eq-string", "QC", {"name": "alpha"}, None, {"qa"}),
    ("eq-unicode", "QC", {"name": "épsilon"}, None, {"qe"}),
    ("eq-number-int", "QC", {"score": 10}, None, {"qa"}),
    ("eq-number-float", "QC", {"score": 20.5}, None, {"qb"}),
    ("eq-number-zero", "QC", {"score": 0}, None, {"qe"}),
    ("eq-wrong-type", "QC", {"score": "10"}, None, set()),
    ("eq-bool-true", "QC", {"flag": True}, None, {"qa", "qd"}),
    ("eq-bool-false", "QC", {"flag": False}, None, {"qb", "qe"}),
    ("eq-null", "QC", {"score": None}, None, {"qd"}),
    ("eq-null-missing", "QC", {"flag": None}, None, {"qc"}),
    ("eq-op", "QC", {"name": {"$eq": "beta"}}, None, {"qb"}),
    ("eq-date", "QC", {"when": date("2024-01-01T00:00:00.000Z")}, None, {"qa"}),
    ("eq-file", "QC", {"file": {"__type": "File", "name": "f1.txt"}}, None, {"qa"}),
    ("eq-bytes", "QC", {"blob": {"__type": "Bytes", "base64": "aGVsbG8="}}, None, {"qa"}),
    ("eq-object", "QC", {"meta": {"level": 3}}, None, {"qc"}),
    ("eq-object-key-order", "QC", {"meta": {"kind": "silver", "level": 2}}, None, {"qb"}),
    ("eq-array-whole", "QC", {"tags": ["x", "y"]}, None, {"qa"}),
    ("eq-objectid", "QC", {"objectId": "qb"}, None, {"qb"}),
    ("eq-unknown-field", "QC", {"nope": 1}, None, set()),
    # $ne
    ("ne-string", "QC", {"name": {"$ne": "alpha"}}, None, ALL - {"qa"}),
    ("ne-missing-matches", "QC", {"flag": {"$ne": True}}, None, {"qb", "qc", "qe"}),
    ("ne-null", "QC", {"score": {"$ne": None}}, None, {"qa", "qb", "qc", "qe"}),
    ("ne-unknown-field", "QC", {"nope": {"$ne": 1}}, None, ALL),
    # comparisons
    ("gt-number", "QC", {"score": {"$gt": 0}}, None, {"qa", "qb"}),
    ("gte-number", "QC", {"score": {"$gte": 0}}, None, {"qa", "qb", "qe"}),
    ("lt-number", "QC", {"score": {"$lt": 10}}, None, {"qc", "qe"}),
    ("lte-range", "QC", {"score": {"$gte": -5, "$lte": 10}}, None, {"qa", "qc", "qe"}),
    ("gt-string-binary", "QC", {"name": {"$gt": "b"}}, None, {"qb", "qd", "qe"}),
    ("lt-string-binary", "QC", {"name": {"$lt": "a"}}, None, {"qc"}),
    ("gt-date", "QC", {"when": {"$gt": date("2024-01-01T00:00:00.000Z")}}, None, {"qb"}),
    ("lte-date", "QC", {"when": {"$lte": date("2024-01-01T00:00:00.000Z")}}, None, {"qa", "qc"}),
    ("gt-wrong-type", "QC", {"score": {"$gt": "a"}}, None, set()),
    (
        "created-before-tomorrow",
        "QC",
        {"createdAt": {"$lt": {"$relativeTime": "in 1 day"}}},
        None,
        ALL,
    ),
    (
        "created-after-tomorrow",
        "QC",
        {"createdAt": {"$gt": {"$relativeTime": "in 1 day"}}},
        None,
        set(),
    ),
    (
        "relative-time-field",
        "QC",
        {"when": {"$gt": {"$relativeTime": "100 years ago"}}},
        None,
        {"qa", "qb", "qc"},
    ),
    # $in / $nin / $exists
    ("in-strings", "QC", {"name": {"$in": ["alpha", "Gamma", "zzz"]}}, None, {"qa", "qc"}),
    ("in-numbers", "QC", {"score": {"$in": [10, 0]}}, None, {"qa", "qe"}),
    ("in-with-null", "QC", {"flag": {"$in": [True, None]}}, None, {"qa", "qd", "qc"}),
    ("in-empty", "QC", {"name": {"$in": []}}, None, set()),
    ("nin-strings", "QC", {"name": {"$nin": ["alpha", "beta"]}}, None, {"qc", "qd", "qe"}),
    ("nin-missing-matches", "QC", {"flag": {"$nin": [True]}}, None, {"qb", "qc", "qe"}),
    ("in-objectid", "QC", {"objectId": {"$in": ["qa", "qe"]}}, None, {"qa", "qe"}),
    ("exists-true", "QC", {"owner": {"$exists": True}}, None, {"qa", "qb"}),
    ("exists-false", "QC", {"owner": {"$exists": False}}, None, {"qc", "qd", "qe"}),
    ("exists-null-is-absent", "QC", {"score": {"$exists": False}}, None, {"qd"}),
    ("exists-unknown", "QC", {"nope": {"$exists": False}}, None, ALL),
    # arrays
    ("array-contains", "QC", {"tags": "x"}, None, {"qa", "qd"}),
    ("array-all", "QC", {"tags": {"$all": ["x", "y"]}}, None, {"qa"}),
    ("array-all-empty", "QC", {"tags": {"$all": []}}, None, set()),
    ("array-in", "QC", {"tags": {"$in": ["z", "nope"]}}, None, {"qb"}),
    ("array-nin", "QC", {"tags": {"$nin": ["x"]}}, None, {"qb", "qc", "qe"}),
    ("array-contained-by", "QC", {"tags": {"$containedBy": ["x", "y"]}}, None, {"qa", "qc", "qd"}),
    ("array-pointer", "QC", {"owners": ptr("QCOther", "o1")}, None, {"qc"}),
    (
        "array-all-pointers",
        "QC",
        {"owners": {"$all": [ptr("QCOther", "o1"), ptr("QCOther", "o2")]}},
        None,
        {"qc"},
    ),
    (
        "array-all-regex",
        "QC",
        {"tags": {"$all": [{"$regex": "^\\Qy\\E"}, {"$regex": "^z"}]}},
        None,
        {"qb"},
    ),
    # regular expressions
    ("regex-prefix", "QC", {"name": {"$regex": "^al"}}, None, {"qa"}),
    ("regex-case", "QC", {"name": {"$regex": "^GAM", "$options": "i"}}, None, {"qc"}),
    ("regex-quoted", "QC", {"name": {"$regex": "^\\Qbe\\E"}}, None, {"qb"}),
    ("regex-contains-quoted", "QC", {"name": {"$regex": "\\Qlt\\E"}}, None, {"qd"}),
    ("regex-ends", "QC", {"name": {"$regex": "a$"}}, None, {"qa", "qb", "qc", "qd"}),
    ("regex-word-boundary", "QC", {"body": {"$regex": "\\bcats\\b"}}, None, {"qb"}),
    ("regex-array", "QC", {"tags": {"$regex": "^z"}}, None, {"qb"}),
    ("regex-not-string", "QC", {"score": {"$regex": "1"}}, None, set()),
    # logical
    ("or", "QC", {"$or": [{"name": "alpha"}, {"score": {"$lt": 0}}]}, None, {"qa", "qc"}),
    ("and", "QC", {"$and": [{"flag": True}, {"tags": "x"}]}, None, {"qa", "qd"}),
    ("nor", "QC", {"$nor": [{"flag": True}, {"name": "beta"}]}, None, {"qc", "qe"}),
    (
        "or-nested-and",
        "QC",
        {"$or": [{"$and": [{"flag": False}, {"score": {"$gt": 5}}]}, {"name": "delta"}]},
        None,
        {"qb", "qd"},
    ),
    ("implicit-and", "QC", {"flag": False, "score": {"$gt": 5}}, None, {"qb"}),
    # dot notation into objects
    ("dot-eq", "QC", {"meta.level": 2}, None, {"qb"}),
    ("dot-gte", "QC", {"meta.level": {"$gte": 2}}, None, {"qb", "qc"}),
    ("dot-string", "QC", {"meta.kind": "gold"}, None, {"qa"}),
    ("dot-deep", "QC", {"meta.nested.deep": "v"}, None, {"qa"}),
    ("dot-exists-false", "QC", {"meta.level": {"$exists": False}}, None, {"qd", "qe"}),
    ("dot-type-mixed", "QC", {"meta.level": {"$gt": "1"}}, None, set()),
    ("dot-in", "QC", {"meta.kind": {"$in": ["gold", "silver"]}}, None, {"qa", "qb"}),
    # pointers and sub-queries
    ("pointer-eq", "QC", {"owner": ptr("QCOther", "o1")}, None, {"qa"}),
    (
        "pointer-in",
        "QC",
        {"owner": {"$in": [ptr("QCOther", "o1"), ptr("QCOther", "o2")]}},
        None,
        {"qa", "qb"},
    ),
    ("pointer-ne", "QC", {"owner": {"$ne": ptr("QCOther", "o1")}}, None, {"qb", "qc", "qd", "qe"}),
    (
        "in-query",
        "QC",
        {"owner": {"$inQuery": {"className": "QCOther", "where": {"rank": {"$gte": 2}}}}},
        None,
        {"qb"},
    ),
    (
        "not-in-query",
        "QC",
        {"owner": {"$notInQuery": {"className": "QCOther", "where": {"rank": {"$gte": 2}}}}},
        None,
        {"qa", "qc", "qd", "qe"},
    ),
    (
        "in-query-array",
        "QC",
        {"owners": {"$inQuery": {"className": "QCOther", "where": {"rank": 2}}}},
        None,
        {"qc"},
    ),
    (
        "select",
        "QC",
        {"name": {"$select": {"query": {"className": "QCOther", "where": {}}, "key": "label"}}},
        None,
        {"qa", "qc"},
    ),
    (
        "dont-select",
        "QC",
        {
            "name": {
                "$dontSelect": {
                    "query": {"className": "QCOther", "where": {"rank": 1}},
                    "key": "label",
                }
            }
        },
        None,
        {"qb", "qc", "qd", "qe"},
    ),
    (
        "related-to",
        "QCOther",
        {"$relatedTo": {"object": ptr("QC", "qa"), "key": "rel"}},
        None,
        {"o1", "o2"},
    ),
    ("relation-has", "QC", {"rel": ptr("QCOther", "o3")}, None, {"qb"}),
    # full-text search (english stemming, stop words)
    ("text-word", "QC", {"body": {"$text": {"$search": {"$term": "quick"}}}}, None, {"qa", "qc"}),
    ("text-stem", "QC", {"body": {"$text": {"$search": {"$term": "jumping"}}}}, None, {"qa"}),
    ("text-stem-2", "QC", {"body": {"$text": {"$search": {"$term": "sleep"}}}}, None, {"qb"}),
    ("text-all-words", "QC", {"body": {"$text": {"$search": {"$term": "lazy dog"}}}}, None, {"qa"}),
    (
        "text-negation",
        "QC",
        {"body": {"$text": {"$search": {"$term": "quick -fox"}}}},
        None,
        {"qc"},
    ),
    ("text-phrase", "QC", {"body": {"$text": {"$search": {"$term": '"brown fox"'}}}}, None, {"qa"}),
    (
        "text-case-sensitive",
        "QC",
        {"body": {"$text": {"$search": {"$term": "Quick", "$caseSensitive": True}}}},
        None,
        {"qc"},
    ),
    # geo
    (
        "near-max-km",
        "QC",
        {"loc": {"$nearSphere": SF, "$maxDistanceInKilometers": 100}},
        None,
        {"qa"},
    ),
    (
        "near-max-miles",
        "QC",
        {"loc": {"$nearSphere": SF, "$maxDistanceInMiles": 3000}},
        None,
        {"qa", "qb"},
    ),
    ("near-max-radians", "QC", {"loc": {"$nearSphere": NYC, "$maxDistance": 0.01}}, None, {"qb"}),
    ("near-sorted", "QC", {"loc": {"$nearSphere": LONDON}}, "", ["qc", "qb", "qa"]),
    (
        "within-box",
        "QC",
        {"loc": {"$within": {"$box": [geo(40, -75), geo(41, -73)]}}},
        None,
        {"qb"},
    ),
    (
        "geo-within-polygon",
        "QC",
        {"loc": {"$geoWithin": {"$polygon": [geo(51, -1), geo(52, -1), geo(52, 1), geo(51, 1)]}}},
        None,
        {"qc"},
    ),
    (
        "geo-within-center",
        "QC",
        {"loc": {"$geoWithin": {"$centerSphere": [[-74.0, 40.7], 0.01]}}},
        None,
        {"qb"},
    ),
    (
        "geo-intersects",
        "QC",
        {"area": {"$geoIntersects": {"$point": geo(37.8, -122.3)}}},
        None,
        {"qa"},
    ),
    (
        "eq-polygon",
        "QC",
        {
            "area": {
                "__type": "Polygon",
                "coordinates": [[37.0, -123.0], [38.5, -123.0], [38.5, -121.5], [37.0, -121.5]],
            }
        },
        None,
        {"qa"},
    ),
    (
        "geo-intersects-outside",
        "QC",
        {"area": {"$geoIntersects": {"$point": geo(40.0, -122.3)}}},
        None,
        set(),
    ),
    # ordering (the answer is an ordered list)
    ("order-number-nulls-first", "QC", {}, "score", ["qd", "qc", "qe", "qa", "qb"]),
    ("order-number-desc", "QC", {}, "-score", ["qb", "qa", "qe", "qc", "qd"]),
    ("order-string-binary", "QC", {}, "name", ["qc", "qa", "qb", "qd", "qe"]),
    ("order-string-desc", "QC", {}, "-name", ["qe", "qd", "qb", "qa", "qc"]),
    ("order-two-keys", "QC", {"flag": {"$exists": True}}, "flag,-name", ["qe", "qb", "qd", "qa"]),
    ("order-date", "QC", {"when": {"$exists": True}}, "-when", ["qb", "qa", "qc"]),
]
