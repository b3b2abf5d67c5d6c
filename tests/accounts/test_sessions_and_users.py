"""Sessions (``/sessions``, expiry, revocation) and what users may read and change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings

from backend_kit.objects import writes
from tests.conftest import ParseClient
from tests.support import kit

from .conftest import error_of, log_in, sign_up

pytestmark = pytest.mark.django_db


def iso(moment: Any) -> dict[str, str]:
    return {"__type": "Date", "iso": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


# --- /sessions ----------------------------------------------------------------------------------


def test_sessions_list_me_and_delete(master: ParseClient) -> None:
    ada = sign_up("ada")
    second = log_in("ada", ada.password, _InstallationId="ignored")
    laptop = (
        ParseClient()
        .request(
            "POST",
            "login",
            {"username": "ada", "password": ada.password},
            headers={"X-Parse-Installation-Id": "laptop-1"},
        )
        .json_body["sessionToken"]
    )
    bob = sign_up("bob")
    mine = ada.client.get("sessions").json_body["results"]
    assert len(mine) == 3
    assert {s["user"]["objectId"] for s in mine} == {ada.user_id}
    # only the caller's current session shows its token (the others are stored hashed)
    assert [s.get("sessionToken") for s in mine if "sessionToken" in s] == [ada.token]
    assert len(bob.client.get("sessions").json_body["results"]) == 1
    assert len(master.get("sessions").json_body["results"]) == 4
    me = ParseClient(session_token=laptop).get("sessions/me").json_body
    assert me["sessionToken"] == laptop
    assert me["installationId"] == "laptop-1"
    assert me["createdWith"] == {"action": "login", "authProvider": "password"}
    assert me["user"] == {"__type": "Pointer", "className": "_User", "objectId": ada.user_id}
    assert me["expiresAt"]["__type"] == "Date"
    signup_session = ada.client.get("sessions/me").json_body
    assert signup_session["createdWith"]["action"] == "signup"
    # another user can neither see nor delete ada's session
    assert error_of(bob.client.get(f"sessions/{me['objectId']}")) == (404, 101)
    assert error_of(bob.client.delete(f"sessions/{me['objectId']}")) == (404, 101)
    assert ParseClient(session_token=laptop).get("users/me").status_code == 200
    # deleting a session kills its token
    assert ada.client.delete(f"sessions/{me['objectId']}").status_code == 200
    assert error_of(ParseClient(session_token=laptop).get("users/me")) == (400, 209)
    assert ada.client.get("users/me").status_code == 200
    assert (
        ParseClient(session_token=second.json_body["sessionToken"]).get("users/me").status_code
        == 200
    )


def test_sessions_need_a_session() -> None:
    response = ParseClient().get("sessions")
    assert response.json_body == {"code": 209, "error": "Permission denied"}
    assert ParseClient().get("sessions/me").json_body["code"] == 209


def test_clients_cannot_rewrite_their_sessions(master: ParseClient) -> None:
    ada = sign_up("ada")
    session = ada.client.get("sessions/me").json_body
    later = iso(writes.now() + timedelta(days=3650))
    for body in (
        {"expiresAt": later},
        {"user": {"__type": "Pointer", "className": "_User", "objectId": "someoneelse"}},
        {"createdWith": {"action": "login"}},
    ):
        response = ada.client.put(f"sessions/{session['objectId']}", body)
        assert response.status_code == 400 and response.json_body["code"] == 119, body
    assert (
        master.get(f"sessions/{session['objectId']}").json_body["expiresAt"] == session["expiresAt"]
    )
    created = ada.client.post("sessions", {"user": {"__type": "Pointer", "className": "_User"}})
    assert created.json_body["code"] == 119


def test_upgrade_to_revocable_session() -> None:
    ada = sign_up("ada")
    upgraded = ada.client.post("upgradeToRevocableSession", {})
    assert upgraded.status_code == 200
    token = upgraded.json_body["sessionToken"]
    assert token.startswith("r:") and token != ada.token
    assert upgraded.json_body["createdWith"]["action"] == "upgrade"
    assert ParseClient(session_token=token).get("users/me").json_body["objectId"] == ada.user_id
    assert ParseClient().post("upgradeToRevocableSession", {}).json_body == {
        "code": 101,
        "error": "invalid session",
    }


# --- expiry -------------------------------------------------------------------------------------


def test_an_expired_session_answers_209(master: ParseClient) -> None:
    ada = sign_up("ada")
    session = ada.client.get("sessions/me").json_body
    past = iso(writes.now() - timedelta(seconds=5))
    assert master.put(f"sessions/{session['objectId']}", {"expiresAt": past}).status_code == 200
    response = ada.client.get("users/me")
    assert response.json_body == {"code": 209, "error": "Session token is expired."}
    assert error_of(ada.client.get("classes/Thing")) == (400, 209)
    # logging in again gives a fresh session
    assert log_in("ada", ada.password).status_code == 200


@override_settings(BACKEND_KIT=kit(SESSION_LENGTH=60))
def test_session_length_sets_the_expiry(monkeypatch: Any) -> None:
    start = writes.now()
    ada = sign_up("ada")
    expires = ada.client.get("sessions/me").json_body["expiresAt"]["iso"]
    low = (start + timedelta(seconds=59)).strftime("%Y-%m-%dT%H:%M:%S")
    high = (start + timedelta(seconds=62)).strftime("%Y-%m-%dT%H:%M:%S")
    assert low <= expires[:19] <= high
    # sixty-one seconds later (the server's clock moved on) the token is dead
    monkeypatch.setattr(writes, "now", lambda: start + timedelta(seconds=61))
    assert ada.client.get("users/me").json_body["code"] == 209


@override_settings(BACKEND_KIT=kit(EXPIRE_INACTIVE_SESSIONS=False))
def test_sessions_without_expiry_when_configured(monkeypatch: Any) -> None:
    ada = sign_up("ada")
    assert "expiresAt" not in ada.client.get("sessions/me").json_body
    later = writes.now() + timedelta(days=3650)
    monkeypatch.setattr(writes, "now", lambda: later)
    assert ada.client.get("users/me").status_code == 200


# --- users change only themselves -----------------------------------------------------------------


def test_a_user_changes_and_deletes_only_itself(master: ParseClient) -> None:
    ada = sign_up("ada", ACL={"*": {"read": True, "write": True}})
    bob = sign_up("bob")
    refused = bob.client.put(f"users/{ada.user_id}", {"nick": "bobby"})
    assert refused.json_body == {"code": 206, "error": "Permission denied"}
    anonymous = ParseClient().put(f"users/{ada.user_id}", {"nick": "anon"})
    assert anonymous.json_body["code"] == 206
    assert error_of(bob.client.delete(f"users/{ada.user_id}")) == (400, 206)
    assert ParseClient().delete(f"users/{ada.user_id}").json_body == {
        "code": 206,
        "error": "Insufficient auth to delete user",
    }
    assert "nick" not in master.get(f"users/{ada.user_id}").json_body
    # the same refusals through /classes/_User
    assert bob.client.put(f"classes/_User/{ada.user_id}", {"nick": "x"}).json_body["code"] == 206
    assert ada.client.put(f"users/{ada.user_id}", {"nick": "ace"}).status_code == 200
    assert master.get(f"users/{ada.user_id}").json_body["nick"] == "ace"
    assert ada.client.delete(f"users/{ada.user_id}").status_code == 200
    assert error_of(master.get(f"users/{ada.user_id}")) == (404, 101)
    assert error_of(ada.client.get("users/me")) == (400, 209)  # its sessions went too
    from backend_kit.accounts.models import UserLink

    assert not UserLink.objects.filter(object_id=ada.user_id).exists()


def test_password_is_never_returned(master: ParseClient) -> None:
    ada = sign_up("ada", ACL={"*": {"read": True}})
    bob = sign_up("bob")
    answers = [
        ada.client.get("users/me").json_body,
        ada.client.get(f"users/{ada.user_id}").json_body,
        master.get(f"users/{ada.user_id}").json_body,
        bob.client.get(f"users/{ada.user_id}").json_body,
        *master.get("users").json_body["results"],
        *master.get("classes/_User", keys="password,username").json_body["results"],
        log_in("ada", ada.password).json_body,
        ada.client.put(f"users/{ada.user_id}", {"password": "new-pw-123"}).json_body,
    ]
    for answer in answers:
        assert "password" not in answer and "_hashed_password" not in answer, answer
    # nor can it be queried, not even with the master key; neither can the token hashes
    for where in ({"password": "new-pw-123"}, {"password": {"$exists": True}}):
        assert master.get("users", where=where).json_body == {"results": []}
    assert (
        master.get("users", where={"_hashed_password": {"$exists": True}}).json_body["code"] == 105
    )
    assert master.get("sessions", where={"_token_hash": {"$exists": True}}).json_body["code"] == 105
    for session in master.get("sessions", keys="_token_hash").json_body["results"]:
        assert not any(key.startswith("_") for key in session), session


def test_email_is_hidden_from_others_but_not_from_self_and_master(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com", ACL={"*": {"read": True}})
    bob = sign_up("bob", email="bob@example.com")
    seen = bob.client.get(f"users/{ada.user_id}").json_body
    assert seen["username"] == "ada" and "email" not in seen
    listed = bob.client.get("users").json_body["results"]
    assert [u["username"] for u in listed] == ["ada", "bob"]
    assert "email" not in listed[0] and listed[1]["email"] == "bob@example.com"
    assert "email" not in ParseClient().get(f"users/{ada.user_id}").json_body
    assert ada.client.get(f"users/{ada.user_id}").json_body["email"] == "ada@example.com"
    assert master.get(f"users/{ada.user_id}").json_body["email"] == "ada@example.com"
    # nor can others find a user by its email
    probe = bob.client.get("users", where={"email": "ada@example.com"})
    assert probe.json_body["code"] == 119
    assert error_of(bob.client.get("users", order="email"))[1] == 119


@pytest.mark.parametrize("revoke", [True, False])
def test_a_password_change_revokes_the_other_sessions(revoke: bool, master: ParseClient) -> None:
    ada = sign_up("ada")
    other = log_in("ada", ada.password).json_body["sessionToken"]
    with override_settings(BACKEND_KIT=kit(REVOKE_SESSION_ON_PASSWORD_RESET=revoke)):
        changed = ada.client.put(f"users/{ada.user_id}", {"password": "brand-new-pw"})
        assert changed.status_code == 200
        assert ada.client.get("users/me").status_code == 200  # the caller stays logged in
        other_answer = ParseClient(session_token=other).get("users/me")
        assert (other_answer.status_code == 200) is not revoke
        # the master key changing it revokes every session
        master.put(f"users/{ada.user_id}", {"password": "master-set-pw"})
        assert (ada.client.get("users/me").status_code == 200) is not revoke
    assert log_in("ada", "brand-new-pw").json_body["code"] == 101
    assert log_in("ada", "master-set-pw").status_code == 200


def test_username_and_email_changes_reach_the_django_user(master: ParseClient) -> None:
    from backend_kit.accounts.models import UserLink

    ada = sign_up("ada", email="ada@example.com")
    sign_up("bob", email="bob@example.com")
    assert ada.client.put(f"users/{ada.user_id}", {"username": "bob"}).json_body["code"] == 202
    assert (
        ada.client.put(f"users/{ada.user_id}", {"email": "BOB@example.com"}).json_body["code"]
        == 203
    )
    assert ada.client.put(f"users/{ada.user_id}", {"email": "nope"}).json_body["code"] == 125
    ok = ada.client.put(f"users/{ada.user_id}", {"username": "ada2", "email": "a2@example.com"})
    assert ok.status_code == 200, ok.json_body
    user = UserLink.objects.get(object_id=ada.user_id).user
    email_field = type(user).get_email_field_name()
    assert getattr(user, email_field) == "a2@example.com"
    if email_field != type(user).USERNAME_FIELD:
        assert user.get_username() == "ada2"
    assert log_in("ada2", ada.password).status_code == 200
    relog = ParseClient().post("login", {"email": "a2@example.com", "password": ada.password})
    assert relog.status_code == 200
    removed = ada.client.put(f"users/{ada.user_id}", {"email": {"__op": "Delete"}})
    assert removed.status_code == 200
    user.refresh_from_db()
    assert getattr(user, email_field) in ("", "ada2")  # "ada2": the address is the username
    assert "email" not in master.get(f"users/{ada.user_id}").json_body
