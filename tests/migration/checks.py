"""The acceptance checks, shared by the fast and the full-size tests.

Import a generated Parse export with ``bk_import``, then ask the server through the REST
API what the oracle answers from the export itself, log users in with their old
passwords and authData, and use a session token issued by the old server.
"""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.conftest import ParseClient

from . import oracle
from .parse_export import github_id_of, password_of

SERVER_FILES = "http://testserver/parse/files/test-app/"


def import_export(directory: Path, *extra: str) -> tuple[str, str, float]:
    """Run ``bk_import`` on a directory; (stdout, stderr, seconds)."""
    out, err = StringIO(), StringIO()
    started = time.perf_counter()
    call_command("bk_import", str(directory), *extra, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), time.perf_counter() - started


def answer(case: oracle.Case, sessions: dict[str, str]) -> Any:
    client = (
        ParseClient(session_token=sessions[case.as_user])
        if case.as_user
        else ParseClient(master=True)
    )
    params = dict(case.params)
    counting = params.get("count")
    if not counting:
        params.setdefault("limit", oracle.LIMIT)
        params.setdefault("keys", "objectId")
    response = client.get(f"classes/{case.class_name}", **params)
    assert response.status_code == 200, (case.name, response.json_body)
    if counting:
        return response.json_body["count"]
    return [r["objectId"] for r in response.json_body["results"]]


def query_mismatches(export: oracle.Export, sessions: dict[str, str]) -> list[str]:
    """Every query case whose answer differs from the oracle's (empty: all agree)."""
    wrong = []
    for case in oracle.cases(export):
        expected, got = case.expected(), answer(case, sessions)
        if isinstance(expected, list):
            assert len(expected) < oracle.LIMIT or case.ordered, case.name  # not truncated
            if not case.ordered:
                expected, got = sorted(expected), sorted(got)
        if expected != got:
            size = len(expected) if isinstance(expected, list) else expected
            wrong.append(f"{case.name}: expected {size}, got {got if not isinstance(got, list) else len(got)}")
    return wrong


def _without_file_urls(value: Any, served: bool) -> Any:
    """File values by name; a ``served`` one must point at this server's files."""
    if isinstance(value, dict):
        if value.get("__type") == "File":
            assert not served or value["url"] == SERVER_FILES + value["name"], value
            return {"__type": "File", "name": value["name"]}
        return {k: _without_file_urls(v, served) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_file_urls(v, served) for v in value]
    return value


SECRETS = {"bcryptPassword", "sessionToken"}


def object_mismatches(export: oracle.Export, every: int) -> list[str]:
    """Objects read back one by one (every ``every``-th of each class) vs the export."""
    master = ParseClient(master=True)
    wrong = []
    for class_name in ("Post", "Comment", "Place", "_User", "_Role", "_Session", "_Installation"):
        for record in export.objects(class_name)[::every]:
            response = master.get(f"classes/{class_name}/{record['objectId']}")
            assert response.status_code == 200, (class_name, record["objectId"], response.json_body)
            got = _without_file_urls(response.json_body, served=True)
            kept = {k: v for k, v in record.items() if k not in SECRETS}
            expected = _without_file_urls(kept, served=False)
            if class_name == "_Installation":
                expected["installationId"] = expected["installationId"].lower()
            if got != expected:
                diff = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
                wrong.append(f"{class_name}/{record['objectId']}: {diff}")
    return wrong


def check_logins(export: oracle.Export) -> None:
    """Old passwords work (bcrypt of cost 10 in every prefix, and cost 4), then are
    re-hashed with the preferred hasher; wrong ones do not."""
    api = ParseClient()
    users = export.classes["_User"]
    for index in (0, 1, 2, 3, 4):
        user = users[index]
        login = api.post("login", {"username": user["username"], "password": password_of(index)})
        assert login.status_code == 200, (index, user["bcryptPassword"][:7], login.json_body)
        assert login.json_body["objectId"] == user["objectId"]
        assert login.json_body["sessionToken"].startswith("r:")
    by_email = api.post("login", {"email": users[4]["email"], "password": password_of(4)})
    assert by_email.json_body["objectId"] == users[4]["objectId"]
    wrong = api.post("login", {"username": users[6]["username"], "password": password_of(5)})
    assert wrong.json_body["code"] == 101
    model = get_user_model()
    upgraded = model.objects.get(parse_link__object_id=users[0]["objectId"]).password
    assert upgraded.startswith("md5$"), upgraded
    untouched = model.objects.get(parse_link__object_id=users[6]["objectId"]).password
    assert untouched == "parse_bcrypt$" + users[6]["bcryptPassword"]


def check_auth_data_logins(export: oracle.Export, github_server: Any) -> None:
    """A GitHub user logs in through the provider (a fresh token for the same GitHub id);
    an anonymous user through its id; both land on their imported user."""
    api = ParseClient()
    users = export.classes["_User"]
    github_user = users[5]
    assert github_user["authData"]["github"]["id"] == github_id_of(5)
    token = github_server.issue_token(int(github_id_of(5)))
    login = api.post("users", {"authData": {"github": {"id": github_id_of(5), "access_token": token}}})
    assert login.status_code == 200, login.json_body
    assert login.json_body["objectId"] == github_user["objectId"]
    anonymous = users[7]["authData"]["anonymous"]
    login = api.post("users", {"authData": {"anonymous": anonymous}})
    assert login.status_code == 200, login.json_body
    assert login.json_body["objectId"] == users[7]["objectId"]


def check_sessions(export: oracle.Export) -> None:
    for session in export.classes["_Session"][:3]:
        me = ParseClient(session_token=session["sessionToken"]).get("users/me")
        assert me.status_code == 200, me.json_body
        assert me.json_body["objectId"] == session["user"]["objectId"]


def sessions_by_user(export: oracle.Export) -> dict[str, str]:
    return {s["user"]["objectId"]: s["sessionToken"] for s in export.classes["_Session"]}


def check_everything(
    directory: Path, rest_directory: Path, github_server: Any, *, every: int
) -> tuple[oracle.Export, str]:
    """Import ``directory`` (with sessions), then run every check against the REST export."""
    out, err, seconds = import_export(directory, "--sessions")
    export = oracle.Export(rest_directory)
    total = sum(len(records) for records in export.classes.values())
    print(f"\nbk_import {directory.name}: {total} objects in {seconds:.1f}s ({total / seconds:.0f}/s)")
    assert "errors" in out and " 0 errors" in out.splitlines()[-1], out + err
    assert get_user_model().objects.filter(parse_link__isnull=False).count() == len(
        export.classes["_User"]
    )
    started = time.perf_counter()
    assert query_mismatches(export, sessions_by_user(export)) == []
    queried = time.perf_counter()
    assert object_mismatches(export, every) == []
    print(f"queries {queried - started:.1f}s, objects {time.perf_counter() - queried:.1f}s")
    check_logins(export)
    check_auth_data_logins(export, github_server)
    check_sessions(export)
    return export, out
