"""The admin for data fixes, driven like a person would: a logged-in superuser's browser.

Every edit is checked through the REST API afterwards, since the admin promises to
write exactly as the API does.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from backend_kit.objects.models import ClassSchema, GlobalConfig, ParseObject

OBJECTS = "admin:backend_kit_objects_parseobject_changelist"
ADD_OBJECT = "admin:backend_kit_objects_parseobject_add"


def change_url(model: str, pk: int) -> str:
    return reverse(f"admin:backend_kit_objects_{model}_change", args=[pk])


def delete_url(model: str, pk: int) -> str:
    return reverse(f"admin:backend_kit_objects_{model}_delete", args=[pk])


def create(master: Any, class_name: str, body: dict[str, Any]) -> str:
    r = master.post(f"classes/{class_name}", body)
    assert r.status_code == 201, r.json_body
    return r.json_body["objectId"]


def row(class_name: str, object_id: str) -> ParseObject:
    return ParseObject.objects.get(class_name=class_name, object_id=object_id)


def listed(response: Any) -> list[str]:
    assert response.status_code == 200
    return sorted(o.object_id for o in response.context["cl"].result_list)


def page(response: Any) -> str:
    """The page's text as a person reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def message_texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def edit_form(obj: ParseObject, data: dict[str, Any], acl: Any = "unchanged") -> dict[str, str]:
    return {
        "data": json.dumps(data),
        "acl": json.dumps(obj.acl if acl == "unchanged" else acl),
        "loaded_updated_at": obj.updated_at.isoformat(),
    }


@pytest.fixture
def scores(master: Any) -> dict[str, str]:
    return {
        "low": create(master, "GameScore", {"score": 3, "player": "ada", "tags": ["x"]}),
        "high": create(master, "GameScore", {"score": 12, "player": "grace zebra"}),
        "other": create(master, "Player", {"name": "linus", "score": 99}),
    }


# --- browsing ----------------------------------------------------------------------------


def test_changelist_by_class(admin_client: Any, master: Any, scores: dict[str, str]) -> None:
    master.post("schemas/EmptyClass", {"className": "EmptyClass"})
    r = admin_client.get(reverse(OBJECTS))
    # Other apps may keep objects too (the accounts app mirrors the admin user as _User).
    assert set(scores.values()) <= set(listed(r))
    assert b"grace zebra" in r.content  # the fields preview
    r = admin_client.get(reverse(OBJECTS), {"class_name": "GameScore"})
    assert listed(r) == sorted([scores["low"], scores["high"]])
    # Classes with a schema but no objects are offered too.
    class_filter = r.context["cl"].filter_specs[0]
    offered = [value for value, _label in class_filter.lookup_choices]
    assert {"EmptyClass", "GameScore", "Player"} <= set(offered)
    assert offered == sorted(offered)


def test_search_by_object_id_and_inside_json(admin_client: Any, scores: dict[str, str]) -> None:
    r = admin_client.get(reverse(OBJECTS), {"q": "zebra"})
    assert listed(r) == [scores["high"]]
    r = admin_client.get(reverse(OBJECTS), {"q": scores["low"]})
    assert listed(r) == [scores["low"]]
    r = admin_client.get(reverse(OBJECTS), {"q": '"grace zebra" 12'})
    assert listed(r) == [scores["high"]]
    r = admin_client.get(reverse(OBJECTS), {"q": "linus 99"})
    assert listed(r) == [scores["other"]]
    r = admin_client.get(reverse(OBJECTS), {"q": "nowhere-to-be-found"})
    assert listed(r) == []


def test_where_filter(admin_client: Any, scores: dict[str, str]) -> None:
    where = json.dumps({"score": {"$gt": 5}})
    r = admin_client.get(reverse(OBJECTS), {"class_name": "GameScore", "where": where})
    assert listed(r) == [scores["high"]]
    assert b"$gt" in r.content  # the box keeps the query
    r = admin_client.get(
        reverse(OBJECTS),
        {"class_name": "GameScore", "where": json.dumps({"tags": "x"}), "q": "ada"},
    )
    assert listed(r) == [scores["low"]]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"class_name": "GameScore", "where": "{not json"}, "not valid JSON"),
        ({"class_name": "GameScore", "where": '{"score": {"$bogus": 1}}'}, "Parse error 102"),
        ({"where": '{"score": 3}'}, "Choose a class first"),
    ],
)
def test_bad_where_shows_nothing_and_says_why(
    admin_client: Any, scores: dict[str, str], params: dict[str, str], reason: str
) -> None:
    r = admin_client.get(reverse(OBJECTS), params)
    assert listed(r) == []
    texts = message_texts(r)
    assert len(texts) == 1 and reason in texts[0], texts


