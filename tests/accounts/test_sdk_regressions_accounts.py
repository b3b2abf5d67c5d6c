"""Accounts behaviour the Parse JS SDK's integration suite relies on (Parse Server 9.10).

Each test names the suite spec that found the difference.
"""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit

from .conftest import error_of, sign_up

UNVERIFIED_LOCKED = kit(VERIFY_USER_EMAILS=True, PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL=True)


# --- "Parse User cannot delete non-authed user" ---------------------------------------------


def test_deleting_another_user_is_206(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    bob = sign_up("bob")
    assert bob.client.delete(f"users/{ada.user_id}").json_body == {
        "code": 206,
        "error": "Permission denied",
    }
    assert master.get(f"users/{ada.user_id}").status_code == 200
    assert error_of(bob.client.delete("users/nosuchuser")) == (400, 206)
    assert bob.client.delete(f"users/{bob.user_id}").status_code == 200


# --- "Parse User can verify user password for user with unverified email" -------------------


def test_master_can_verify_a_password_ignoring_email_verification(db: Any) -> None:
    sign_up("ada", password="xyz123-pass", email="ada@example.com")
    params = {"username": "ada", "password": "xyz123-pass"}
    with override_settings(BACKEND_KIT=UNVERIFIED_LOCKED):
        refused = ParseClient(master=True).post("verifyPassword", params)
        assert refused.json_body == {"code": 205, "error": "User email is not verified."}
        ignored = {**params, "ignoreEmailVerification": True}
        r = ParseClient(master=True).post("verifyPassword", ignored)
        assert r.status_code == 200, r.json_body
        assert r.json_body["username"] == "ada" and "sessionToken" not in r.json_body
        # only the master key may skip the check
        r = ParseClient().post("verifyPassword", ignored)
        assert r.json_body == {"code": 205, "error": "User email is not verified."}
        r = ParseClient(master=True).post(
            "verifyPassword", {**ignored, "password": "wrong-password"}
        )
        assert r.json_body["code"] == 101
