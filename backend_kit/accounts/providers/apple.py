from __future__ import annotations

from .oidc import OIDCProvider


class AppleProvider(OIDCProvider):
    """Sign in with Apple: ``authData.apple = {id, token}``; ``client_ids`` are bundle/service ids."""

    default_jwks_url = "https://appleid.apple.com/auth/keys"
    default_issuers = ("https://appleid.apple.com",)
