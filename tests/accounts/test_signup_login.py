"""Sign-up, log-in, ``/users/me``, log-out, ``verifyPassword`` and ``loginAs`` over REST."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit, tunnel

from .conftest import error_of, log_in, sign_up

pytestmark = pytest.mark.django_db

INVALID_LOGIN = {"code": 101, "error": "Invalid username/password."}


# --- sign-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,code,message",
    [
        ({"password": "pw-long-1"}, 200, "bad or missing username"),
        ({"username": "", "password": "pw-long-1"}, 200, "bad or missing username"),
        ({"username": 12, "password": "pw-long-1"}, 200, "bad or missing username"),
        ({"username": "nopass"}, 201, "password is required"),
        ({"username": "nopass", "password": ""}, 201, "password is required"),
        (
            {"username": "taken", "password": "pw-long-1"},
            202,
            "Account already exists for this username.",
        ),
        (
            {"username": "TAKEN", "password": "pw-long-1"},
            202,
            "Account already exists for this username.",
        ),
        (
            {"username": "other", "password": "pw-long-1", "email": "Taken@Example.com"},
            203,
            "Account already exists for this email address.",
        ),
        (
            {"username": "other", "password": "pw-long-1", "email": "not-an-email"},
            125,
            "Email address format is invalid.",
        ),
        (
            {"username": "other", "password": "pw-long-1", "email": 42},
            125,
            "Email address format is invalid.",
        ),
    ],
)
def test_signup_validation_errors(body: dict[str, Any], code: int, message: str) -> None:
    sign_up("taken", email="taken@example.com")
    response = ParseClient().post("users", body)
    assert response.status_code == 400
    assert response.json_body == {"code": code, "error": message}
    # nothing half-written: still exactly one user
    assert len(ParseClient(master=True).get("users").json_body["results"]) == 1


def test_signup_answers_the_session_and_never_the_password(master: ParseClient) -> None:
    response = ParseClient().post(
        "users", {"username": "ada", "password": "pw-long-1", "email": "ada@example.com", "age": 36}
    )
    assert response.status_code == 201
    body = response.json_body
    assert set(body) == {"objectId", "createdAt", "sessionToken"}
    assert response["Location"].endswith(f"/parse/users/{body['objectId']}")
    stored = master.get(f"users/{body['objectId']}").json_body
    assert stored["username"] == "ada" and stored["age"] == 36
    assert "password" not in stored and "sessionToken" not in stored
    assert stored["ACL"] == {body["objectId"]: {"read": True, "write": True}}
    # the Django user holds the hash, never the plain password
    from backend_kit.accounts.models import UserLink

    django_user = UserLink.objects.get(object_id=body["objectId"]).user
    assert django_user.check_password("pw-long-1")
    assert "pw-long-1" not in django_user.password


def test_signup_runs_the_password_validators() -> None:
    validators = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        response = ParseClient().post("users", {"username": "short", "password": "abc"})
    assert error_of(response) == (400, 142)
    assert "too short" in response.json_body["error"]
    assert ParseClient().post("login", {"username": "short", "password": "abc"}).json_body == (
        INVALID_LOGIN
    )


# --- log-in -----------------------------------------------------------------------------------


def test_login_by_username_by_email_and_with_get() -> None:
    ada = sign_up("ada", email="ada@example.com")
    for params in (
        {"username": "ada", "password": ada.password},
        {"email": "ada@example.com", "password": ada.password},
        {"username": "ada@example.com", "password": ada.password},  # Parse: username or email
        {"username": "ada", "email": "ada@example.com", "password": ada.password},
    ):
        response = ParseClient().post("login", params)
        assert response.status_code == 200, (params, response.json_body)
        assert response.json_body["objectId"] == ada.user_id
        assert response.json_body["sessionToken"].startswith("r:")
        assert "password" not in response.json_body
    got = ParseClient().get("login", username="ada", password=ada.password)
    assert got.status_code == 200 and got.json_body["username"] == "ada"
    assert got.json_body["email"] == "ada@example.com"  # the user sees its own email
    tokens = {ada.token, got.json_body["sessionToken"]}
    assert len(tokens) == 2  # every log-in is a new session


@pytest.mark.parametrize(
    "params,code,message",
    [
        ({"password": "x"}, 200, "username/email is required."),
        ({"username": "ada"}, 201, "password is required."),
        ({"username": "ada", "password": ""}, 201, "password is required."),
        ({"username": "ada", "password": 123}, 101, "Invalid username/password."),
        ({"username": ["ada"], "password": "x"}, 101, "Invalid username/password."),
    ],
)
def test_login_refusals(params: dict[str, Any], code: int, message: str) -> None:
    sign_up("ada")
    response = ParseClient().post("login", params)
    assert response.json_body == {"code": code, "error": message}


class CountingHasher(MD5PasswordHasher):
    """MD5 (as the test settings) counting how often a password is hashed or checked."""

    calls: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls.append("encode")
        return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.calls.append("verify")
        return super().verify(password, encoded)


@override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"])
def test_wrong_password_and_unknown_user_answer_alike_and_both_hash() -> None:
    ada = sign_up("ada", email="ada@example.com")
    answers = {}
    for label, params in {
        "wrong password": {"username": "ada", "password": "not-it"},
        "unknown user": {"username": "nobody", "password": "not-it"},
        "unknown email": {"email": "nobody@example.com", "password": "not-it"},
        "username and other email": {
            "username": "ada",
            "email": "someone@example.com",
            "password": ada.password,
        },
    }.items():
        CountingHasher.calls.clear()
        response = ParseClient().post("login", params)
        answers[label] = (response.status_code, response.json_body)
        # the password hasher ran whether or not the user exists
        assert CountingHasher.calls, label
    assert all(answer == (404, INVALID_LOGIN) for answer in answers.values()), answers


def test_locked_user_and_inactive_django_user_cannot_log_in(master: ParseClient) -> None:
    ada = sign_up("ada")
    bob = sign_up("bob")
    assert master.put(f"users/{ada.user_id}", {"ACL": {}}).status_code == 200
    assert log_in("ada", ada.password).json_body == INVALID_LOGIN
    from backend_kit.accounts.models import UserLink

    user = UserLink.objects.get(object_id=bob.user_id).user
    user.is_active = False
    user.save()
    assert log_in("bob", bob.password).json_body == INVALID_LOGIN


# --- the session in use -------------------------------------------------------------------------


def test_me_become_and_logout() -> None:
    ada = sign_up("ada", email="ada@example.com")
    me = ada.client.get("users/me")
    assert me.status_code == 200
    assert me.json_body["objectId"] == ada.user_id
    assert me.json_body["sessionToken"] == ada.token
    assert me.json_body["email"] == "ada@example.com"
    assert "password" not in me.json_body
    # the JS SDK's become(): the token inside a text/plain body
    tunneled = tunnel("users/me", {"_SessionToken": ada.token}, method="GET")
    assert tunneled.status_code == 200 and tunneled.json_body["objectId"] == ada.user_id
    assert error_of(ParseClient().get("users/me")) == (400, 209)
    assert error_of(ParseClient(session_token="r:" + "0" * 32).get("users/me")) == (400, 209)
    out = ada.client.post("logout", {})
    assert out.status_code == 200 and out.json_body == {}
    for response in (
        ada.client.get("users/me"),
        ada.client.get("classes/Anything"),
        ada.client.get("sessions/me"),
        tunnel("users/me", {"_SessionToken": ada.token}, method="GET"),
    ):
        assert error_of(response) == (400, 209)
        assert response.json_body["error"] == "Invalid session token"
    # logging out without a session is harmless; a stale token does not block /login
    assert ParseClient().post("logout", {}).json_body == {}
    again = ParseClient(session_token=ada.token).post(
        "login", {"username": "ada", "password": ada.password}
    )
    assert again.status_code == 200


def test_verify_password_checks_without_a_session(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    ok = ParseClient().get("verifyPassword", username="ada", password=ada.password)
    assert ok.status_code == 200 and ok.json_body["objectId"] == ada.user_id
    assert "sessionToken" not in ok.json_body and "password" not in ok.json_body
    posted = ParseClient().post(
        "verifyPassword", {"email": "ada@example.com", "password": ada.password}
    )
    assert posted.status_code == 200
    bad = ParseClient().get("verifyPassword", username="ada", password="nope")
    assert bad.status_code == 404 and bad.json_body == INVALID_LOGIN
    sessions = master.get("sessions").json_body["results"]
    assert len(sessions) == 1  # the sign-up's only


def test_login_as_is_for_the_master_key_only(master: ParseClient) -> None:
    ada = sign_up("ada")
    response = master.post("loginAs", {"userId": ada.user_id})
    assert response.status_code == 200
    token = response.json_body["sessionToken"]
    assert response.json_body["objectId"] == ada.user_id
    assert ParseClient(session_token=token).get("users/me").json_body["objectId"] == ada.user_id
    session = ParseClient(session_token=token).get("sessions/me").json_body
    assert session["createdWith"] == {"action": "login", "authProvider": "masterkey"}
    refused = ada.client.post("loginAs", {"userId": ada.user_id})
    assert refused.status_code == 400
    assert refused.json_body == {"code": 119, "error": "Permission denied"}
    assert ParseClient().post("loginAs", {"userId": ada.user_id}).json_body["code"] == 119
    assert master.post("loginAs", {}).json_body == {
        "code": 162,
        "error": "userId must not be empty, null, or undefined",
    }
    assert master.post("loginAs", {"userId": "missing"}).json_body == {
        "code": 101,
        "error": "user not found",
    }


@override_settings(
    BACKEND_KIT=kit(VERIFY_USER_EMAILS=True, PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL=True)
)
def test_unverified_email_prevents_login(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    refused = log_in("ada", ada.password)
    assert refused.json_body == {"code": 205, "error": "User email is not verified."}
    # a wrong password still answers 101, not "unverified" (which would confirm the password)
    assert log_in("ada", "wrong-password").json_body == INVALID_LOGIN
    assert master.put(f"users/{ada.user_id}", {"emailVerified": True}).status_code == 200
    assert log_in("ada", ada.password).status_code == 200
    # clients cannot verify themselves
    bob = sign_up("bob", email="bob@example.com")
    refused = bob.client.put(f"users/{bob.user_id}", {"emailVerified": True})
    assert refused.json_body["code"] == 119
    assert (
        ParseClient()
        .post("users", {"username": "eve", "password": "pw-long-1", "emailVerified": True})
        .json_body["code"]
        == 119
    )
