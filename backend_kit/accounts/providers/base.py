"""The provider interface, and the error answers Parse clients expect from it."""

from __future__ import annotations

from typing import Any

from ...context import RequestContext
from ...errors import Code, ParseError


class AuthProvider:
    """Validates ``authData.<name>`` and names the account it identifies.

    Subclasses implement :meth:`validate`. ``options`` is the provider's entry of
    ``AUTH_PROVIDERS`` without its ``class``.
    """

    #: Network providers read their endpoints from options so tests can point them
    #: at a local stand-in on loopback.
    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    def uid(self, auth_data: dict[str, Any]) -> str:
        """The provider's id of the account: ``authData.<name>.id``."""
        uid = auth_data.get("id")
        if not isinstance(uid, str) or not uid:
            raise ParseError(
                Code.LINKED_ID_MISSING, f"{self.name} auth data needs an id (a string)."
            )
        return uid

    def validate(self, auth_data: dict[str, Any], *, ctx: RequestContext | None = None) -> str:
        """Check the data (tokens, signatures) and return the uid, or raise a ParseError."""
        raise NotImplementedError

    def stored_data(self, auth_data: dict[str, Any]) -> dict[str, Any]:
        """What is kept in ``authData.<name>`` on the user."""
        return auth_data

    @property
    def allauth_provider_ids(self) -> tuple[str, ...]:
        """django-allauth provider ids whose accounts are this provider's accounts.

        Option ``allauth_provider`` (an id, a list of ids, or ``None`` for none);
        by default the provider's own name (``google`` is allauth's ``google``).
        Used by :mod:`backend_kit.accounts.social` to share identities with allauth.
        """
        value = self.options.get("allauth_provider", self.name)
        if not value:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    # helpers for subclasses
    def invalid(self, message: str | None = None) -> ParseError:
        return ParseError(
            Code.OBJECT_NOT_FOUND, message or f"{self.name} auth is invalid for this user."
        )

    def invalid_session(self, message: str | None = None) -> ParseError:
        return ParseError(
            Code.INVALID_LINKED_SESSION, message or f"{self.name} auth token is invalid."
        )
