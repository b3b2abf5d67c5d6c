"""The request context: who is calling, with which rights.

Built once per request by the envelope (keys, session token) and passed to every
layer below the views. Identity (session tokens -> users, users -> roles) is
provided by the accounts app through :mod:`backend_kit.identity`; without it,
every caller is public or master.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestContext:
    app_id: str | None = None
    is_master: bool = False
    is_read_only_master: bool = False
    user: Any = None  # an accounts.ParseUserRef (id, username, ...) or None
    session: Any = None
    session_token: str | None = None
    installation_id: str | None = None
    client_version: str | None = None
    cloud_context: dict[str, Any] = field(default_factory=dict)
    ip: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    revocable_session: bool = False
    # Where the action comes from: "api" (a client request), "admin", "cloud" (cloud
    # code acting as master), "job", "command", or "system" (the server's own
    # bookkeeping, e.g. sessions). Lets an audit trail tell who did what.
    origin: str = "api"
    # role names ("Admins"), with inherited roles; resolved lazily and cached
    _roles: list[str] | None = None

    @classmethod
    def master(cls, **kwargs: Any) -> RequestContext:
        """Master rights for server-side work; ``origin`` defaults to ``"system"``."""
        kwargs.setdefault("origin", "system")
        return cls(is_master=True, **kwargs)

    @property
    def user_id(self) -> str | None:
        return getattr(self.user, "object_id", None) if self.user is not None else None

    @property
    def has_master_rights(self) -> bool:
        """Reads bypass ACLs for the master and the read-only master key."""
        return self.is_master or self.is_read_only_master

    @property
    def roles(self) -> list[str]:
        if self._roles is None:
            from . import identity

            self._roles = identity.roles_for(self) if self.user is not None else []
        return self._roles

    def invalidate_roles(self) -> None:
        self._roles = None

    def principals(self) -> list[str]:
        """ACL keys this caller holds: ``*``, its user id, and ``role:<name>``."""
        keys = ["*"]
        if self.user_id:
            keys.append(self.user_id)
            keys.extend(f"role:{name}" for name in self.roles)
        return keys

    def as_master(self, origin: str = "system") -> RequestContext:
        """A copy with master rights, keeping who asked (for cloud code run as master)."""
        return RequestContext(
            app_id=self.app_id,
            is_master=True,
            user=self.user,
            session=self.session,
            session_token=self.session_token,
            installation_id=self.installation_id,
            client_version=self.client_version,
            cloud_context=self.cloud_context,
            ip=self.ip,
            headers=self.headers,
            request_id=self.request_id,
            origin=origin,
        )
