"""Email verification and password reset: tokens, links and the mails themselves.

Verification tokens are signed (``django.core.signing``) and name the user and
the address they verify, so changing the address voids them. Reset tokens are
Django's ``PasswordResetTokenGenerator`` tokens: they die when the password
changes or the user logs in, and after ``PASSWORD_RESET_TIMEOUT``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.template.loader import render_to_string

from ..conf import bk_settings
from ..errors import Code, ParseError
from ..objects import reads
from .adapter import get_adapter
from .models import UserLink

VERIFY_SALT = "backend_kit.accounts.verify_email"


def base_url() -> str:
    from ..serverurl import server_url

    return server_url()


def app_link(page: str, **params: str) -> str:
    return f"{base_url()}/apps/{bk_settings.APP_ID}/{page}?{urlencode(params)}"


def verification_token(user_id: str, email: str) -> str:
    return signing.dumps({"u": user_id, "e": email}, salt=VERIFY_SALT)


def read_verification_token(token: str) -> tuple[str, str] | None:
    try:
        data = signing.loads(
            token, salt=VERIFY_SALT, max_age=int(bk_settings.EMAIL_VERIFY_TOKEN_VALIDITY)
        )
    except signing.BadSignature:
        return None
    return data.get("u"), data.get("e")


def _context(user: dict[str, Any], link: str) -> dict[str, Any]:
    return {
        "app_name": bk_settings.APP_NAME,
        "username": user.get("username", ""),
        "email": user.get("email", ""),
        "link": link,
    }


def send_verification_email(user_id: str) -> None:
    user = reads.fetch_one_as_master("_User", user_id)
    if not user or not user.get("email") or user.get("emailVerified"):
        return
    link = app_link("verify_email", token=verification_token(user_id, user["email"]))
    ctx = _context(user, link)
    subject = render_to_string("backend_kit_accounts/mail/verify_email_subject.txt", ctx).strip()
    body = render_to_string("backend_kit_accounts/mail/verify_email.txt", ctx)
    get_adapter().send_mail("verifyEmail", user["email"], subject, body, link=link)


def send_password_reset_email(user_id: str) -> None:
    user = reads.fetch_one_as_master("_User", user_id)
    link_row = UserLink.objects.select_related("user").filter(object_id=user_id).first()
    if not user or link_row is None:
        return
    to = user.get("email") or user.get("username")
    token = default_token_generator.make_token(link_row.user)
    link = app_link("reset_password", uid=user_id, token=token)
    ctx = _context(user, link)
    subject = render_to_string("backend_kit_accounts/mail/password_reset_subject.txt", ctx).strip()
    body = render_to_string("backend_kit_accounts/mail/password_reset.txt", ctx)
    get_adapter().send_mail("passwordReset", to, subject, body, link=link)


def check_email_param(email: Any) -> str:
    if not email:
        raise ParseError(Code.EMAIL_MISSING, "you must provide an email")
    if not isinstance(email, str):
        raise ParseError(Code.INVALID_EMAIL_ADDRESS, "you must provide a valid email string")
    return email
