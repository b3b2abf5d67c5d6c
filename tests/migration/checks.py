"""The acceptance checks, shared by the fast and the full-size tests.

Import a generated Parse export with ``bk_import``, then ask the server through the REST
API what the oracle answers from the export itself (every class counted, objects read
back, queries), check the password hashes were copied (not recomputed), log users in
with their old passwords and authData, read objects through role ACLs (direct and
inherited), use session tokens issued by the old server, check the installations'
device records, and serve files copied under their old names.
"""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command

from backend_kit.files.storage import get_storage
from backend_kit.objects.models import ParseObject, RelationEntry
from tests.conftest import ParseClient

from . import oracle
from .parse_export import CONFIG, PARSE_SERVER_COLLECTIONS, github_id_of, password_of

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
            wrong.append(
                f"{case.name}: expected {size}, got {got if not isinstance(got, list) else len(got)}"
            )
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


def check_counts(export: oracle.Export) -> None:
    """Every class holds what the export holds (installations: one per installationId),
    every relation its pairs."""
    master = ParseClient(master=True)
    for class_name in export.classes:
        response = master.get(f"classes/{class_name}", count=1, limit=0)
        assert response.status_code == 200, (class_name, response.json_body)
        assert response.json_body["count"] == len(export.objects(class_name)), class_name
    for (key, owner), pairs in export.joins.items():
        stored = RelationEntry.objects.filter(owner_class=owner, key=key).count()
        assert stored == len(set(pairs)), (owner, key)


def check_hashes_copied(export: oracle.Export, every: int) -> None:
    """bcrypt ran on no password at import: each user holds the exported hash as is,
    prefixed for :class:`~backend_kit.accounts.hashers.ParseBCryptPasswordHasher`."""
    users = export.classes["_User"]
    model = get_user_model()
    assert model.objects.filter(password__startswith="parse_bcrypt$").count() == len(users)
    sample = {user["objectId"]: user["bcryptPassword"] for user in users[::every]}
    stored = dict(
        model.objects.filter(parse_link__object_id__in=list(sample)).values_list(
            "parse_link__object_id", "password"
        )
    )
    assert stored == {oid: "parse_bcrypt$" + digest for oid, digest in sample.items()}


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
    login = api.post(
        "users", {"authData": {"github": {"id": github_id_of(5), "access_token": token}}}
    )
    assert login.status_code == 200, login.json_body
    assert login.json_body["objectId"] == github_user["objectId"]
    anonymous = users[7]["authData"]["anonymous"]
    login = api.post("users", {"authData": {"anonymous": anonymous}})
    assert login.status_code == 200, login.json_body
    assert login.json_body["objectId"] == users[7]["objectId"]


def _login(export: oracle.Export, user_id: str) -> str:
    user = export.by_id["_User"][user_id]
    index = int(user["username"][len("user") :])
    login = ParseClient().post(
        "login", {"username": user["username"], "password": password_of(index)}
    )
    assert login.status_code == 200, (user["username"], login.json_body)
    return login.json_body["sessionToken"]


def check_role_access(export: oracle.Export) -> None:
    """Posts readable by ``role:Moderators`` (and their author) are read by a member of
    Moderators, by a member of Admins (Admins inherit Moderators through the ``roles``
    relation), not by a user without a role; role members are found by the role's
    ``users`` relation."""
    roles = {r["name"]: r["objectId"] for r in export.classes["_Role"]}
    members = export.joins[("users", "_Role")]
    direct: dict[str, set[str]] = {}
    for role_id, user_id in members:
        direct.setdefault(user_id, set()).add(role_id)
    users = [u["objectId"] for u in export.classes["_User"]]
    moderator = next(u for u in users if direct.get(u) == {roles["Moderators"]})
    admin = next(u for u in users if direct.get(u) == {roles["Admins"]})
    outsider = next(u for u in users if not export.role_names_of(u))
    assert "Moderators" in export.role_names_of(admin)
    post = next(
        p
        for p in export.classes["Post"]
        if "role:Moderators" in p["ACL"] and not {moderator, admin, outsider} & set(p["ACL"])
    )
    for user_id, allowed in ((moderator, True), (admin, True), (outsider, False)):
        api = ParseClient(session_token=_login(export, user_id))
        got = api.get(f"classes/Post/{post['objectId']}")
        if allowed:
            assert got.status_code == 200, (user_id, got.json_body)
            assert got.json_body["objectId"] == post["objectId"]
        else:
            assert got.status_code == 404 and got.json_body["code"] == 101, got.json_body
        me = api.get("users/me")
        assert me.json_body["objectId"] == user_id
    in_admins = ParseClient(master=True).get(
        "classes/_User",
        where={
            "$relatedTo": {
                "object": {"__type": "Pointer", "className": "_Role", "objectId": roles["Admins"]},
                "key": "users",
            }
        },
        keys="objectId",
        limit=oracle.LIMIT,
    )
    assert admin in {u["objectId"] for u in in_admins.json_body["results"]}


