"""``bk_export`` / ``bk_import``: round trips, idempotence, Parse and MongoDB input, errors.

Runs on SQLite (default settings) and PostgreSQL (``--ds=tests.projects.postgres.settings``).
The data is the shared query case table (every field type, pointers, relations).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from backend_kit.context import RequestContext
from backend_kit.objects import reads, transfer, writes
from backend_kit.objects.models import ClassSchema, ParseObject, RelationEntry
from backend_kit.objects.query import cases
from backend_kit.objects.schema import all_schemas, clear_cache, create_class, get_schema

MASTER = RequestContext.master(app_id="test-app")
PUBLIC = RequestContext(app_id="test-app")
# bcrypt("open-sesame", cost 10) as Parse Server stores it in _hashed_password
PARSE_HASH = "$2y$10$77no63wjhR7lbaXDQkXJ3OdosqM3997o2aCx1vS.aqzA.YSdsbFgi"
QC_ACL = {"u1": {"read": True, "write": True}, "role:Admins": {"read": True}}


def _kit() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.BACKEND_KIT)


@pytest.fixture
def case_data(db: Any) -> None:
    for class_name, spec in cases.SCHEMAS.items():
        create_class(class_name, spec["fields"])
    with override_settings(BACKEND_KIT={**_kit(), "ALLOW_CUSTOM_OBJECT_ID": True}):
        for class_name, object_id, fields in cases.OBJECTS:
            body: dict[str, Any] = {"objectId": object_id, **fields}
            if object_id == "qc":
                body["ACL"] = QC_ACL
            for owner_class, owner_id, key, related in cases.RELATIONS:
                if (owner_class, owner_id) == (class_name, object_id):
                    body[key] = {
                        "__op": "AddRelation",
                        "objects": [cases.ptr("QCOther", r) for r in related],
                    }
            writes.create(MASTER, class_name, body)


def run(command: str, *args: Any, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err, no_progress=True, **options)
    return out.getvalue(), err.getvalue()


def snapshot() -> dict[str, Any]:
    """Everything a client or the schema API can see, plus the stored principals."""
    objects = {
        name: reads.find(MASTER, name, {"limit": 1000, "order": "objectId"})["results"]
        for name in ("QC", "QCOther")
    }
    principals = {
        (o.class_name, o.object_id): (o.read_principals, o.write_principals)
        for o in ParseObject.objects.all()
    }
    relations = sorted(
        RelationEntry.objects.values_list(
            "owner_class", "owner_id", "key", "related_class", "related_id"
        )
    )
    schemas = {s.class_name: s.to_api() for s in all_schemas()}
    return {
        "objects": objects,
        "principals": principals,
        "relations": relations,
        "schemas": schemas,
    }


def wipe() -> None:
    ParseObject.objects.all().delete()
    RelationEntry.objects.all().delete()
    ClassSchema.objects.all().delete()
    clear_cache()


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


# --- export -------------------------------------------------------------------------------


def test_export_directory_layout(case_data: Any, tmp_path: Path) -> None:
    out, _ = run("bk_export", output=str(tmp_path / "dump"))
    dump = tmp_path / "dump"
    assert "QC.json: 5 exported" in out
    names = {p.name for p in dump.iterdir()}
    assert names >= {"QC.json", "QCOther.json", "_Join:rel:QC.json", "_SCHEMA.json", "_User.json"}
    assert not [name for name in names if name.endswith(".partial")]
    joins = orjson.loads((dump / "_Join:rel:QC.json").read_bytes())
    assert sorted((j["owningId"], j["relatedId"]) for j in joins["results"]) == [
        ("qa", "o1"),
        ("qa", "o2"),
        ("qb", "o3"),
    ]
    schemas = {
        s["className"]: s for s in orjson.loads((dump / "_SCHEMA.json").read_bytes())["results"]
    }
    assert schemas["QC"] == get_schema("QC").to_api()
    qc = {o["objectId"]: o for o in orjson.loads((dump / "QC.json").read_bytes())["results"]}
    assert qc["qc"]["ACL"] == QC_ACL
    assert qc["qa"]["rel"] == {"__type": "Relation", "className": "QCOther"}
    assert qc["qa"]["when"] == {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"}
    assert qc["qa"]["file"]["name"] == "f1.txt"
    assert set(qc["qa"]) >= {"objectId", "createdAt", "updatedAt", "blob", "area", "loc"}


def test_export_one_class_to_stdout(case_data: Any) -> None:
    out, err = run("bk_export", "--class", "QCOther")
    body = json.loads(out)
    assert [o["objectId"] for o in body["results"]] == ["o1", "o2", "o3"]
    assert body["results"][0]["label"] == "alpha"
    assert "QCOther: 3 exported" in err  # counts stay out of the JSON


def test_export_streams_in_keyset_chunks(case_data: Any, tmp_path: Path) -> None:
    chunks = transfer.iter_object_chunks("QC", 2)
    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)
    assert [row[0] for row in first] == ["qa", "qb"]
    assert len(queries) == 1  # nothing beyond the first chunk was read
    with CaptureQueriesContext(connection) as queries:
        rest = [row[0] for chunk in chunks for row in chunk]
    assert rest == ["qc", "qd", "qe"]
    assert len(queries) == 2

    with CaptureQueriesContext(connection) as queries:
        run("bk_export", "--class", "QC", output=str(tmp_path / "QC.json"), batch_size=2)
    keyset = [q for q in queries.captured_queries if '"object_id" >' in q["sql"]]
    assert len(keyset) == 3
    small = orjson.loads((tmp_path / "QC.json").read_bytes())
    run("bk_export", "--class", "QC", output=str(tmp_path / "big.json"))
    assert small == orjson.loads((tmp_path / "big.json").read_bytes())


def test_export_errors(case_data: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="needs --output DIRECTORY"):
        run("bk_export")
    with pytest.raises(CommandError, match="invalid class name"):
        run("bk_export", "--class", "no-such!")
    with pytest.raises(CommandError, match="class Nope does not exist"):
        run("bk_export", "--class", "Nope")
    assert not list(tmp_path.iterdir())


# --- import ---------------------------------------------------------------------------------


def test_round_trip_of_every_type(case_data: Any, tmp_path: Path) -> None:
    before = snapshot()
    run("bk_export", output=str(tmp_path))
    wipe()
    out, _ = run("bk_import", str(tmp_path))
    assert "QC.json: 5 created" in out
    assert "_Join:rel:QC.json: 3 created" in out
    assert snapshot() == before
    # the ACL is enforced again: qc is hidden from the public
    public = {o["objectId"] for o in reads.find(PUBLIC, "QC", {"limit": 100})["results"]}
    assert public == cases.ALL - {"qc"}
    related = reads.find(
        MASTER,
        "QCOther",
        {"where": {"$relatedTo": {"object": cases.ptr("QC", "qa"), "key": "rel"}}},
    )["results"]
    assert {o["objectId"] for o in related} == {"o1", "o2"}


def test_reimport_changes_nothing(case_data: Any, tmp_path: Path) -> None:
    run("bk_export", output=str(tmp_path))
    before = snapshot()
    stamps = dict(ParseObject.objects.values_list("object_id", "updated_at"))
    out, _ = run("bk_import", str(tmp_path))
    assert "QC.json: 0 created, 0 updated, 5 unchanged" in out
    assert "_SCHEMA.json: 0 created, 0 updated, " in out
    assert "_Join:rel:QC.json: 0 created, 0 updated, 3 unchanged" in out
    assert snapshot() == before
    assert dict(ParseObject.objects.values_list("object_id", "updated_at")) == stamps

    # one object edited in the file: only that one is written, with the file's updatedAt
    path = tmp_path / "QC.json"
    body = orjson.loads(path.read_bytes())
    body["results"][1]["name"] = "BETA"
    body["results"][1]["updatedAt"] = "2030-01-01T00:00:00.000Z"
    write_json(path, body)
    out, _ = run("bk_import", str(path))
    assert last_line(out).endswith("0 created, 1 updated, 4 unchanged, 0 skipped, 0 errors")
    qb = reads.get(MASTER, "QC", "qb", {})
    assert (qb["name"], qb["updatedAt"]) == ("BETA", "2030-01-01T00:00:00.000Z")


def test_skip_existing_and_dry_run(case_data: Any, tmp_path: Path) -> None:
    path = tmp_path / "QCOther.json"
    run("bk_export", "--class", "QCOther", output=str(path))
    body = orjson.loads(path.read_bytes())
    for obj in body["results"]:
        obj["label"] = "from file"
    body["results"].append({"objectId": "o4", "label": "new", "rank": 4})
    write_json(path, body)

    out, _ = run("bk_import", str(path), dry_run=True)
    assert "1 created, 3 updated" in out and "dry run" in out
    assert not ParseObject.objects.filter(object_id="o4").exists()
    assert reads.get(MASTER, "QCOther", "o1", {})["label"] == "alpha"

    out, _ = run("bk_import", str(path), skip_existing=True)
    assert "1 created, 0 updated, 0 unchanged, 3 skipped" in out
    assert reads.get(MASTER, "QCOther", "o1", {})["label"] == "alpha"
    created = reads.get(MASTER, "QCOther", "o4", {})
    assert created["label"] == "new" and created["createdAt"] == created["updatedAt"]


def test_parse_dashboard_and_json_lines_shapes(db: Any, tmp_path: Path) -> None:
    # the dashboard writes a bare array and names the class on every object
    dashboard = write_json(
        tmp_path / "Game.json",
        [
            {
                "objectId": "g1",
                "className": "Game",
                "score": 3,
                "createdAt": "2020-05-01T10:00:00.000Z",
                "updatedAt": "2020-05-02T10:00:00.000Z",
                "ACL": {"*": {"read": True}},
            }
        ],
    )
    run("bk_import", str(dashboard))
    game = reads.get(MASTER, "Game", "g1", {})
    assert game["score"] == 3 and game["ACL"] == {"*": {"read": True}}
    assert game["createdAt"] == "2020-05-01T10:00:00.000Z"
    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"objectId": "g2", "score": 1}\n{"objectId": "g3", "score": 2}\n')
    out, _ = run("bk_import", str(lines), class_name="Game")
    assert "2 created" in out
    # "count" beside "results" (a REST find answer) is ignored
    counted = write_json(tmp_path / "c.json", {"results": [{"objectId": "g4"}], "count": 1})
    run("bk_import", str(counted), class_name="Game")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + orjson.dumps({"results": [{"objectId": "g5"}]}))
    run("bk_import", str(bom), class_name="Game")
    assert ParseObject.objects.filter(class_name="Game").count() == 5


def test_mongo_documents(db: Any, tmp_path: Path) -> None:
    write_json(
        tmp_path / "_SCHEMA.json",
        [
            {
                "_id": "Place",
                "name": "string",
                "owner": "*_User",
                "loc": "geopoint",
                "photo": "file",
                "area": "polygon",
                "when": "date",
                "visits": "number",
                "tags": "relation<Tag>",
                "_metadata": {
                    "class_permissions": {"find": {"*": True}, "get": {"*": True}},
                    "indexes": {"_id_": {"_id": 1}, "name_1": {"name": 1}},
                },
            }
        ],
    )
    (tmp_path / "Place.json").write_text(
        json.dumps(
            {
                "_id": "p1",
                "_created_at": {"$date": "2021-03-04T05:06:07.089Z"},
                "_updated_at": {"$date": {"$numberLong": "1614834367089"}},
                "_rperm": ["*", "u1"],
                "_wperm": ["u1"],
                "_p_owner": "_User$u1",
                "name": "Home",
                "loc": [2.35, 48.85],
                "photo": "tfss-abc.jpg",
                "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
                "when": {"$date": "2021-01-01T00:00:00Z"},
                "visits": {"$numberLong": "12"},
                "meta": {"nested": {"$date": "2021-01-01T00:00:00Z"}},
            }
        )
        + "\n"
        + json.dumps(
            {
                "_id": "p2",
                "name": "Old",
                "_acl": {"u2": {"r": True, "w": True}},
                "_created_at": "2019-01-01T00:00:00Z",
                "when": "2020-02-02T00:00:00Z",
            }
        )
        + "\n"
    )
    write_json(
        tmp_path / "_User.json",
        [
            {
                "_id": "u1",
                "username": "ann",
                "_hashed_password": PARSE_HASH,
                "_auth_data_x": {"id": "1"},
            }
        ],
    )
    write_json(
        tmp_path / "_Join:tags:Place.json", [{"_id": "j", "owningId": "p1", "relatedId": "t1"}]
    )

    out, _ = run("bk_import", str(tmp_path))
    assert "Place.json: 2 created" in out
    place = reads.get(MASTER, "Place", "p1", {})
    assert place["createdAt"] == "2021-03-04T05:06:07.089Z"
    assert place["updatedAt"] == "2021-03-04T05:06:07.089Z"
    assert place["ACL"] == {"*": {"read": True}, "u1": {"read": True, "write": True}}
    assert place["owner"] == cases.ptr("_User", "u1")
    assert place["loc"] == {"__type": "GeoPoint", "latitude": 48.85, "longitude": 2.35}
    assert place["photo"]["name"] == "tfss-abc.jpg"
    assert place["area"]["coordinates"][:3] == [[0, 0], [0, 1], [1, 1]]
    assert place["when"] == {"__type": "Date", "iso": "2021-01-01T00:00:00.000Z"}
    assert place["visits"] == 12
    assert place["meta"] == {"nested": {"__type": "Date", "iso": "2021-01-01T00:00:00.000Z"}}
    assert place["tags"] == {"__type": "Relation", "className": "Tag"}
    old = reads.get(MASTER, "Place", "p2", {})
    assert old["ACL"] == {"u2": {"read": True, "write": True}}
    assert old["createdAt"] == "2019-01-01T00:00:00.000Z"
    assert old["when"] == {"__type": "Date", "iso": "2020-02-02T00:00:00.000Z"}
    assert RelationEntry.objects.filter(owner_id="p1", key="tags", related_class="Tag").count() == 1
    schema = get_schema("Place")
    assert "name_1" in schema.indexes
    assert schema.clp["find"] == {"*": True} and schema.clp["create"] == {}
    # the password hash moves onto the Django user; the document keeps no copy
    user = ParseObject.objects.get(class_name="_User", object_id="u1")
    assert "_hashed_password" not in user.data
    assert get_user_model().objects.get(username="ann").password == "parse_bcrypt$" + PARSE_HASH
    served = reads.get(MASTER, "_User", "u1", {})
    assert "_hashed_password" not in served and served["authData"] == {"x": {"id": "1"}}
    out, _ = run("bk_import", str(tmp_path))
    assert "total: 0 created, 0 updated" in out


def test_secret_keys_of_a_parse_export_stay_internal(db: Any, tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "_User.json",
        {"results": [{"objectId": "u1", "username": "ann", "bcryptPassword": PARSE_HASH}]},
    )
    run("bk_import", str(path))
    assert "_hashed_password" not in ParseObject.objects.get(object_id="u1").data
    assert get_user_model().objects.get(username="ann").password == "parse_bcrypt$" + PARSE_HASH
    assert "bcryptPassword" not in reads.get(MASTER, "_User", "u1", {})


def test_type_conflict_aborts_or_is_skipped(case_data: Any, tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "QC.json",
        {
            "results": [
                {"objectId": "n1", "name": "fine"},
                {"objectId": "n2", "score": "not a number"},
                {"objectId": "n3", "name": "after"},
            ]
        },
    )
    with pytest.raises(
        CommandError, match=r"QC/n2 field 'score': schema mismatch: expected Number"
    ):
        run("bk_import", str(path))
    assert not ParseObject.objects.filter(object_id__in=["n1", "n3"]).exists()  # same batch

    out, err = run("bk_import", str(path), continue_on_error=True)
    assert "QC/n2 field 'score'" in err
    assert "2 created, 0 updated, 0 unchanged, 0 skipped, 1 errors" in out
    assert set(
        ParseObject.objects.filter(object_id__startswith="n").values_list("object_id", flat=True)
    ) == {"n1", "n3"}


def test_a_batch_written_before_an_error_is_kept(db: Any, tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "T.json",
        {
            "results": [
                {"objectId": "a", "x": 1},
                {"objectId": "b", "x": 2},
                {"objectId": "c", "x": "s"},
            ]
        },
    )
    with pytest.raises(CommandError, match="1 batches written before were kept"):
        run("bk_import", str(path), batch_size=2)
    assert set(ParseObject.objects.values_list("object_id", flat=True)) == {"a", "b"}


def test_bad_values_are_reported(db: Any, tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "T.json",
        [{"objectId": "a", "where": {"__type": "GeoPoint", "latitude": 100, "longitude": 0}}],
    )
    with pytest.raises(CommandError, match=r"T/a field 'where': GeoPoint latitude out of bounds"):
        run("bk_import", str(path))
    path = write_json(tmp_path / "T.json", [{"objectId": "a", "ACL": {"*": {"read": "yes"}}}])
    with pytest.raises(CommandError, match=r"T/a field 'ACL'"):
        run("bk_import", str(path))
    path = write_json(tmp_path / "T.json", [{"name": "no id"}])
    with pytest.raises(CommandError, match=r"T/#1: objectId must be a string"):
        run("bk_import", str(path))
    assert not ParseObject.objects.exists()


def test_bad_json_names_the_position(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "T.json"
    path.write_text('{"results": [\n{"objectId": "a"},\n{"objectId": "é" "x": 1}\n]}')
    with pytest.raises(CommandError, match=r"T.json: invalid JSON at line 3, column 18: "):
        run("bk_import", str(path))
    path.write_text('{"results": [{"objectId": "a"}')
    with pytest.raises(CommandError, match=r"T.json: invalid JSON at the end of the input"):
        run("bk_import", str(path))
    path.write_text('{"results": 5}')
    with pytest.raises(CommandError, match='"results" must be an array'):
        run("bk_import", str(path))


def test_bad_paths_and_names(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file or directory"):
        run("bk_import", str(tmp_path / "missing.json"))
    path = write_json(tmp_path / "bad-name.json", [])
    with pytest.raises(CommandError, match="invalid class name 'bad-name'; name it with --class"):
        run("bk_import", str(path))
    with pytest.raises(CommandError, match="invalid class name '1x'"):
        run("bk_import", str(path), class_name="1x")
    with pytest.raises(CommandError, match="standard input needs --class"):
        run("bk_import", "-")
    join = write_json(tmp_path / "_Join:rel:Nope.json", [{"owningId": "a", "relatedId": "b"}])
    with pytest.raises(CommandError, match="Nope.rel is not a Relation field"):
        run("bk_import", str(join))


def test_directory_import_of_one_class(case_data: Any, tmp_path: Path) -> None:
    run("bk_export", output=str(tmp_path))
    wipe()
    out, _ = run("bk_import", str(tmp_path), class_name="QCOther")
    assert "QC.json" not in out and "QCOther.json: 3 created" in out
    assert not ParseObject.objects.filter(class_name="QC").exists()


def test_special_classes_plug_in_their_importer(db: Any, tmp_path: Path) -> None:
    seen: list[str] = []

    class Recording(transfer.ClassImporter):
        def write_batch(self, class_name: str, rows: Any, options: Any) -> transfer.Counts:
            seen.extend(row.object_id for row in rows)
            return super().write_batch(class_name, rows, options)

    path = write_json(tmp_path / "_Role.json", [{"objectId": "r1", "name": "Admins"}])
    transfer.register_importer("_Role", Recording())
    try:
        run("bk_import", str(path))
    finally:
        transfer.register_importer("_Role", None)
    assert seen == ["r1"]
    assert transfer.importer_for("_Role") is not None
    assert reads.get(MASTER, "_Role", "r1", {})["name"] == "Admins"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(case_data: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "QC.json")
    err = _Terminal()
    call_command("bk_export", "--class", "QC", output=path, stdout=io.StringIO(), stderr=err)
    assert "QC:" in err.getvalue() and "/5 " in err.getvalue()
    err = _Terminal()
    call_command("bk_import", path, stdout=io.StringIO(), stderr=err, no_progress=True)
    assert err.getvalue() == ""
    err = io.StringIO()  # not a terminal: no bar either
    call_command("bk_import", path, stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


class _Trickle:
    """A file that hands out a few bytes per read and counts what was taken."""

    def __init__(self, data: bytes) -> None:
        self.data, self.taken = data, 0

    def read(self, size: int = -1) -> bytes:
        piece = self.data[self.taken : self.taken + min(16, size if size >= 0 else 16)]
        self.taken += len(piece)
        return piece


def test_import_reads_records_as_they_come() -> None:
    body = orjson.dumps({"results": [{"objectId": f"id{i}", "n": i} for i in range(5000)]})
    source = _Trickle(body)
    records = transfer.iter_records(source, "test")
    assert next(records) == {"objectId": "id0", "n": 0}
    assert source.taken < len(body) / 10
    assert sum(1 for _ in records) == 4999
