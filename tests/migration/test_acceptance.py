"""Issue 9's acceptance: a Parse export imported with ``bk_import`` answers queries as the
export does, and its users log in with their old passwords and authData.

The fast variant (3,000 objects, 300 users) runs in every test run; the full one
(100,000 objects, 10,000 users) is marked ``slow``. Both import the REST export and the
MongoDB export of the same data and compare with the oracle computed from the REST files.
A third test imports without ``--sessions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backend_kit.objects.models import ParseObject
from tests.conftest import ParseClient

from . import checks, oracle
from .parse_export import password_of

FORMATS = ["rest", "mongo"]


@pytest.mark.parametrize("form", FORMATS)
def test_small_export(
    db: Any, migration_settings: Any, github_server: Any, small_export: Path, form: str
) -> None:
    export, _ = checks.check_everything(
        small_export / form, small_export / "rest", github_server, every=7
    )
    # importing again changes nothing and duplicates no one
    stored = ParseObject.objects.count()
    out, _, _ = checks.import_export(small_export / form, "--sessions")
    total = out.splitlines()[-1]
    assert " 0 created" in total and " 0 errors" in total, out
    assert ParseObject.objects.count() == stored
    assert get_user_model().objects.count() == len(export.classes["_User"])


def test_sessions_only_when_asked(db: Any, migration_settings: Any, small_export: Path) -> None:
    """Without ``--sessions`` no session is imported (the operator is told): the old
    tokens answer 209, and users log in again with their passwords."""
    out, err, _ = checks.import_export(small_export / "rest")
    assert "_Session: not imported" in err and " 0 errors" in out.splitlines()[-1], out + err
    assert not ParseObject.objects.filter(class_name="_Session").exists()
    export = oracle.Export(small_export / "rest")
    session = export.classes["_Session"][0]
    me = ParseClient(session_token=session["sessionToken"]).get("users/me")
    assert me.status_code == 400 and me.json_body["code"] == 209, me.json_body
    user = export.by_id["_User"][session["user"]["objectId"]]
    index = int(user["username"][len("user") :])
    login = ParseClient().post(
        "login", {"username": user["username"], "password": password_of(index)}
    )
    assert login.status_code == 200 and login.json_body["objectId"] == user["objectId"]


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMATS)
def test_full_export(
    db: Any, migration_settings: Any, github_server: Any, full_export: Path, form: str
) -> None:
    checks.check_everything(full_export / form, full_export / "rest", github_server, every=250)
