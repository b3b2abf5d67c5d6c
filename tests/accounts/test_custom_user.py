"""Parse users on whatever ``AUTH_USER_MODEL`` the host project has.

Runs with every settings module; its point is the swapped model of
``tests/projects/custom_user`` (the email address is the username, no ``username``
field)::

    pytest --ds=tests.projects.custom_user.settings tests/accounts/test_custom_user.py
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from backend_kit.accounts.models import UserLink
from tests.conftest import ParseClient

from .conftest import error_of, log_in, sign_up

pytestmark = pytest.mark.django_db

User = get_user_model()
EMAIL_IS_USERNAME = User.get_email_field_name() == User.USERNAME_FIELD
HAS_USERNAME_FIELD = any(f.name == "username" for f in User._meta.get_fields())


def django_user(user_id: str) -> Any:
    return UserLink.objects.select_related("user").get(object_id=user_id).user


def expected_django_username(parse_username: str, email: str | None) -> str:
    return (email or parse_username) if EMAIL_IS_USERNAME else parse_username


def test_signup_and_login(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    user = django_user(ada.user_id)
    assert user.get_username() == expected_django_username("ada", "ada@example.com")
    assert getattr(user, User.get_email_field_name()) == "ada@example.com"
    assert user.check_password(ada.password)
    for params in (
        {"username": "ada", "password": ada.password},
        {"email": "ada@example.com", "password": ada.password},
        {"username": "ada@example.com", "password": ada.password},
    ):
        response = ParseClient().post("login", params)
        assert response.status_code == 200, (params, response.json_body)
        assert response.json_body["username"] == "ada"
    assert log_in("ada", "wrong").json_body["code"] == 101
    # a user without an address
    bob = sign_up("bob")
    assert django_user(bob.user_id).get_username() == "bob"
    assert log_in("bob", bob.password).status_code == 200
    assert "email" not in master.get(f"users/{bob.user_id}").json_body


def test_updating_username_and_email(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    renamed = ada.client.put(f"users/{ada.user_id}", {"username": "ada2"})
    assert renamed.status_code == 200, renamed.json_body
    user = django_user(ada.user_id)
    # the address is untouched by a new username
    assert getattr(user, User.get_email_field_name()) == "ada@example.com"
    assert user.get_username() == expected_django_username("ada2", "ada@example.com")
    assert log_in("ada2", ada.password).status_code == 200
    assert log_in("ada", ada.password).json_body["code"] == 101
    moved = ada.client.put(f"users/{ada.user_id}", {"email": "new@example.com"})
    assert moved.status_code == 200, moved.json_body
    user = django_user(ada.user_id)
    assert getattr(user, User.get_email_field_name()) == "new@example.com"
    assert user.get_username() == expected_django_username("ada2", "new@example.com")
    login = ParseClient().post("login", {"email": "new@example.com", "password": ada.password})
    assert login.status_code == 200 and login.json_body["username"] == "ada2"
    doc = master.get(f"users/{ada.user_id}").json_body
    assert (doc["username"], doc["email"]) == ("ada2", "new@example.com")
    # without an address the user is still known (and can log in) by its username
    dropped = ada.client.put(f"users/{ada.user_id}", {"email": {"__op": "Delete"}})
    assert dropped.status_code == 200, dropped.json_body
    assert django_user(ada.user_id).get_username() == "ada2"
    assert log_in("ada2", ada.password).status_code == 200
    assert "email" not in master.get(f"users/{ada.user_id}").json_body
    # both at once
    both = ada.client.put(f"users/{ada.user_id}", {"username": "ada3", "email": "ada3@example.com"})
    assert both.status_code == 200
    assert django_user(ada.user_id).get_username() == expected_django_username(
        "ada3", "ada3@example.com"
    )
    assert log_in("ada3", ada.password).status_code == 200


def test_saving_the_django_user_keeps_the_parse_user(master: ParseClient) -> None:
    """A save outside the Parse API (last login, the admin) must not rename the Parse user."""
    ada = sign_up("ada", email="ada@example.com")
    bob = sign_up("bob")
    for member in (ada, bob):
        user = django_user(member.user_id)
        user.is_active = True
        user.save()
    ada_doc = master.get(f"users/{ada.user_id}").json_body
    bob_doc = master.get(f"users/{bob.user_id}").json_body
    assert (ada_doc["username"], ada_doc["email"]) == ("ada", "ada@example.com")
    assert bob_doc["username"] == "bob" and "email" not in bob_doc
    # an address changed in Django reaches Parse
    user = django_user(ada.user_id)
    setattr(user, User.get_email_field_name(), "changed@example.com")
    user.save()
    assert master.get(f"users/{ada.user_id}").json_body["email"] == "changed@example.com"
    assert master.get(f"users/{ada.user_id}").json_body["username"] == "ada"


def test_admin_creation_syncs_to_parse(admin_client: Any, master: ParseClient) -> None:
    form = {
        "password1": "a-Strong-pass-81",
        "password2": "a-Strong-pass-81",
        "usable_password": "true",
    }
    if EMAIL_IS_USERNAME:
        form["email"] = "carol@example.com"
        parse_username = "carol@example.com"
    else:
        form["username"] = "carol"
        parse_username = "carol"
    response = admin_client.post(
        reverse(f"admin:{User._meta.app_label}_{User._meta.model_name}_add"), form
    )
    assert response.status_code == 302, response.content[:3000]
    found = master.get("users", where={"username": parse_username}).json_body["results"]
    assert len(found) == 1, master.get("users").json_body
    created = User.objects.get(**{User.USERNAME_FIELD: form.get("username", form.get("email"))})
    created.is_active = True
    created.save()  # a later save (the admin, a Django login) keeps the Parse user as it is
    again = master.get(f"users/{found[0]['objectId']}").json_body
    assert again["username"] == parse_username
    if EMAIL_IS_USERNAME:
        assert again["email"] == "carol@example.com"
    login = ParseClient().post(
        "login", {"username": parse_username, "password": "a-Strong-pass-81"}
    )
    assert login.status_code == 200, login.json_body
    created.delete()
    assert master.get("users", where={"username": parse_username}).json_body["results"] == []
    assert error_of(ParseClient(session_token=login.json_body["sessionToken"]).get("users/me")) == (
        400,
        209,
    )


def test_delete_through_parse_removes_the_django_user(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    pk = django_user(ada.user_id).pk
    assert ada.client.delete(f"users/{ada.user_id}").status_code == 200
    assert not User.objects.filter(pk=pk).exists()
    assert error_of(master.get(f"users/{ada.user_id}")) == (404, 101)
    # the same address can sign up again
    again = sign_up("ada", email="ada@example.com")
    assert log_in("ada", again.password).status_code == 200


def test_unique_django_fields_answer_parse_errors() -> None:
    sign_up("ada", email="ada@example.com")
    taken = ParseClient().post(
        "users", {"username": "other", "password": "pw-long-1", "email": "ADA@example.com"}
    )
    assert taken.json_body["code"] == 203
    if EMAIL_IS_USERNAME:
        # another user's sign-in name cannot be taken as an address either
        bob = sign_up("bob@example.com")
        clash = ParseClient().post(
            "users", {"username": "carl", "password": "pw-long-1", "email": "bob@example.com"}
        )
        assert clash.status_code == 400 and clash.json_body["code"] in (202, 203)
        assert log_in("bob@example.com", bob.password).status_code == 200