# --- editing -----------------------------------------------------------------------------


def test_change_form_shows_pretty_json(admin_client: Any, scores: dict[str, str]) -> None:
    obj = row("GameScore", scores["low"])
    r = admin_client.get(change_url("parseobject", obj.pk))
    assert r.status_code == 200
    assert '"player": "ada"' in page(r)
    assert r.context["adminform"].form.initial["data"] == {
        "score": 3,
        "player": "ada",
        "tags": ["x"],
    }


def test_valid_edit_is_saved_through_the_api(
    admin_client: Any, master: Any, scores: dict[str, str]
) -> None:
    obj = row("GameScore", scores["low"])
    data = {
        "score": 30,
        "player": "ada",
        "level": {"__type": "Date", "iso": "2024-01-02T03:04:05Z"},
    }
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, data))
    assert r.status_code == 302, r.context["adminform"].form.errors
    got = master.get(f"classes/GameScore/{scores['low']}").json_body
    assert got["score"] == 30
    assert "tags" not in got  # removed from the JSON: deleted
    assert got["level"] == {"__type": "Date", "iso": "2024-01-02T03:04:05.000Z"}
    # the new field went into the schema like an API write would put it
    fields = master.get("schemas/GameScore").json_body["fields"]
    assert fields["level"] == {"type": "Date"}


def test_invalid_edit_is_refused_and_nothing_changes(
    admin_client: Any, master: Any, scores: dict[str, str]
) -> None:
    obj = row("GameScore", scores["low"])
    before = master.get(f"classes/GameScore/{scores['low']}").json_body
    data = {"score": "a lot", "player": "changed too"}
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, data))
    assert r.status_code == 200
    errors = r.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert "Parse error 111" in errors[0] and "schema mismatch" in errors[0]
    assert "Parse error 111" in page(r)
    assert master.get(f"classes/GameScore/{scores['low']}").json_body == before


def test_metadata_and_non_object_json_are_refused(
    admin_client: Any, scores: dict[str, str]
) -> None:
    obj = row("GameScore", scores["low"])
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, {"ACL": {}}))
    assert r.status_code == 200 and "ACL cannot be set here" in page(r)
    form = edit_form(obj, {})
    form["data"] = "[1, 2]"
    r = admin_client.post(change_url("parseobject", obj.pk), form)
    assert r.status_code == 200 and "must be a JSON object" in page(r)
    assert row("GameScore", scores["low"]).data["score"] == 3


def test_stale_edit_is_refused(admin_client: Any, master: Any, scores: dict[str, str]) -> None:
    obj = row("GameScore", scores["low"])
    master.put(f"classes/GameScore/{scores['low']}", {"score": 4})
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, {"score": 100}))
    assert r.status_code == 200 and "changed since you opened it" in page(r)
    assert master.get(f"classes/GameScore/{scores['low']}").json_body["score"] == 4


def test_unchanged_save_does_not_touch_the_object(
    admin_client: Any, scores: dict[str, str]
) -> None:
    obj = row("GameScore", scores["low"])
    r = admin_client.post(
        change_url("parseobject", obj.pk),
        edit_form(obj, {"score": 3, "player": "ada", "tags": ["x"]}),
    )
    assert r.status_code == 302
    assert row("GameScore", scores["low"]).updated_at == obj.updated_at


def test_acl_edit(admin_client: Any, api: Any, master: Any, scores: dict[str, str]) -> None:
    oid = scores["high"]
    assert api.get(f"classes/GameScore/{oid}").status_code == 200
    obj = row("GameScore", oid)
    acl = {"role:Admins": {"read": True, "write": True}}
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, visible(obj), acl=acl))
    assert r.status_code == 302
    assert master.get(f"classes/GameScore/{oid}").json_body["ACL"] == acl
    assert api.get(f"classes/GameScore/{oid}").status_code == 404  # no longer public
    # null gives the object back to everyone
    obj = row("GameScore", oid)
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, visible(obj), acl=None))
    assert r.status_code == 302
    assert api.get(f"classes/GameScore/{oid}").status_code == 200
    # a malformed ACL is Parse's 123, and nothing is written
    obj = row("GameScore", oid)
    bad = {"*": {"read": "yes"}}
    r = admin_client.post(change_url("parseobject", obj.pk), edit_form(obj, visible(obj), acl=bad))
    assert r.status_code == 200 and "Parse error 123" in page(r)
    assert row("GameScore", oid).acl is None


def visible(obj: ParseObject) -> dict[str, Any]:
    return {k: v for k, v in obj.data.items() if not k.startswith("_")}