def check_sessions(export: oracle.Export) -> None:
    for session in export.classes["_Session"][:3]:
        me = ParseClient(session_token=session["sessionToken"]).get("users/me")
        assert me.status_code == 200, me.json_body
        assert me.json_body["objectId"] == session["user"]["objectId"]
    # the token is kept as its hash only, never served back
    stored = ParseClient(master=True).get(f"classes/_Session/{session['objectId']}").json_body
    assert "sessionToken" not in stored and not any(k.startswith("_") for k in stored), stored


def check_devices(export: oracle.Export, every: int) -> None:
    """Every kept installation has its push device record, with its token and the
    Django user of the ``_User`` it points to (the push app, when installed)."""
    if not apps.is_installed("backend_kit.push"):
        return
    from push_notifications.models import APNSDevice, GCMDevice

    from backend_kit.push.models import InstallationDevice

    installations = export.installations()
    assert InstallationDevice.objects.count() == len(installations)
    assert APNSDevice.objects.count() + GCMDevice.objects.count() == len(installations)
    links = dict(
        get_user_model()
        .objects.filter(parse_link__isnull=False)
        .values_list("parse_link__object_id", "pk")
    )
    for record in installations[::every]:
        link = InstallationDevice.objects.get(installation=record["objectId"])
        device = link.apns if record["deviceType"] == "ios" else link.fcm
        assert device is not None, record
        token = record["deviceToken"]
        assert device.registration_id == (token.lower() if len(token) == 64 else token)
        assert device.user_id == links[record["user"]["objectId"]], record["objectId"]
        assert device.active


def check_config(directory: Path) -> None:
    """A dump's Parse Config is served by ``/config`` (master-only parameters to the master
    key only); Parse Server's bookkeeping collections are left out."""
    assert not ParseObject.objects.filter(
        class_name__in=["_GlobalConfig", *PARSE_SERVER_COLLECTIONS]
    ).exists()
    if not (directory / "_GlobalConfig.json").exists():
        return
    expected = _without_file_urls(CONFIG["params"], served=False)
    got = ParseClient(master=True).get("config").json_body
    assert _without_file_urls(got["params"], served=True) == expected
    assert got["masterKeyOnly"] == {name: name == "apiSecret" for name in expected}
    public = ParseClient().get("config").json_body["params"]
    assert set(public) == set(expected) - {"apiSecret"}


def check_files(export: oracle.Export, copied: int = 3) -> None:
    """Files copied into the storage under their old names are served at the URLs the
    objects now give; a file not copied is a plain 404."""
    posts = [p for p in export.classes["Post"] if "photo" in p]
    storage = get_storage()
    master = ParseClient(master=True)
    for post in posts[:copied]:
        name = post["photo"]["name"]
        body = f"bytes of {name}".encode()
        assert storage.save(name, ContentFile(body)) == name
        url = master.get(f"classes/Post/{post['objectId']}").json_body["photo"]["url"]
        assert url == SERVER_FILES + name
        got = master.client.get(url.removeprefix("http://testserver"))
        assert got.status_code == 200, (url, got.status_code)
        assert got.getvalue() == body
    missing = posts[copied]["photo"]["name"]
    got = master.client.get(SERVER_FILES.removeprefix("http://testserver") + missing)
    assert got.status_code == 404


def sessions_by_user(export: oracle.Export) -> dict[str, str]:
    return {s["user"]["objectId"]: s["sessionToken"] for s in export.classes["_Session"]}


def check_everything(
    directory: Path, rest_directory: Path, github_server: Any, *, every: int
) -> tuple[oracle.Export, str]:
    """Import ``directory`` (with sessions), then run every check against the REST export."""
    out, err, seconds = import_export(directory, "--sessions")
    export = oracle.Export(rest_directory)
    total = sum(len(records) for records in export.classes.values())
    print(
        f"\nbk_import {directory.name}: {total} objects in {seconds:.1f}s ({total / seconds:.0f}/s)"
    )
    assert "errors" in out and " 0 errors" in out.splitlines()[-1], out + err
    assert get_user_model().objects.filter(parse_link__isnull=False).count() == len(
        export.classes["_User"]
    )
    started = time.perf_counter()
    check_counts(export)
    assert query_mismatches(export, sessions_by_user(export)) == []
    queried = time.perf_counter()
    assert object_mismatches(export, every) == []
    print(f"queries {queried - started:.1f}s, objects {time.perf_counter() - queried:.1f}s")
    check_hashes_copied(export, every)
    check_logins(export)
    check_auth_data_logins(export, github_server)
    check_role_access(export)
    check_sessions(export)
    check_devices(export, every)
    check_config(directory)
    check_files(export)
    return export, out
