"""drf-spectacular: describe the Parse keys as the API's security schemes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ParseKeysScheme(OpenApiAuthenticationExtension):
    target_class = "backend_kit.api.EnvelopeAuthentication"
    name = ["ParseApplicationId", "ParseRestApiKey", "ParseMasterKey", "ParseSessionToken"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        def header(name: str, description: str) -> dict[str, Any]:
            return {"type": "apiKey", "in": "header", "name": name, "description": description}

        return [
            header("X-Parse-Application-Id", "the application id (always required)"),
            header("X-Parse-REST-API-Key", "a client key, when client keys are configured"),
            header("X-Parse-Master-Key", "the master key: bypasses ACLs and permissions"),
            header("X-Parse-Session-Token", "a user's session token"),
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [
            {"ParseApplicationId": [], "ParseRestApiKey": []},
            {"ParseApplicationId": [], "ParseRestApiKey": [], "ParseSessionToken": []},
            {"ParseApplicationId": [], "ParseMasterKey": []},
        ]
