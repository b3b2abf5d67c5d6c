"""An OpenID Connect provider on loopback (authorization code flow, RS256 ID tokens).

Endpoints: ``/.well-known/openid-configuration``, ``/authorize`` (approves at once as
the signed-in user and redirects back with ``code`` and ``state``), ``/token`` (code
-> ``id_token`` + access token; client secret or PKCE), ``/userinfo`` and ``/jwks``.
The signing key is generated when the server starts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .server import Request, Response, StandIn, json_response, redirect


@dataclass
class Client:
    client_id: str
    secret: str | None = None  # None: a public client (mobile app), PKCE required


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    sub: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires: float


@dataclass
class User:
    sub: str
    email: str
    name: str = "Test User"
    email_verified: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def claims(self) -> dict[str, Any]:
        given, _, family = self.name.partition(" ")
        return {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            "given_name": given,
            "family_name": family,
            "preferred_username": self.email.split("@")[0],
            **self.extra,
        }


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OIDCStandIn(StandIn):
    def __init__(self) -> None:
        super().__init__()
        self.key = new_rsa_key()
        self.kid = secrets.token_hex(8)
        self.clients: dict[str, Client] = {}
        self.users: dict[str, User] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, str] = {}  # token -> sub
        self.signed_in: str | None = None  # the user /authorize approves as

    @property
    def issuer(self) -> str:
        return self.url

    # --- test set-up -------------------------------------------------------------------

    def register_client(self, client_id: str, secret: str | None = None) -> Client:
        client = self.clients[client_id] = Client(client_id, secret)
        return client

    def add_user(self, sub: str, email: str | None = None, **kwargs: Any) -> User:
        user = self.users[sub] = User(sub, email or f"{sub}@idp.example", **kwargs)
        return user

    def sign_in(self, sub: str) -> None:
        """The browser's session at the provider: /authorize approves as this user."""
        if sub not in self.users:
            self.add_user(sub)
        self.signed_in = sub

    def id_token(
        self,
        sub: str,
        aud: str,
        *,
        nonce: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        lifetime: int = 3600,
        **claims: Any,
    ) -> str:
        """An ID token as the provider signs it (``key``: sign with another key instead)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": aud,
            "iat": now,
            "exp": now + lifetime,
            "auth_time": now,
        }
        if nonce is not None:
            payload["nonce"] = nonce
        user = self.users.get(sub)
        if user is not None:
            payload.update(email=user.email, email_verified=user.email_verified)
        payload.update(claims)
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    # --- endpoints -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        routes = {
            ("GET", "/.well-known/openid-configuration"): self.configuration,
            ("GET", "/authorize"): self.authorize,
            ("POST", "/token"): self.token,
            ("GET", "/userinfo"): self.userinfo,
            ("POST", "/userinfo"): self.userinfo,
            ("GET", "/jwks"): self.jwks,
        }
        route = routes.get((request.method, request.path))
        if route is None:
            return json_response(404, {"error": "not_found"})
        return route(request)

    def configuration(self, request: Request) -> Response:
        return json_response(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                    "none",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
                "grant_types_supported": ["authorization_code"],
            },
        )

    def jwks(self, request: Request) -> Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return json_response(200, {"keys": [jwk]})

    def authorize(self, request: Request) -> Response:
        q = request.query
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri")
        if client is None or not redirect_uri:
            # never redirect to an unverified address (RFC 6749 4.1.2.1)
            return json_response(
                400, {"error": "invalid_request", "error_description": "unknown client"}
            )

        def back(**params: str) -> Response:
            if q.get("state") is not None:
                params["state"] = q["state"]
            sep = "&" if "?" in redirect_uri else "?"
            return redirect(redirect_uri + sep + urlencode(params))

        if q.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in q.get("scope", "").split():
            return back(error="invalid_scope")
        sub = q.get("login_hint") or self.signed_in
        if sub is None:
            return back(error="login_required")
        if sub not in self.users:
            self.add_user(sub)
        if client.secret is None and not q.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE required")
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            client.client_id,
            redirect_uri,
            sub,
            q.get("nonce"),
            q.get("code_challenge"),
            q.get("code_challenge_method"),
            time.time() + 600,
        )
        return back(code=code)

    def _client_of(self, request: Request) -> Client | None:
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            raw = base64.b64decode(auth[6:]).decode()
            client_id, _, secret = raw.partition(":")
        client = self.clients.get(client_id or "")
        if client is None:
            return None
        if client.secret is not None and not secrets.compare_digest(client.secret, secret or ""):
            return None
        return client

    def token(self, request: Request) -> Response:
        form = request.form
        client = self._client_of(request)
        if client is None:
            return json_response(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return json_response(400, {"error": "unsupported_grant_type"})
        grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        if (
            grant is None
            or grant.client_id != client.client_id
            or grant.expires < time.time()
            or grant.redirect_uri != form.get("redirect_uri")
        ):
            return json_response(400, {"error": "invalid_grant"})
        if grant.code_challenge and not _pkce_ok(grant, form.get("code_verifier")):
            return json_response(
                400, {"error": "invalid_grant", "error_description": "PKCE failed"}
            )
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = grant.sub
        return json_response(
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid email profile",
                "id_token": self.id_token(grant.sub, client.client_id, nonce=grant.nonce),
            },
            headers={"Cache-Control": "no-store"},
        )

    def userinfo(self, request: Request) -> Response:
        sub = self.access_tokens.get(request.bearer_token() or "")
        if sub is None:
            return json_response(
                401,
                {"error": "invalid_token"},
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return json_response(200, self.users[sub].claims())


def _pkce_ok(grant: Grant, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return secrets.compare_digest(expected, grant.code_challenge or "")


def app_sign_in(server: OIDCStandIn, client_id: str, sub: str) -> dict[str, Any]:
    """What a mobile app's sign-in SDK does: code flow with PKCE and a nonce, over HTTP.

    Returns the token response (``id_token``, ``access_token``) and the ``nonce``.
    """
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    redirect_uri = "com.example.app:/oauth2redirect"
    nonce, state = secrets.token_hex(8), secrets.token_hex(8)
    config = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=10).json()
    answer = requests.get(
        config["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "login_hint": sub,
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == [state], back
    tokens = requests.post(
        config["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": back["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return {**tokens.json(), "nonce": nonce}
