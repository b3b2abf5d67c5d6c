from __future__ import annotations

from typing import Any

import requests

from ...context import RequestContext
from .token_api import APIProvider

# Graph API error codes that mean the access token itself is bad (invalid, expired,
# revoked, or the user logged out): https://developers.facebook.com/docs/graph-api/guides/error-handling
TOKEN_ERROR_CODES = frozenset({102, 190})


class FacebookProvider(APIProvider):
    """``authData.facebook = {id, access_token}``.

    ``GET {graph_url}/me?fields=id`` must return that id and, when ``app_ids`` is
    configured, ``GET {graph_url}/app`` must name one of them (so a token issued to
    another app is refused with 251). Options: ``graph_url``
    (``https://graph.facebook.com``), ``app_ids``, ``timeout``.
    """

    def is_refusal(self, response: requests.Response) -> bool:
        if super().is_refusal(response):
            return True
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            return False
        return isinstance(error, dict) and (
            error.get("code") in TOKEN_ERROR_CODES or error.get("type") == "OAuthException"
        )

    def validate(self, auth_data: dict[str, Any], *, ctx: RequestContext | None = None) -> str:
        uid = self.uid(auth_data)
        graph = self.options.get("graph_url", "https://graph.facebook.com").rstrip("/")
        token = self.access_token(auth_data)
        app_ids = self.options.get("app_ids")
        if app_ids:
            # The app check comes first: a token of another app says nothing about our users.
            if isinstance(app_ids, str):
                app_ids = [app_ids]
            app = self.get_json(f"{graph}/app", params={"access_token": token})
            if str(app.get("id")) not in {str(a) for a in app_ids}:
                raise self.invalid_session("facebook auth: the token was issued for another app.")
        me = self.get_json(f"{graph}/me", params={"fields": "id", "access_token": token})
        if str(me.get("id")) != uid:
            raise self.invalid()
        return uid
