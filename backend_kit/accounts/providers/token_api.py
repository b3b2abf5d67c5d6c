"""Providers that check an access token by calling the provider's API.

How the answer maps to Parse codes: the token refused (401/403, or what
:meth:`APIProvider.is_refusal` recognises) or the provider unreachable or failing
(network error, 5xx) -> 251; any other error or an unreadable answer -> 101.
"""

from __future__ import annotations

from typing import Any

import requests

from .base import AuthProvider


class APIProvider(AuthProvider):
    timeout = 10.0

    def is_refusal(self, response: requests.Response) -> bool:
        """Whether an error answer means "this token is not valid" (Parse 251)."""
        return response.status_code in (401, 403)

    def get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        """GET ``url`` and return its JSON object, or raise the Parse error it amounts to."""
        try:
            response = requests.get(
                url, timeout=float(self.options.get("timeout", self.timeout)), **kwargs
            )
        except requests.RequestException:
            raise self.invalid_session(f"{self.name} auth: the provider could not be reached.")
        if response.status_code >= 500:
            raise self.invalid_session(f"{self.name} auth: the provider failed to answer.")
        if response.status_code >= 400:
            if self.is_refusal(response):
                raise self.invalid_session(f"{self.name} auth: the access token was refused.")
            raise self.invalid(f"{self.name} auth is invalid for this user.")
        try:
            data = response.json()
        except ValueError:
            raise self.invalid(f"{self.name} auth: unreadable answer from the provider.")
        if not isinstance(data, dict):
            raise self.invalid(f"{self.name} auth: unreadable answer from the provider.")
        return data

    def access_token(self, auth_data: dict[str, Any]) -> str:
        token = auth_data.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.invalid(f"{self.name} auth needs an access_token.")
        return token
