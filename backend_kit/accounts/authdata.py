"""``authData``: validating it with its providers, finding and linking accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import RequestContext
from ..errors import Code, ParseError
from .models import AuthIdentity, UserLink
from .providers import get_provider


@dataclass
class Validated:
    provider: str
    uid: str | None  # None: unlink
    data: dict[str, Any] | None


def unsupported() -> ParseError:
    return ParseError(Code.UNSUPPORTED_SERVICE, "This authentication method is unsupported.")


def parse_auth_data(auth_data: Any) -> dict[str, Any]:
    if auth_data is None:
        raise unsupported()
    if not isinstance(auth_data, dict):
        raise ParseError(Code.INVALID_JSON, "authData should be an object.")
    return auth_data


def validate(auth_data: dict[str, Any], ctx: RequestContext | None) -> list[Validated]:
    """Validate every provider's data; ``{provider: null}`` means unlink."""
    out = []
    for name, data in auth_data.items():
        if data is None:
            out.append(Validated(name, None, None))
            continue
        provider = get_provider(name)
        if provider is None:
            raise unsupported()
        if not isinstance(data, dict):
            raise ParseError(Code.INVALID_JSON, f"authData.{name} should be an object.")
        if not data:
            continue
        uid = provider.validate(data, ctx=ctx)
        out.append(Validated(name, uid, provider.stored_data(data)))
    return out


def linked_object_ids(validated: list[Validated]) -> set[str]:
    ids = set()
    for item in validated:
        if item.uid is None:
            continue
        identity = (
            AuthIdentity.objects.select_related("link")
            .filter(provider=item.provider, uid=item.uid)
            .first()
        )
        if identity is not None:
            ids.add(identity.link.object_id)
    return ids


def apply(link: UserLink, validated: list[Validated]) -> dict[str, Any]:
    """Link/unlink on ``link``; returns the user's ``authData`` after the change."""
    for item in validated:
        if item.uid is None:
            AuthIdentity.objects.filter(link=link, provider=item.provider).delete()
            _forget_social_account(link, item.provider)
            continue
        other = (
            AuthIdentity.objects.filter(provider=item.provider, uid=item.uid)
            .exclude(link=link)
            .exists()
        )
        if other:
            raise ParseError(Code.ACCOUNT_ALREADY_LINKED, "this auth is already used")
        AuthIdentity.objects.update_or_create(
            link=link, provider=item.provider, defaults={"uid": item.uid, "data": item.data or {}}
        )
    return current(link)


def current(link: UserLink) -> dict[str, Any]:
    return {i.provider: i.data for i in AuthIdentity.objects.filter(link=link).order_by("provider")}


def _forget_social_account(link: UserLink, provider: str) -> None:
    """Unlinking through Parse also ends allauth's link, or its next login would restore it."""
    from django.apps import apps

    if not apps.is_installed("allauth.socialaccount"):
        return
    from allauth.socialaccount.models import SocialAccount

    from .social import allauth_provider_ids

    SocialAccount.objects.filter(
        user=link.user, provider__in=allauth_provider_ids(provider)
    ).delete()
