"""django-allauth beside the Parse API: one set of users, two ways in.

* ``POST <mount>/allauth/session`` (:class:`AllauthSessionView`) turns an allauth login
  into a Parse session: app clients send allauth's ``X-Session-Token``, browser clients
  their Django session cookie (CSRF enforced). The request still carries the Parse
  application id and client key. The answer is the Parse user with a new
  ``sessionToken`` whose ``createdWith.authProvider`` is the social provider of the
  allauth login (its Parse name), or ``allauth``.
* Social accounts linked through allauth are recorded as the same ``authData``
  identities the Parse SDKs log in with, and the other way round: an allauth login
  with an identity first linked through ``authData`` reaches that user. The allauth
  provider id maps to a Parse provider through the provider's ``allauth_provider``
  option (by default the same name).
* allauth's email confirmation sets ``emailVerified``; a password reset or change
  through allauth revokes the user's Parse sessions (``REVOKE_SESSION_ON_PASSWORD_RESET``).

Users created by allauth get their Parse side from the ``post_save`` sync in
:mod:`backend_kit.accounts.signals`. The receivers here are connected by the app's
``ready()`` when ``allauth.account`` is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.response import Response

from ..api import ParseAPIView
from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError, Unauthorized
from ..objects import reads, writes
from ..objects.openapi import OBJECT_BODY, error_responses, object_response
from ..objects.sql import connection
from . import authdata, sessions, signals, users
from .models import AuthIdentity, UserLink
from .providers import for_allauth

logger = logging.getLogger("backend_kit.accounts")

#: ``createdWith.authProvider`` of a session made from a non-social allauth login.
ALLAUTH_PROVIDER = "allauth"
USER_CLASS = "_User"


def parse_provider_name(allauth_provider_id: str | None) -> str | None:
    """The Parse ``authData`` key for accounts of an allauth provider, or None."""
    if not allauth_provider_id:
        return None
    provider = for_allauth(allauth_provider_id)
    return provider.name if provider is not None else None


def _master() -> RequestContext:
    return RequestContext.master(app_id=bk_settings.APP_ID)


def _atomic() -> Any:
    return transaction.atomic(using=connection(write=True).alias)


# --- the exchange endpoint ---------------------------------------------------------------


def _enforce_csrf(request: Any) -> None:
    """The Django session is ambient authority: the same CSRF check as DRF's SessionAuthentication."""
    check = CSRFCheck(lambda req: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise drf_exceptions.PermissionDenied(f"CSRF Failed: {reason}")


def allauth_login(request: Any) -> tuple[Any, Any]:
    """The ``(user, session)`` allauth authenticated for this request, or ``(None, None)``.

    ``X-Session-Token`` (allauth headless app clients) wins over the session cookie.
    """
    if request.headers.get("X-Session-Token"):
        if not apps.is_installed("allauth.headless"):
            raise ParseError(Code.UNSUPPORTED_SERVICE, "allauth.headless is not installed.")
        from allauth.headless.contrib.rest_framework.authentication import (
            XSessionTokenAuthentication,
        )

        found = XSessionTokenAuthentication().authenticate(request._request)
        if not found:
            raise ParseError(
                Code.INVALID_SESSION_TOKEN, "Invalid or expired allauth session token."
            )
        return found
    django_request = request._request
    user = getattr(django_request, "user", None)
    if user is not None and user.is_authenticated:
        _enforce_csrf(django_request)
        return user, django_request.session
    return None, None


def login_provider(user: Any, session: Any) -> str:
    """``createdWith.authProvider``: the Parse name of the social provider the allauth
    login used (its allauth id when it maps to none), else ``allauth``."""
    from allauth.account.authentication import get_authentication_records

    records = get_authentication_records(SimpleNamespace(session=session), user)
    for record in reversed(records):
        method = record.get("method")
        if method == "mfa":
            continue  # a second factor: the login is the step before it
        if method == "socialaccount":
            allauth_id = record.get("provider")
            return parse_provider_name(allauth_id) or allauth_id or ALLAUTH_PROVIDER
        break
    return ALLAUTH_PROVIDER


class AllauthSessionView(ParseAPIView):
    """``POST /allauth/session``: a Parse session for the user allauth logged in."""

    ignore_session_token = True

    @extend_schema(
        operation_id="allauth_session",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        ctx: RequestContext = request.bk
        if not request._request.bk_envelope.app_id:
            raise Unauthorized()  # no master rights from a browsing superuser here
        if not apps.is_installed("allauth.account"):
            raise ParseError(Code.UNSUPPORTED_SERVICE, "django-allauth is not installed.")
        user, session = allauth_login(request)
        if user is None:
            raise ParseError(
                Code.INVALID_SESSION_TOKEN,
                "No allauth login: send allauth's X-Session-Token (app clients) or the "
                "session cookie and CSRF token (browser clients).",
            )
        if not user.is_active:
            raise ParseError(Code.OBJECT_NOT_FOUND, "This account is inactive.")
        object_id = users.ensure_parse_user(user)
        token, _ = sessions.create_session(
            object_id,
            action="login",
            provider=login_provider(user, session),
            installation_id=ctx.installation_id,
            ctx=ctx,
        )
        signals.user_logged_in.send_robust(sender=USER_CLASS, object_id=object_id, context=ctx)
        return Response(users.read_self(ctx, object_id, token))


# --- identities shared with allauth's social accounts ------------------------------------


def _write_auth_data(link: UserLink) -> None:
    current = authdata.current(link)
    writes.update(
        _master(),
        USER_CLASS,
        link.object_id,
        {"authData": current if current else {"__op": "Delete"}},
    )


def record_identity(user: Any, allauth_provider_id: str, uid: str) -> AuthIdentity | None:
    """Record an allauth social account as the user's ``authData.<provider>``.

    Nothing happens when the provider maps to no Parse provider, when the identity
    belongs to another user, or when the user already has another identity of that
    provider (Parse keeps one per provider; allauth may hold several).
    """
    name = parse_provider_name(allauth_provider_id)
    if name is None:
        return None
    link = UserLink.objects.get(object_id=users.ensure_parse_user(user))
    existing = AuthIdentity.objects.filter(provider=name, uid=uid).first()
    if existing is not None:
        if existing.link_id != link.pk:
            logger.warning(
                "%s identity %s belongs to another Parse user; not linked to %s",
                name,
                uid,
                link.object_id,
            )
            return None
        return existing
    if AuthIdentity.objects.filter(link=link, provider=name).exists():
        return None
    try:
        with _atomic():
            identity = AuthIdentity.objects.create(
                link=link, provider=name, uid=uid, data={"id": uid}
            )
            _write_auth_data(link)
    except IntegrityError:  # recorded meanwhile by a concurrent request
        return AuthIdentity.objects.filter(link=link, provider=name, uid=uid).first()
    return identity


def forget_identity(user: Any, allauth_provider_id: str, uid: str) -> None:
    """The allauth social account was disconnected: unlink it on the Parse side too."""
    name = parse_provider_name(allauth_provider_id)
    link = UserLink.objects.filter(user=user).first()
    if name is None or link is None:
        return
    with _atomic():
        if AuthIdentity.objects.filter(link=link, provider=name, uid=uid).delete()[0]:
            _write_auth_data(link)


def mark_email_verified(user: Any, email: str) -> None:
    """``emailVerified = true`` on the user's ``_User`` when ``email`` is its address."""
    object_id = users.ensure_parse_user(user)
    doc = reads.fetch_one_as_master(USER_CLASS, object_id) or {}
    current = doc.get("email")
    if (
        isinstance(current, str)
        and current.lower() == email.lower()
        and not doc.get("emailVerified")
    ):
        writes.update(_master(), USER_CLASS, object_id, {"emailVerified": True})


# --- signal receivers (errors are logged: a Parse-side failure must not break a login) ---


def _quietly(receiver: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            with _atomic():  # a failed write rolls back to here, not the caller's transaction
                receiver(*args, **kwargs)
        except Exception:
            logger.exception("backend_kit: allauth signal receiver %s failed", receiver.__name__)

    run.__name__ = receiver.__name__
    return run


def on_pre_social_login(request: Any, sociallogin: Any, **kwargs: Any) -> None:
    account = sociallogin.account
    if account.pk is not None:
        # an allauth account known before (perhaps from before backend_kit): make sure
        # the Parse side has the identity too
        record_identity(account.user, account.provider, account.uid)
        return
    name = parse_provider_name(account.provider)
    if name is None:
        return
    identity = (
        AuthIdentity.objects.select_related("link__user")
        .filter(provider=name, uid=account.uid)
        .first()
    )
    if identity is None:
        return
    # First linked through Parse authData: this allauth login is that user's (an
    # exact provider id beats allauth's match by email address). When connecting to
    # another logged-in user, allauth then refuses with "connected_other".
    user = identity.link.user
    sociallogin.connect(request, user)
    adopt_verified_emails(request, user, sociallogin.email_addresses)


def adopt_verified_emails(request: Any, user: Any, addresses: list[Any]) -> None:
    """Give a user made from ``authData`` alone (no address) the provider's verified,
    unused addresses, so allauth's email verification does not stop its login."""
    from allauth.account.models import EmailAddress
    from allauth.account.utils import setup_user_email, user_email

    if user_email(user) or EmailAddress.objects.filter(user=user).exists():
        return
    free = [
        a
        for a in addresses
        if a.verified
        and a.email
        and not EmailAddress.objects.filter(email__iexact=a.email).exists()
        and not users.find_users("email", a.email)
    ]
    if not free:
        return
    setup_user_email(request, user, free)
    user.save()  # the post_save sync copies the address to the _User
    for address in free:
        mark_email_verified(user, address.email)


def on_social_account_added(request: Any, sociallogin: Any, **kwargs: Any) -> None:
    record_identity(sociallogin.user, sociallogin.account.provider, sociallogin.account.uid)


def on_social_account_updated(request: Any, sociallogin: Any, **kwargs: Any) -> None:
    account = sociallogin.account
    record_identity(account.user, account.provider, account.uid)


def on_social_account_removed(request: Any, socialaccount: Any, **kwargs: Any) -> None:
    forget_identity(socialaccount.user, socialaccount.provider, socialaccount.uid)


def on_user_signed_up(request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        record_identity(user, sociallogin.account.provider, sociallogin.account.uid)
    from allauth.account.models import EmailAddress

    for address in EmailAddress.objects.filter(user=user, verified=True):
        mark_email_verified(user, address.email)


def on_email_confirmed(request: Any, email_address: Any, **kwargs: Any) -> None:
    mark_email_verified(email_address.user, email_address.email)


def revoke_parse_sessions(request: Any, user: Any, **kwargs: Any) -> None:
    """A password reset or change through allauth ends the user's Parse sessions (as Parse
    does for its own, under ``REVOKE_SESSION_ON_PASSWORD_RESET``)."""
    if not bk_settings.REVOKE_SESSION_ON_PASSWORD_RESET:
        return
    link = UserLink.objects.filter(user=user).first()
    if link is not None:
        sessions.revoke_user_sessions(link.object_id)


def connect_signals() -> None:
    """Connect the receivers to allauth's signals (called from ``AppConfig.ready``)."""
    from allauth.account import signals as account_signals

    pairs: list[tuple[Any, Callable[..., None]]] = [
        (account_signals.user_signed_up, on_user_signed_up),
        (account_signals.email_confirmed, on_email_confirmed),
        (account_signals.password_reset, revoke_parse_sessions),
        (account_signals.password_changed, revoke_parse_sessions),
    ]
    if apps.is_installed("allauth.socialaccount"):
        from allauth.socialaccount import signals as social_signals

        pairs += [
            (social_signals.pre_social_login, on_pre_social_login),
            (social_signals.social_account_added, on_social_account_added),
            (social_signals.social_account_updated, on_social_account_updated),
            (social_signals.social_account_removed, on_social_account_removed),
        ]
    for signal, receiver in pairs:
        signal.connect(
            _quietly(receiver), weak=False, dispatch_uid=f"bk_allauth_{receiver.__name__}"
        )


def allauth_provider_ids(parse_provider: str) -> tuple[str, ...]:
    """The allauth provider ids whose accounts carry this Parse ``authData`` key."""
    from .providers import get_provider

    provider = get_provider(parse_provider)
    return provider.allauth_provider_ids if provider is not None else (parse_provider,)