def test_add_object(admin_client: Any, master: Any, scores: dict[str, str]) -> None:
    form = {"class_name": "GameScore", "data": json.dumps({"score": 7}), "acl": ""}
    r = admin_client.post(reverse(ADD_OBJECT), form)
    assert r.status_code == 302
    found = master.get("classes/GameScore", where={"score": 7}).json_body["results"]
    assert len(found) == 1
    assert r["Location"].endswith(reverse(OBJECTS))
    # the write path's checks apply to creation too
    form["data"] = json.dumps({"score": "seven"})
    r = admin_client.post(reverse(ADD_OBJECT), form)
    assert r.status_code == 200 and "Parse error 111" in page(r)
    form = {"class_name": "9bad", "data": "{}", "acl": ""}
    r = admin_client.post(reverse(ADD_OBJECT), form)
    assert r.status_code == 200 and "Parse error 103" in page(r)
    assert ParseObject.objects.filter(class_name="GameScore").count() == 3


def test_delete_one_object(admin_client: Any, master: Any, scores: dict[str, str]) -> None:
    obj = row("GameScore", scores["low"])
    r = admin_client.post(delete_url("parseobject", obj.pk), {"post": "yes"})
    assert r.status_code == 302
    assert master.get(f"classes/GameScore/{scores['low']}").status_code == 404


def test_bulk_delete(admin_client: Any, master: Any, scores: dict[str, str]) -> None:
    chosen = [row("GameScore", scores["low"]).pk, row("Player", scores["other"]).pk]
    action = {"action": "delete_objects", "_selected_action": [str(pk) for pk in chosen]}
    r = admin_client.post(reverse(OBJECTS), action)
    assert r.status_code == 200  # the confirmation page, nothing deleted yet
    assert scores["low"] in page(r) and scores["other"] in page(r)
    assert ParseObject.objects.filter(object_id__in=scores.values()).count() == 3
    r = admin_client.post(reverse(OBJECTS), {**action, "post": "yes"}, follow=True)
    assert "Deleted 2 objects." in message_texts(r)
    assert master.get(f"classes/GameScore/{scores['low']}").status_code == 404
    assert master.get(f"classes/Player/{scores['other']}").status_code == 404
    assert master.get(f"classes/GameScore/{scores['high']}").status_code == 200


# --- schemas -----------------------------------------------------------------------------


@pytest.fixture
def player_schema(master: Any) -> ClassSchema:
    r = master.post(
        "schemas/Player", {"className": "Player", "fields": {"name": {"type": "String"}}}
    )
    assert r.status_code == 200, r.json_body
    return ClassSchema.objects.get(class_name="Player")


def schema_form(schema: ClassSchema, **changes: Any) -> dict[str, str]:
    values = {
        "fields": schema.fields,
        "class_level_permissions": master_clp(schema.class_name),
        "indexes": schema.indexes,
        **changes,
    }
    return {name: json.dumps(value) for name, value in values.items()}


def master_clp(class_name: str) -> dict[str, Any]:
    from backend_kit.objects.schema import get_schema

    schema = get_schema(class_name, fresh=True)
    assert schema is not None
    return schema.clp


def test_schema_list_counts(admin_client: Any, master: Any, player_schema: ClassSchema) -> None:
    create(master, "Player", {"name": "a"})
    create(master, "Player", {"name": "b"})
    r = admin_client.get(reverse("admin:backend_kit_objects_classschema_changelist"))
    assert r.status_code == 200
    shown = {s.class_name: s.object_total for s in r.context["cl"].result_list}
    assert shown["Player"] == 2
    r = admin_client.get(change_url("classschema", player_schema.pk))
    assert '"className": "Player"' in page(r)  # the full schema, read-only


def test_schema_clp_edit(
    admin_client: Any, api: Any, master: Any, player_schema: ClassSchema
) -> None:
    clp = master_clp("Player")
    clp["create"] = {"role:Admins": True}
    r = admin_client.post(
        change_url("classschema", player_schema.pk),
        schema_form(player_schema, class_level_permissions=clp),
    )
    assert r.status_code == 302, r.context["adminform"].form.errors
    assert master.get("schemas/Player").json_body["classLevelPermissions"]["create"] == {
        "role:Admins": True
    }
    r = api.post("classes/Player", {"name": "x"})
    assert r.status_code in (400, 403) and r.json_body["code"] == 119


