"""Password reset and email verification: the request, the mail in the outbox, the page.

The mails leave after commit through the jobs app's in-process runner, so these tests
commit for real (``transactional_db``) and wait for the mail threads.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from backend_kit.accounts.models import UserLink
from backend_kit.jobs import inprocess
from tests.conftest import ParseClient
from tests.support import kit

from .conftest import error_of, log_in, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

RESET_PAGE = "/parse/apps/test-app/reset_password"
VERIFY_PAGE = "/parse/apps/test-app/verify_email"


@pytest.fixture(autouse=True)
def _mail_threads(settings: Any) -> Any:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "JOBS_RUNNER": "thread"}
    mail.outbox.clear()
    yield
    assert inprocess.join(timeout=60), "mail threads still running after the test"


def threaded_kit(**extra: Any) -> dict[str, Any]:
    """``kit(**extra)`` for a test's ``override_settings``, mail threads included.

    Such a decorator replaces the whole BACKEND_KIT after the fixture above set
    JOBS_RUNNER, so it must say "thread" too: with the default "auto" the mails went
    to Celery whenever an earlier test in the same process had left Celery's current
    app with a broker, and the outbox stayed empty (seen with ``pytest -n 2``).
    """
    return kit(JOBS_RUNNER="thread", **extra)


def mails_to(address: str) -> list[Any]:
    assert inprocess.join(timeout=60)
    return [m for m in mail.outbox if m.to == [address]]


def link_in(message: Any, page: str) -> tuple[str, dict[str, str]]:
    found = re.search(r"https?://\S+", message.body)
    assert found, message.body
    url = urlsplit(found.group(0))
    assert url.path == page, url
    return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}


def request_reset(email: str) -> dict[str, str]:
    response = ParseClient().post("requestPasswordReset", {"email": email})
    assert response.status_code == 200 and response.json_body == {}
    messages = mails_to(email)
    assert len(messages) == 1, [m.to for m in mail.outbox]
    return link_in(messages[0], RESET_PAGE)[1]


def test_password_reset_from_request_to_new_login() -> None:
    ada = sign_up("ada", email="ada@example.com")
    other = log_in("ada", ada.password).json_body["sessionToken"]
    params = request_reset("ada@example.com")
    assert params["uid"] == ada.user_id
    browser = Client()
    form = browser.get(RESET_PAGE, params)
    assert form.status_code == 200
    assert b'name="new_password"' in form.content and b"ada" in form.content
    # the two fields must agree, and the validators run
    differ = browser.post(
        RESET_PAGE, {**params, "new_password": "new-pass-1", "confirm_password": "other-1"}
    )
    assert differ.status_code == 400 and b"The two passwords differ." in differ.content
    validators = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        short = browser.post(
            RESET_PAGE, {**params, "new_password": "abc", "confirm_password": "abc"}
        )
    assert short.status_code == 400 and b"too short" in short.content
    # nothing changed yet; read from the stored hash, since a login here would void the
    # link whenever it fell in another second than the last one (Django's reset tokens
    # hash last_login to the second: test_a_login_voids_an_outstanding_reset_link)
    assert django_user(ada.user_id).check_password(ada.password)
    done = browser.post(
        RESET_PAGE, {**params, "new_password": "chosen-pass-9", "confirm_password": "chosen-pass-9"}
    )
    assert done.status_code == 200 and b"Your password was changed" in done.content
    # every old session is revoked (REVOKE_SESSION_ON_PASSWORD_RESET, on by default)
    for token in (ada.token, other):
        assert error_of(ParseClient(session_token=token).get("users/me")) == (400, 209)
    assert log_in("ada", ada.password).json_body["code"] == 101
    assert log_in("ada", "chosen-pass-9").status_code == 200
    # the link works once
    used = browser.post(
        RESET_PAGE, {**params, "new_password": "again-pass-9", "confirm_password": "again-pass-9"}
    )
    assert used.status_code == 400 and b"invalid or has expired" in used.content
    assert Client().get(RESET_PAGE, params).status_code == 400


def django_user(user_id: str) -> Any:
    return UserLink.objects.select_related("user").get(object_id=user_id).user


def test_a_login_voids_an_outstanding_reset_link() -> None:
    """As in django.contrib.auth: a reset link asked for before the user's last login no
    longer works (whoever logged in knew the password)."""
    ada = sign_up("ada", email="ada@example.com")
    # the link is made after a login an hour ago, so the next login is surely later
    user = django_user(ada.user_id)
    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(hours=1))
    params = request_reset("ada@example.com")
    assert Client().get(RESET_PAGE, params).status_code == 200
    assert log_in("ada", ada.password).status_code == 200
    page = Client().get(RESET_PAGE, params)
    assert page.status_code == 400 and b"invalid or has expired" in page.content
    posted = Client().post(
        RESET_PAGE, {**params, "new_password": "x-pass-123", "confirm_password": "x-pass-123"}
    )
    assert posted.status_code == 400
    assert log_in("ada", ada.password).status_code == 200


@override_settings(BACKEND_KIT=threaded_kit(REVOKE_SESSION_ON_PASSWORD_RESET=False))
def test_password_reset_can_keep_the_sessions() -> None:
    ada = sign_up("ada", email="ada@example.com")
    params = request_reset("ada@example.com")
    done = Client().post(
        RESET_PAGE, {**params, "new_password": "chosen-pass-9", "confirm_password": "chosen-pass-9"}
    )
    assert done.status_code == 200
    assert ada.client.get("users/me").status_code == 200
    assert log_in("ada", "chosen-pass-9").status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "token": p["token"][:-2] + "zz"},
        lambda p: {**p, "uid": "someoneelse"},
        lambda p: {"uid": p["uid"]},
        lambda p: {},
    ],
)
def test_invalid_reset_links(tamper: Any) -> None:
    sign_up("ada", email="ada@example.com")
    params = tamper(request_reset("ada@example.com"))
    page = Client().get(RESET_PAGE, params)
    assert page.status_code == 400 and b"invalid or has expired" in page.content
    posted = Client().post(
        RESET_PAGE, {**params, "new_password": "x-pass-123", "confirm_password": "x-pass-123"}
    )
    assert posted.status_code == 400
    assert log_in("ada", "x-pass-123").json_body["code"] == 101


def test_expired_reset_link() -> None:
    ada = sign_up("ada", email="ada@example.com")
    params = request_reset("ada@example.com")
    with override_settings(PASSWORD_RESET_TIMEOUT=-1):
        page = Client().post(
            RESET_PAGE,
            {**params, "new_password": "late-pass-9", "confirm_password": "late-pass-9"},
        )
    assert page.status_code == 400 and b"invalid or has expired" in page.content
    assert log_in("ada", ada.password).status_code == 200


def test_reset_requests_answer_alike_for_unknown_addresses() -> None:
    sign_up("ada", email="ada@example.com")
    unknown = ParseClient().post("requestPasswordReset", {"email": "nobody@example.com"})
    assert unknown.status_code == 200 and unknown.json_body == {}
    assert ParseClient().post("requestPasswordReset", {}).json_body == {
        "code": 204,
        "error": "you must provide an email",
    }
    assert ParseClient().post("requestPasswordReset", {"email": 5}).json_body == {
        "code": 125,
        "error": "you must provide a valid email string",
    }
    assert inprocess.join(timeout=60)
    assert mail.outbox == []
    assert Client().get("/parse/apps/other-app/reset_password").status_code == 404


@override_settings(BACKEND_KIT=threaded_kit(VERIFY_USER_EMAILS=True))
def test_email_verification_from_signup_to_verified(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    assert master.get(f"users/{ada.user_id}").json_body["emailVerified"] is False
    first = mails_to("ada@example.com")
    assert len(first) == 1  # sent at sign-up
    resent = ParseClient().post("verificationEmailRequest", {"email": "ada@example.com"})
    assert resent.status_code == 200 and resent.json_body == {}
    messages = mails_to("ada@example.com")
    assert len(messages) == 2
    path, params = link_in(messages[-1], VERIFY_PAGE)
    bad = Client().get(path, {"token": params["token"] + "x"})
    assert bad.status_code == 400
    assert master.get(f"users/{ada.user_id}").json_body["emailVerified"] is False
    page = Client().get(path, params)
    assert page.status_code == 200
    assert master.get(f"users/{ada.user_id}").json_body["emailVerified"] is True
    again = ParseClient().post("verificationEmailRequest", {"email": "ada@example.com"})
    assert again.json_body == {"code": -1, "error": "Email ada@example.com is already verified."}
    missing = ParseClient().post("verificationEmailRequest", {"email": "no@example.com"})
    assert missing.json_body == {"code": 205, "error": "No user found with email no@example.com"}


@override_settings(
    BACKEND_KIT=threaded_kit(VERIFY_USER_EMAILS=True, PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL=True)
)
def test_a_changed_address_must_be_verified_again(master: ParseClient) -> None:
    ada = sign_up("ada", email="ada@example.com")
    _path, old_link = link_in(mails_to("ada@example.com")[0], VERIFY_PAGE)
    assert log_in("ada", ada.password).json_body["code"] == 205
    assert Client().get(VERIFY_PAGE, old_link).status_code == 200
    assert log_in("ada", ada.password).status_code == 200
    changed = ada.client.put(f"users/{ada.user_id}", {"email": "new@example.com"})
    assert changed.status_code == 200
    assert master.get(f"users/{ada.user_id}").json_body["emailVerified"] is False
    # the old link names the old address: it does not verify the new one
    assert Client().get(VERIFY_PAGE, old_link).status_code == 400
    assert log_in("ada", ada.password).json_body["code"] == 205
    _path, new_link = link_in(mails_to("new@example.com")[0], VERIFY_PAGE)
    assert Client().get(VERIFY_PAGE, new_link).status_code == 200
    assert log_in("ada", ada.password).status_code == 200
