"""The account adapter: where a host project changes how Parse users map to Django users.

Point ``BACKEND_KIT["ACCOUNT_ADAPTER"]`` at a subclass of :class:`AccountAdapter` to
customise it (the shape of django-allauth's adapters).
"""

from __future__ import annotations

import logging
import secrets
import string
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from ..conf import bk_settings
from ..errors import Code, ParseError

logger = logging.getLogger("backend_kit.accounts")


class AccountAdapter:
    def django_username(self, parse_username: str) -> str:
        """The value stored in the Django user's ``USERNAME_FIELD`` for a Parse username."""
        return parse_username

    def populate_user(self, user: Any, *, username: str, email: str | None) -> None:
        """Copy a Parse user's username and email (None: it has none) onto the Django user.

        Both are the values after the change. When the address is the Django username
        (``USERNAME_FIELD`` is the email field), a user without an address is known to
        Django by its Parse username instead.
        """
        model = type(user)
        username_field = model.USERNAME_FIELD
        email_field = model.get_email_field_name()
        names = {f.name for f in model._meta.get_fields()}
        if username_field == email_field:
            setattr(user, username_field, email or self.django_username(username))
        else:
            setattr(user, username_field, self.django_username(username))
            if email_field in names:
                setattr(user, email_field, email or "")
        if username_field != "username" and "username" in names:
            user.username = username

    def parse_identity(
        self, user: Any, current_username: str | None = None, current_email: str | None = None
    ) -> tuple[str, str | None]:
        """The Parse ``(username, email)`` of a Django user saved outside the Parse API.

        The inverse of :meth:`populate_user`. ``current_username`` and ``current_email``
        are the Parse user's values now (None for a user Parse does not know yet).
        """
        model = type(user)
        email_field = model.get_email_field_name()
        names = {f.name for f in model._meta.get_fields()}
        email = (getattr(user, email_field, None) or None) if email_field in names else None
        own_username = getattr(user, "username", None) if "username" in names else None
        if email_field != model.USERNAME_FIELD:
            return own_username or user.get_username(), email
        if (
            current_username is not None
            and current_email is None
            and email == self.django_username(current_username)
        ):
            return current_username, None  # the stand-in of a user without an address
        return own_username or current_username or user.get_username(), email

    def new_user(self, *, username: str, email: str | None) -> Any:
        user = get_user_model()()
        self.populate_user(user, username=username, email=email)
        return user

    def generate_username(self) -> str:
        """Username of a user created from authData alone (Parse: 25 random characters)."""
        alphabet = string.ascii_letters + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(25))

    def validate_password(self, password: str, user: Any = None) -> None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ParseError(Code.VALIDATION_ERROR, " ".join(exc.messages))

    def send_mail(
        self, kind: str, to: str, subject: str, body: str, *, link: str | None = None
    ) -> None:
        """Send one account mail (``passwordReset`` or ``verifyEmail``).

        Sent by a background job when the jobs app is installed.
        """
        from django.apps import apps

        if apps.is_installed("backend_kit.jobs"):
            from ..jobs.mail import send_account_mail

            send_account_mail(kind, to, subject, body, link=link)
            return
        send_mail(subject, body, None, [to])


def get_adapter() -> AccountAdapter:
    path = bk_settings.ACCOUNT_ADAPTER
    cls = import_string(path) if isinstance(path, str) else AccountAdapter
    return cls()