def test_schema_clp_edit_invalid(
    admin_client: Any, master: Any, player_schema: ClassSchema
) -> None:
    before = master.get("schemas/Player").json_body
    clp = master_clp("Player")
    clp["find"] = {"*": "yes"}
    clp["create"] = {"role:Admins": True}
    r = admin_client.post(
        change_url("classschema", player_schema.pk),
        schema_form(player_schema, class_level_permissions=clp),
    )
    assert r.status_code == 200
    errors = r.context["adminform"].form.non_field_errors()
    assert len(errors) == 1 and errors[0].startswith("Parse error "), errors
    assert master.get("schemas/Player").json_body == before


def test_schema_fields_and_indexes_edit(
    admin_client: Any, master: Any, player_schema: ClassSchema
) -> None:
    fields = {"name": {"type": "String"}, "rank": {"type": "Number"}}
    r = admin_client.post(
        change_url("classschema", player_schema.pk),
        schema_form(player_schema, fields=fields, indexes={"rank_1": {"rank": 1}}),
    )
    assert r.status_code == 302, r.context["adminform"].form.errors
    got = master.get("schemas/Player").json_body
    assert got["fields"]["rank"] == {"type": "Number"}
    assert got["indexes"]["rank_1"] == {"rank": 1}
    # a type cannot change in place: Parse's 255, nothing written
    player_schema.refresh_from_db()
    r = admin_client.post(
        change_url("classschema", player_schema.pk),
        schema_form(player_schema, fields={"name": {"type": "Number"}}),
    )
    assert r.status_code == 200 and "Parse error 255" in page(r)
    assert master.get("schemas/Player").json_body == got


def test_add_schema(admin_client: Any, master: Any, db: Any) -> None:
    form = {
        "class_name": "Team",
        "fields": json.dumps({"title": {"type": "String", "required": True}}),
        "class_level_permissions": "{}",
        "indexes": "{}",
    }
    r = admin_client.post(reverse("admin:backend_kit_objects_classschema_add"), form)
    assert r.status_code == 302, r.context["adminform"].form.errors
    assert master.get("schemas/Team").json_body["fields"]["title"]["required"] is True
    r = master.post("classes/Team", {})
    assert r.json_body["code"] == 142  # the required field is enforced


def test_deleting_a_non_empty_class_is_refused(
    admin_client: Any, master: Any, player_schema: ClassSchema
) -> None:
    create(master, "Player", {"name": "a"})
    r = admin_client.post(delete_url("classschema", player_schema.pk), {"post": "yes"}, follow=True)
    texts = message_texts(r)
    assert any("Parse error 255" in t and "not empty" in t for t in texts), texts
    assert master.get("schemas/Player").status_code == 200
    # once empty it goes
    oid = ParseObject.objects.get(class_name="Player").object_id
    assert master.delete(f"classes/Player/{oid}").status_code == 200
    r = admin_client.post(delete_url("classschema", player_schema.pk), {"post": "yes"})
    assert r.status_code == 302
    assert master.get("schemas/Player").json_body["code"] == 103


def test_schema_bulk_delete_is_not_offered(admin_client: Any, player_schema: ClassSchema) -> None:
    r = admin_client.get(reverse("admin:backend_kit_objects_classschema_changelist"))
    assert "delete_selected" not in page(r)


# --- relations and config ----------------------------------------------------------------


def test_config_value_edited_as_json(admin_client: Any, master: Any, db: Any) -> None:
    assert master.put("config", {"params": {"motd": "hi"}}).status_code == 200
    param = GlobalConfig.objects.get(name="motd")
    form = {"name": "motd", "value": json.dumps({"__type": "Date", "iso": "2024-05-06T07:08:09Z"})}
    r = admin_client.post(change_url("globalconfig", param.pk), form)
    assert r.status_code == 302
    got = master.get("config").json_body["params"]["motd"]
    assert got == {"__type": "Date", "iso": "2024-05-06T07:08:09.000Z"}
    form["value"] = json.dumps({"__type": "Pointer", "className": "9x", "objectId": "a"})
    r = admin_client.post(change_url("globalconfig", param.pk), form)
    assert r.status_code == 200 and "Parse error 106" in page(r)


def test_relation_and_config_lists_render(admin_client: Any, master: Any) -> None:
    a = create(master, "Team", {"title": "a"})
    b = create(master, "Player", {"name": "b"})
    relation = {
        "__op": "AddRelation",
        "objects": [{"__type": "Pointer", "className": "Player", "objectId": b}],
    }
    assert master.put(f"classes/Team/{a}", {"members": relation}).status_code == 200
    r = admin_client.get(reverse("admin:backend_kit_objects_relationentry_changelist"))
    assert r.status_code == 200 and b in page(r)
    r = admin_client.get(reverse("admin:backend_kit_objects_globalconfig_changelist"))
    assert r.status_code == 200
