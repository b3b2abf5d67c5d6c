from __future__ import annotations

from .oidc import OIDCProvider


class GoogleProvider(OIDCProvider):
    """Google Sign-In: ``authData.google = {id, id_token}``; options ``client_ids``."""

    default_jwks_url = "https://www.googleapis.com/oauth2/v3/certs"
    default_issuers = ("accounts.google.com", "https://accounts.google.com")
