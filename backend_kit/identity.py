"""The seam between the request envelope and whoever knows users.

The accounts app registers an :class:`IdentityProvider` in its ``ready()``; the root
package and the objects app only call these functions, so they work (public and
master callers only) when accounts is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .errors import Code, ParseError

if TYPE_CHECKING:
    from .context import RequestContext


class IdentityProvider(Protocol):
    def authenticate_session(self, token: str, context: RequestContext) -> tuple[Any, Any]:
        """Return ``(user, session)`` for a session token or raise ParseError 209."""

    def roles_for(self, context: RequestContext) -> list[str]:
        """Names of every role the context's user holds, inherited ones included."""


_provider: IdentityProvider | None = None


def register(provider: IdentityProvider | None) -> None:
    global _provider
    _provider = provider


def authenticate_session(token: str, context: RequestContext) -> tuple[Any, Any]:
    if _provider is None:
        raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
    return _provider.authenticate_session(token, context)


def roles_for(context: RequestContext) -> list[str]:
    if _provider is None:
        return []
    return _provider.roles_for(context)
