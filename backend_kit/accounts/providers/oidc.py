"""OpenID Connect ID tokens: RS256/ES256 signatures against the issuer's JWKS.

Checks the signature (keys fetched from the JWKS and cached), ``iss``, ``aud`` (one
of ``client_ids``), ``exp``/``nbf``/``iat`` and that ``sub`` equals ``authData.id``.
A token that is tampered with, expired, or issued for another app, and a provider
whose keys cannot be fetched, answer 251; a valid token of another user answers 101.

Options: ``client_ids`` (list, required), ``jwks_url``, ``issuers`` (list), or
``issuer`` alone (the JWKS address is then read from the issuer's
``/.well-known/openid-configuration``), ``leeway`` (s, default 30), ``token_key``
(authData key of the token, default ``id_token``; ``token`` is also read), ``timeout``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
import requests

from ...context import RequestContext
from ...errors import ParseError
from .base import AuthProvider

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TTL = 3600.0

_clients: dict[str, Any] = {}
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def jwks_client(url: str, timeout: float = 10.0) -> Any:
    """One cached :class:`jwt.PyJWKClient` per JWKS address (it caches the keys)."""
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=timeout)
            _clients[url] = client
        return client


def discover(issuer: str, timeout: float = 10.0) -> dict[str, Any]:
    """The issuer's OpenID configuration, cached for an hour; raises ``requests`` errors."""
    url = issuer if "/.well-known/" in issuer else issuer.rstrip("/") + DISCOVERY_PATH
    with _lock:
        cached = _discovered.get(url)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    config = response.json()
    if not isinstance(config, dict) or not isinstance(config.get("jwks_uri"), str):
        raise requests.RequestException(f"{url} has no jwks_uri")
    with _lock:
        _discovered[url] = (time.monotonic() + DISCOVERY_TTL, config)
    return config


class OIDCProvider(AuthProvider):
    """Any OpenID Connect provider: ``authData.<name> = {id, id_token}``."""

    default_jwks_url: str | None = None
    default_issuers: tuple[str, ...] = ()
    algorithms = ("RS256", "ES256")

    @property
    def timeout(self) -> float:
        return float(self.options.get("timeout", 10))

    @property
    def jwks_url(self) -> str:
        url = self.options.get("jwks_url")
        if url:
            return url
        issuer = self.options.get("issuer")
        if issuer:
            try:
                return discover(issuer, self.timeout)["jwks_uri"]
            except (requests.RequestException, ValueError):
                raise self.invalid_session(
                    f"{self.name} auth: the provider's configuration could not be fetched."
                )
        if self.default_jwks_url:
            return self.default_jwks_url
        raise ValueError(f"auth provider {self.name!r} needs 'jwks_url' or 'issuer'")

    @property
    def issuers(self) -> list[str]:
        issuers = self.options.get("issuers")
        if issuers:
            return [issuers] if isinstance(issuers, str) else list(issuers)
        if self.options.get("issuer"):
            return [self.options["issuer"].rstrip("/")]
        return list(self.default_issuers)

    def token_of(self, auth_data: dict[str, Any]) -> str:
        key = self.options.get("token_key", "id_token")
        token = auth_data.get(key) or auth_data.get("token") or auth_data.get("id_token")
        if not isinstance(token, str) or not token:
            raise self.invalid(f"{self.name} auth needs an id token.")
        return token

    def validate(self, auth_data: dict[str, Any], *, ctx: RequestContext | None = None) -> str:
        uid = self.uid(auth_data)
        token = self.token_of(auth_data)
        audiences = self.options.get("client_ids") or []
        if isinstance(audiences, str):
            audiences = [audiences]
        if not audiences:
            raise ValueError(f"auth provider {self.name!r} needs 'client_ids'")
        claims = self.decode(token, audiences)
        if claims.get("sub") != uid:
            raise self.invalid(f"{self.name} auth: the token is for another user.")
        return uid

    def decode(self, token: str, audiences: list[str]) -> dict[str, Any]:
        """The verified claims of ``token``, or a ParseError (251)."""
        try:
            signing_key = jwks_client(self.jwks_url, self.timeout).get_signing_key_from_jwt(token)
            return jwt.decode(
                token,
                signing_key.key,
                algorithms=list(self.algorithms),
                audience=audiences,
                issuer=self.issuers or None,
                leeway=float(self.options.get("leeway", 30)),
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except ParseError:
            raise
        except jwt.PyJWKClientConnectionError:
            raise self.invalid_session(f"{self.name} auth: the signing keys could not be fetched.")
        except jwt.PyJWTError as exc:
            raise self.invalid_session(f"{self.name} auth: invalid id token ({exc}).")
