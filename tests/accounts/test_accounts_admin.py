"""The accounts admin, used the way a staff member would: a logged-in superuser's browser."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from backend_kit.accounts.models import UserLink
from backend_kit.objects.models import ParseObject
from tests.conftest import ParseClient

from .conftest import add_relation, error_of, log_in, role_pointer, sign_up, user_pointer

pytestmark = pytest.mark.django_db


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_users_list_search_and_detail(admin_client: Any) -> None:
    # "_" never appears in an objectId: the search cannot match a random id by chance
    ada = sign_up("ada_l", email="ada@example.com")
    sign_up("bob")
    listing = page(admin_client.get(reverse("admin:backend_kit_accounts_userlink_changelist")))
    assert ada.user_id in listing and "bob" in listing
    ada_user = UserLink.objects.get(object_id=ada.user_id).user
    term = getattr(ada_user, get_user_model().USERNAME_FIELD)  # username, or the email
    found = admin_client.get(reverse("admin:backend_kit_accounts_userlink_changelist"), {"q": term})
    assert [link.object_id for link in found.context["cl"].result_list] == [ada.user_id]
    link = UserLink.objects.get(object_id=ada.user_id)
    detail = page(
        admin_client.get(reverse("admin:backend_kit_accounts_userlink_change", args=[link.pk]))
    )
    assert "ada@example.com" in detail  # the Parse fields
    session_id = ada.client.get("sessions/me").json_body["objectId"]
    assert session_id in detail and "signup" in detail
    assert ada.password not in detail and "_token_hash" not in detail


def test_deleting_a_parse_user_in_the_admin(admin_client: Any, master: ParseClient) -> None:
    ada = sign_up("ada")
    link = UserLink.objects.get(object_id=ada.user_id)
    url = reverse("admin:backend_kit_accounts_userlink_delete", args=[link.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert error_of(master.get(f"users/{ada.user_id}")) == (404, 101)
    assert error_of(ada.client.get("users/me")) == (400, 209)
    assert not get_user_model().objects.filter(pk=link.user_id).exists()


def test_session_revoke_action(admin_client: Any) -> None:
    ada = sign_up("ada")
    bob = sign_up("bob")
    extra = log_in("ada", ada.password).json_body["sessionToken"]
    changelist = reverse("admin:backend_kit_accounts_sessionobject_changelist")
    listing = admin_client.get(changelist)
    rows = {
        (s.data or {}).get("user", {}).get("objectId"): s for s in listing.context["cl"].result_list
    }
    assert set(rows) >= {ada.user_id, bob.user_id}
    text = page(listing)
    assert "login" in text and "signup" in text
    ada_sessions = ParseObject.objects.filter(
        class_name="_Session", data__user__objectId=ada.user_id
    )
    assert ada_sessions.count() == 2
    response = admin_client.post(
        changelist,
        {"action": "revoke", "_selected_action": [s.pk for s in ada_sessions]},
        follow=True,
    )
    assert "Revoked 2 session(s)." in [str(m) for m in get_messages(response.wsgi_request)]
    for token in (ada.token, extra):
        assert error_of(ParseClient(session_token=token).get("users/me")) == (400, 209)
    assert bob.client.get("users/me").status_code == 200
    # sessions are read-only in the admin: no add, no edit
    assert (
        admin_client.get(reverse("admin:backend_kit_accounts_sessionobject_add")).status_code == 403
    )


def test_roles_page_shows_members_and_child_roles(admin_client: Any, master: ParseClient) -> None:
    ada, bob = sign_up("ada"), sign_up("bob")
    writers = master.post(
        "roles", {"name": "Writers", "ACL": {}, "users": add_relation(user_pointer(ada.user_id))}
    ).json_body["objectId"]
    editors = master.post(
        "roles",
        {
            "name": "Editors",
            "ACL": {},
            "users": add_relation(user_pointer(bob.user_id)),
            "roles": add_relation(role_pointer(writers)),
        },
    ).json_body["objectId"]
    listing = page(admin_client.get(reverse("admin:backend_kit_accounts_roleobject_changelist")))
    assert "Writers" in listing and "Editors" in listing
    row = ParseObject.objects.get(class_name="_Role", object_id=editors)
    detail = page(
        admin_client.get(reverse("admin:backend_kit_accounts_roleobject_change", args=[row.pk]))
    )
    assert f"bob ({bob.user_id})" in detail
    assert f"Writers ({writers})" in detail
    writers_row = ParseObject.objects.get(class_name="_Role", object_id=writers)
    detail = page(
        admin_client.get(
            reverse("admin:backend_kit_accounts_roleobject_change", args=[writers_row.pk])
        )
    )
    assert f"ada ({ada.user_id})" in detail and f"Editors ({editors})" in detail
    # a staff member cannot rename a role here (names are immutable)
    posted = admin_client.post(
        reverse("admin:backend_kit_accounts_roleobject_change", args=[row.pk]), {"name": "X"}
    )
    assert posted.status_code == 403
    # deleting a role in the admin ends the membership it gave
    from backend_kit.accounts import roles

    assert roles.role_names_for_user(ada.user_id) == ["Editors", "Writers"]
    delete = reverse("admin:backend_kit_accounts_roleobject_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    roles.bump_version()
    assert roles.role_names_for_user(ada.user_id) == ["Writers"]
