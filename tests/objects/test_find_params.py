"""Find parameters: limit, skip, count, keys, excludeKeys, include, order, explain..."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import ids, kit, master_headers, raw_request

pytestmark = pytest.mark.django_db


def ptr(class_name: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def create(master: ParseClient, class_name: str, body: dict[str, Any]) -> str:
    r = master.post(f"classes/{class_name}", body)
    assert r.status_code == 201, r.json_body
    return r.json_body["objectId"]


@pytest.fixture
def scores(master: ParseClient) -> list[str]:
    rows = [
        ("ann", 30, "red"),
        ("bob", 10, "blue"),
        ("cat", 20, "red"),
        ("dan", 20, "blue"),
        ("eve", 40, "green"),
    ]
    return [create(master, "Score", {"name": n, "score": s, "team": t}) for n, s, t in rows]


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json_body
    return [o["name"] for o in response.json_body["results"]]


# --- limit / skip / count ----------------------------------------------------------------


def test_limit_skip(master: ParseClient, scores: list[str]) -> None:
    assert names(master.get("classes/Score", order="name", limit=2)) == ["ann", "bob"]
    assert names(master.get("classes/Score", order="name", limit=2, skip=2)) == ["cat", "dan"]
    assert names(master.get("classes/Score", order="name", skip=4)) == ["eve"]
    assert names(master.get("classes/Score", order="name", skip=10)) == []
    assert names(master.get("classes/Score", order="name", limit="3")) == ["ann", "bob", "cat"]


def test_count(master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", count=1, limit=0)
    assert r.json_body == {"results": [], "count": 5}
    r = master.get("classes/Score", count=1, limit=2, skip=1, where={"team": "red"})
    assert len(r.json_body["results"]) == 1 and r.json_body["count"] == 2
    r = master.get("classes/Score", count="true", limit=1)
    assert r.json_body["count"] == 5
    r = master.get("classes/Score", count=0)
    assert "count" not in r.json_body


@override_settings(BACKEND_KIT=kit(DEFAULT_LIMIT=2))
def test_default_limit(master: ParseClient, scores: list[str]) -> None:
    assert len(master.get("classes/Score").json_body["results"]) == 2
    assert len(master.get("classes/Score", limit=4).json_body["results"]) == 4


@override_settings(BACKEND_KIT=kit(MAX_LIMIT=3))
def test_max_limit_silently_caps(master: ParseClient, scores: list[str]) -> None:
    assert len(master.get("classes/Score", limit=1000).json_body["results"]) == 3
    assert len(master.get("classes/Score").json_body["results"]) == 3
    assert len(master.get("classes/Score", limit=2).json_body["results"]) == 2


@pytest.mark.parametrize(
    "param,value",
    [
        ("limit", "abc"),
        ("limit", 2.5),
        ("limit", True),
        ("skip", "x"),
        ("skip", -1),
        ("limit", {"a": 1}),
    ],
)
def test_bad_limit_or_skip_is_102(
    param: str, value: Any, master: ParseClient, scores: list[str]
) -> None:
    r = master.get("classes/Score", **{param: value})
    assert r.status_code == 400 and r.json_body["code"] == 102


# --- order ----------------------------------------------------------------------------------


def test_order_several_keys(master: ParseClient, scores: list[str]) -> None:
    assert names(master.get("classes/Score", order="-score,name")) == [
        "eve",
        "ann",
        "cat",
        "dan",
        "bob",
    ]
    assert names(master.get("classes/Score", order="team,-score")) == [
        "dan",
        "bob",
        "eve",
        "ann",
        "cat",
    ]
    assert names(master.get("classes/Score", order="score, -name")) == [
        "bob",
        "dan",
        "cat",
        "ann",
        "eve",
    ]


def test_order_by_timestamps_and_id(master: ParseClient, scores: list[str]) -> None:
    by_created = master.get("classes/Score", order="createdAt").json_body["results"]
    assert [o["createdAt"] for o in by_created] == sorted(o["createdAt"] for o in by_created)
    by_id = ids(master.get("classes/Score", order="-objectId").json_body["results"])
    assert by_id == sorted(scores, reverse=True)


def test_order_puts_missing_values_first_ascending(master: ParseClient, scores: list[str]) -> None:
    create(master, "Score", {"name": "zed"})
    assert names(master.get("classes/Score", order="score"))[0] == "zed"
    assert names(master.get("classes/Score", order="-score"))[-1] == "zed"


@pytest.mark.parametrize("order", ["na-me", "$where", "a..b", "-"])
def test_bad_order_key(order: str, master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", order=order)
    assert r.status_code == 400 and r.json_body["code"] == 105


# --- keys / excludeKeys ------------------------------------------------------------------------


def test_keys(master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", keys="name", order="name", limit=1)
    assert set(r.json_body["results"][0]) == {"objectId", "name", "createdAt", "updatedAt"}
    r = master.get("classes/Score", keys="name,score", order="name", limit=1)
    assert set(r.json_body["results"][0]) == {"objectId", "name", "score", "createdAt", "updatedAt"}
    r = master.get(f"classes/Score/{scores[0]}", keys="team")
    assert set(r.json_body) == {"objectId", "team", "createdAt", "updatedAt"}
    # an empty keys list keeps only the always-selected keys
    r = master.get("classes/Score", keys="", order="name", limit=1)
    assert set(r.json_body["results"][0]) == {"objectId", "createdAt", "updatedAt"}


def test_keys_keep_the_acl(master: ParseClient) -> None:
    oid = create(master, "Score", {"name": "a", "ACL": {"*": {"read": True}}})
    r = master.get(f"classes/Score/{oid}", keys="name")
    assert r.json_body["ACL"] == {"*": {"read": True}}


def test_exclude_keys(master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", excludeKeys="score,team", order="name", limit=1)
    assert set(r.json_body["results"][0]) == {"objectId", "name", "createdAt", "updatedAt"}
    r = master.get(f"classes/Score/{scores[0]}", excludeKeys="name")
    assert "name" not in r.json_body and r.json_body["score"] == 30
    # the always-selected keys cannot be excluded (Parse)
    r = master.get(f"classes/Score/{scores[0]}", excludeKeys="objectId,createdAt,updatedAt,name")
    assert {"objectId", "createdAt", "updatedAt"} <= set(r.json_body)
    r = master.get("classes/Score", keys="name,score", excludeKeys="score", limit=1)
    assert set(r.json_body["results"][0]) == {"objectId", "name", "createdAt", "updatedAt"}


# --- include --------------------------------------------------------------------------------


@pytest.fixture
def library(master: ParseClient) -> dict[str, str]:
    country = create(master, "Country", {"name": "FR", "code": 33})
    author = create(
        master, "Author", {"name": "Hugo", "born": 1802, "country": ptr("Country", country)}
    )
    other = create(master, "Author", {"name": "Zola", "born": 1840})
    book = create(
        master,
        "Book",
        {
            "title": "Les Misérables",
            "author": ptr("Author", author),
            "coauthors": [ptr("Author", other), ptr("Author", author), "not a pointer"],
            "meta": {"editor": ptr("Author", other)},
        },
    )
    return {"country": country, "author": author, "other": other, "book": book}


def test_include_one_level(master: ParseClient, library: dict[str, str]) -> None:
    r = master.get("classes/Book", include="author")
    book = r.json_body["results"][0]
    assert book["author"]["__type"] == "Object"
    assert book["author"]["className"] == "Author"
    assert book["author"]["name"] == "Hugo"
    assert book["author"]["objectId"] == library["author"]
    # not asked: still a pointer
    assert book["author"]["country"] == ptr("Country", library["country"])
    assert book["coauthors"][0] == ptr("Author", library["other"])


def test_include_nested(master: ParseClient, library: dict[str, str]) -> None:
    book = master.get("classes/Book", include="author.country").json_body["results"][0]
    assert book["author"]["__type"] == "Object"
    assert book["author"]["country"]["__type"] == "Object"
    assert book["author"]["country"]["name"] == "FR"
    # the same on a get
    got = master.get(f"classes/Book/{library['book']}", include="author.country").json_body
    assert got["author"]["country"]["code"] == 33


def test_include_array_of_pointers(master: ParseClient, library: dict[str, str]) -> None:
    book = master.get("classes/Book", include="coauthors").json_body["results"][0]
    first, second, third = book["coauthors"]
    assert (first["__type"], first["name"]) == ("Object", "Zola")
    assert (second["__type"], second["name"]) == ("Object", "Hugo")
    assert third == "not a pointer"


def test_include_inside_an_object_field(master: ParseClient, library: dict[str, str]) -> None:
    book = master.get("classes/Book", include="meta.editor").json_body["results"][0]
    assert book["meta"]["editor"]["__type"] == "Object"
    assert book["meta"]["editor"]["name"] == "Zola"


def test_include_all(master: ParseClient, library: dict[str, str]) -> None:
    for params in ({"includeAll": True}, {"include": "*"}):
        book = master.get("classes/Book", **params).json_body["results"][0]
        assert book["author"]["__type"] == "Object"
        assert [c["__type"] for c in book["coauthors"][:2]] == ["Object", "Object"]
        # one level only
        assert book["author"]["country"]["__type"] == "Pointer"


def test_include_with_keys(master: ParseClient, library: dict[str, str]) -> None:
    book = master.get("classes/Book", include="author", keys="author.name").json_body["results"][0]
    assert "title" not in book
    assert set(book["author"]) == {
        "__type",
        "className",
        "objectId",
        "name",
        "createdAt",
        "updatedAt",
    }


def test_dotted_keys_imply_the_include(master: ParseClient, library: dict[str, str]) -> None:
    # Parse: keys=author.name includes author (one level less than the key)
    book = master.get("classes/Book", keys="title,author.name").json_body["results"][0]
    assert book["title"] == "Les Misérables"
    assert book["author"]["__type"] == "Object"
    assert set(book["author"]) == {
        "__type",
        "className",
        "objectId",
        "name",
        "createdAt",
        "updatedAt",
    }


def test_dotted_exclude_keys_apply_to_included_objects(
    master: ParseClient, library: dict[str, str]
) -> None:
    book = master.get("classes/Book", excludeKeys="author.born").json_body["results"][0]
    assert book["author"]["__type"] == "Object"
    assert book["author"]["name"] == "Hugo" and "born" not in book["author"]
    assert book["title"] == "Les Misérables"


def test_include_of_a_missing_or_unreadable_object_stays_a_pointer(
    master: ParseClient, api: ParseClient, library: dict[str, str]
) -> None:
    master.put(f"classes/Author/{library['author']}", {"ACL": {}})
    book = api.get("classes/Book", include="author,coauthors").json_body["results"][0]
    assert book["author"] == ptr("Author", library["author"])
    assert book["coauthors"][0]["__type"] == "Object"
    assert book["coauthors"][1] == ptr("Author", library["author"])
    master.delete(f"classes/Author/{library['other']}")
    book = master.get("classes/Book", include="coauthors").json_body["results"][0]
    assert book["coauthors"][0] == ptr("Author", library["other"])


def test_include_of_a_non_pointer_is_ignored(master: ParseClient, library: dict[str, str]) -> None:
    r = master.get("classes/Book", include="title,nothing.here")
    assert r.status_code == 200
    assert r.json_body["results"][0]["title"] == "Les Misérables"


@override_settings(BACKEND_KIT=kit(MAX_INCLUDE_DEPTH=1))
def test_include_depth_limit(master: ParseClient, library: dict[str, str]) -> None:
    assert master.get("classes/Book", include="author").status_code == 200
    r = master.get("classes/Book", include="author.country.x")
    assert r.status_code == 400 and r.json_body["code"] == 102


# --- parameters ------------------------------------------------------------------------------


def test_unknown_find_parameter_is_102(master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", foo=1)
    assert r.status_code == 400
    assert r.json_body == {"code": 102, "error": "Invalid parameter for query: foo"}


def test_unknown_get_parameter_is_102(master: ParseClient, scores: list[str]) -> None:
    r = master.get(f"classes/Score/{scores[0]}", where={"a": 1})
    assert r.status_code == 400
    assert r.json_body == {"code": 102, "error": "Improper encode of parameter"}


def test_where_as_a_bad_json_string_is_107(master: ParseClient, scores: list[str]) -> None:
    r = raw_request("GET", "classes/Score", headers=master_headers(), where="{nope")
    assert r.status_code == 400 and r.json_body["code"] in (102, 107)


def test_accepted_but_ignored_parameters(master: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", readPreference="SECONDARY", comment="hi", hint="_id_", limit=1)
    assert r.status_code == 200 and len(r.json_body["results"]) == 1


def test_redirect_class_name_for_key(master: ParseClient) -> None:
    a = create(master, "Person", {"name": "a"})
    team = create(
        master, "Team", {"members": {"__op": "AddRelation", "objects": [ptr("Person", a)]}}
    )
    r = master.get(
        "classes/Team",
        redirectClassNameForKey="members",
        where={"$relatedTo": {"object": ptr("Team", team), "key": "members"}},
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["className"] == "Person"
    assert ids(r.json_body["results"]) == [a]
    # a key that is not a relation keeps the class
    r = master.get("classes/Team", redirectClassNameForKey="nothing")
    assert r.json_body["className"] == "Team"
    assert ids(r.json_body["results"]) == [team]


def test_explain_is_master_only(master: ParseClient, api: ParseClient, scores: list[str]) -> None:
    r = master.get("classes/Score", explain=True, where={"score": 10})
    assert r.status_code == 200
    assert r.json_body["results"]
    r = api.get("classes/Score", explain=True)
    assert r.status_code == 400
    assert r.json_body == {
        "code": 102,
        "error": "Using the explain query parameter requires the master key",
    }
