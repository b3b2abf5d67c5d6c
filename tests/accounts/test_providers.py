"""One contract for every authData provider, run against local stand-ins over real HTTP.

Codes (what Parse clients know, ``Parse.Error``): 208 identity linked to another user,
250 no ``id``, 251 token refused / expired / of another app / provider unreachable,
252 unknown provider, 101 a valid token of another account. Parse Server itself answers
101 for every adapter failure; the SDKs treat any of these as a failed login.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from typing import Any

import pytest

from backend_kit.accounts.models import AuthIdentity
from tests.conftest import ParseClient
from tests.stand_ins.facebook import FacebookStandIn
from tests.stand_ins.fixtures import facebook_server, github_server, oidc_server  # noqa: F401
from tests.stand_ins.github import GitHubStandIn
from tests.stand_ins.oidc import OIDCStandIn, app_sign_in, new_rsa_key
from tests.stand_ins.server import closed_port_url

PROVIDERS = "backend_kit.accounts.providers."
FACEBOOK_APP = "1234567890"
_ids = itertools.count(100_001)


def tamper(token: str) -> str:
    """The token with its claims changed and the signature kept (a forgery)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "attacker@evil.example"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


class Flavour:
    """How one provider is configured and what its clients send."""

    name: str

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def unreachable_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def new_uid(self) -> str:
        return str(next(_ids))

    def valid(self, uid: str) -> dict[str, Any]:
        raise NotImplementedError

    def of_another_account(self, uid: str) -> dict[str, Any]:
        """A valid token whose account is not ``uid``, sent with ``id: uid``."""
        raise NotImplementedError

    def refused(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        """(what, authData) pairs the provider must refuse with 251."""
        raise NotImplementedError

    def without_id(self, uid: str) -> dict[str, Any]:
        data = self.valid(uid)
        data.pop("id")
        return data


class OIDCFlavour(Flavour):
    def __init__(
        self,
        name: str,
        cls: str,
        server: OIDCStandIn,
        token_key: str = "id_token",
        discovery: bool = False,
    ) -> None:
        self.name, self.cls, self.server = name, cls, server
        self.token_key, self.discovery = token_key, discovery
        self.client_id = f"{name}-mobile-app"
        server.register_client(self.client_id)
        server.register_client("someone-elses-app")

    def settings(self) -> dict[str, Any]:
        if self.discovery:
            return {"class": self.cls, "issuer": self.server.issuer, "client_ids": [self.client_id]}
        return {
            "class": self.cls,
            "client_ids": [self.client_id],
            "jwks_url": f"{self.server.url}/jwks",
            "issuers": [self.server.issuer],
        }

    def unreachable_settings(self) -> dict[str, Any]:
        down = closed_port_url()
        if self.discovery:
            return {**self.settings(), "issuer": down}
        return {**self.settings(), "jwks_url": f"{down}/jwks"}

    def data(self, uid: str, token: str) -> dict[str, Any]:
        return {"id": uid, self.token_key: token}

    def valid(self, uid: str) -> dict[str, Any]:
        return self.data(uid, app_sign_in(self.server, self.client_id, uid)["id_token"])

    def of_another_account(self, uid: str) -> dict[str, Any]:
        return self.data(uid, app_sign_in(self.server, self.client_id, uid + "0")["id_token"])

    def refused(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        good = app_sign_in(self.server, self.client_id, uid)["id_token"]
        other_app = app_sign_in(self.server, "someone-elses-app", uid)["id_token"]
        return [
            ("tampered", self.data(uid, tamper(good))),
            ("another app's token", self.data(uid, other_app)),
            ("expired", self.data(uid, self.server.id_token(uid, self.client_id, lifetime=-3600))),
            (
                "signed with another key",
                self.data(uid, self.server.id_token(uid, self.client_id, key=new_rsa_key())),
            ),
            (
                "another issuer",
                self.data(
                    uid, self.server.id_token(uid, self.client_id, iss="https://evil.example")
                ),
            ),
            ("not a JWT", self.data(uid, "not-a-token")),
        ]


class GitHubFlavour(Flavour):
    name = "github"

    def __init__(self, server: GitHubStandIn) -> None:
        self.server = server

    def settings(self) -> dict[str, Any]:
        return {"class": PROVIDERS + "github.GitHubProvider", "api_url": self.server.url}

    def unreachable_settings(self) -> dict[str, Any]:
        return {**self.settings(), "api_url": closed_port_url()}

    def valid(self, uid: str) -> dict[str, Any]:
        return {"id": uid, "access_token": self.server.issue_token(int(uid))}

    def of_another_account(self, uid: str) -> dict[str, Any]:
        return {"id": uid, "access_token": self.server.issue_token(int(uid) + 1)}

    def refused(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        revoked = self.server.issue_token(int(uid))
        self.server.revoke(revoked)
        return [
            ("unknown token", {"id": uid, "access_token": "gho_forged"}),
            ("revoked token", {"id": uid, "access_token": revoked}),
        ]


class FacebookFlavour(Flavour):
    name = "facebook"

    def __init__(self, server: FacebookStandIn) -> None:
        self.server = server

    def settings(self) -> dict[str, Any]:
        return {
            "class": PROVIDERS + "facebook.FacebookProvider",
            "graph_url": self.server.url,
            "app_ids": [FACEBOOK_APP],
        }

    def unreachable_settings(self) -> dict[str, Any]:
        return {**self.settings(), "graph_url": closed_port_url()}

    def valid(self, uid: str) -> dict[str, Any]:
        return {"id": uid, "access_token": self.server.issue_token(uid, FACEBOOK_APP)}

    def of_another_account(self, uid: str) -> dict[str, Any]:
        return {"id": uid, "access_token": self.server.issue_token(uid + "0", FACEBOOK_APP)}

    def refused(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("unknown token", {"id": uid, "access_token": "EAAforged"}),
            (
                "another app's token",
                {"id": uid, "access_token": self.server.issue_token(uid, "999")},
            ),
            (
                "expired",
                {
                    "id": uid,
                    "access_token": self.server.issue_token(uid, FACEBOOK_APP, expired=True),
                },
            ),
        ]


@pytest.fixture
def flavours(
    settings: Any,
    oidc_server: OIDCStandIn,  # noqa: F811
    github_server: GitHubStandIn,  # noqa: F811
    facebook_server: FacebookStandIn,  # noqa: F811
) -> dict[str, Flavour]:
    """Every provider, configured in BACKEND_KIT["AUTH_PROVIDERS"] against the stand-ins."""
    all_flavours: list[Flavour] = [
        OIDCFlavour("google", PROVIDERS + "google.GoogleProvider", oidc_server),
        OIDCFlavour("apple", PROVIDERS + "apple.AppleProvider", oidc_server, token_key="token"),
        OIDCFlavour("oidc", PROVIDERS + "oidc.OIDCProvider", oidc_server, discovery=True),
        GitHubFlavour(github_server),
        FacebookFlavour(facebook_server),
    ]
    by_name = {f.name: f for f in all_flavours}
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "AUTH_PROVIDERS": {n: f.settings() for n, f in by_name.items()},
    }
    return by_name


@pytest.fixture(params=["google", "apple", "oidc", "github", "facebook"])
def flavour(request: Any, flavours: dict[str, Flavour]) -> Flavour:
    return flavours[request.param]


def as_user(token: str) -> ParseClient:
    return ParseClient(session_token=token)


def user_count(master: ParseClient) -> int:
    return master.get("users", count=1, limit=0).json_body["count"]


def assert_error(response: Any, code: int, what: str = "") -> None:
    assert response.json_body is not None and response.json_body.get("code") == code, (
        what,
        response.status_code,
        response.json_body,
    )
    assert set(response.json_body) == {"code", "error"} and response.json_body["error"], (
        response.json_body
    )


class TestProviderContract:
    def test_sign_up_then_log_in_as_the_same_user(self, api: ParseClient, flavour: Flavour) -> None:
        uid = flavour.new_uid()
        auth = flavour.valid(uid)
        signup = api.post("users", {"authData": {flavour.name: auth}})
        assert signup.status_code == 201, signup.json_body
        assert signup.json_body["sessionToken"].startswith("r:")
        assert signup["Location"].endswith("/users/" + signup.json_body["objectId"])
        user_id = signup.json_body["objectId"]
        session = as_user(signup.json_body["sessionToken"]).get("sessions/me").json_body
        assert session["createdWith"] == {"action": "signup", "authProvider": flavour.name}

        login = api.post("users", {"authData": {flavour.name: flavour.valid(uid)}})
        assert login.status_code == 200, login.json_body
        body = login.json_body
        assert body["objectId"] == user_id and body["username"] and "password" not in body
        assert body["sessionToken"] not in ("", signup.json_body["sessionToken"])
        assert body["authData"][flavour.name]["id"] == uid
        me = as_user(body["sessionToken"]).get("users/me")
        assert me.status_code == 200 and me.json_body["objectId"] == user_id
        session = as_user(body["sessionToken"]).get("sessions/me").json_body
        assert session["createdWith"] == {"action": "login", "authProvider": flavour.name}

    def test_link_to_an_existing_user_then_unlink(self, api: ParseClient, flavour: Flavour) -> None:
        user = api.post(
            "users", {"username": f"link-{flavour.name}", "password": "pw-123456"}
        ).json_body
        client = as_user(user["sessionToken"])
        uid = flavour.new_uid()
        linked = client.put(
            f"users/{user['objectId']}", {"authData": {flavour.name: flavour.valid(uid)}}
        )
        assert linked.status_code == 200, linked.json_body
        me = client.get("users/me").json_body
        assert me["authData"][flavour.name]["id"] == uid
        # the identity now logs in as that user
        login = api.post("users", {"authData": {flavour.name: flavour.valid(uid)}})
        assert login.status_code == 200 and login.json_body["objectId"] == user["objectId"]

        unlinked = client.put(f"users/{user['objectId']}", {"authData": {flavour.name: None}})
        assert unlinked.status_code == 200, unlinked.json_body
        assert flavour.name not in (client.get("users/me").json_body.get("authData") or {})
        assert not AuthIdentity.objects.filter(provider=flavour.name, uid=uid).exists()
        # the identity is free again: it signs up a new user
        again = api.post("users", {"authData": {flavour.name: flavour.valid(uid)}})
        assert again.status_code == 201 and again.json_body["objectId"] != user["objectId"]

    def test_identity_linked_to_another_user_is_208(
        self, api: ParseClient, flavour: Flavour
    ) -> None:
        uid = flavour.new_uid()
        owner = api.post("users", {"authData": {flavour.name: flavour.valid(uid)}})
        assert owner.status_code == 201, owner.json_body
        other = api.post(
            "users", {"username": f"other-{flavour.name}", "password": "pw-123456"}
        ).json_body
        taken = as_user(other["sessionToken"]).put(
            f"users/{other['objectId']}", {"authData": {flavour.name: flavour.valid(uid)}}
        )
        assert taken.status_code == 400
        assert_error(taken, 208)
        assert flavour.name not in (
            as_user(other["sessionToken"]).get("users/me").json_body.get("authData") or {}
        )

    def test_refused_tokens_are_251_and_write_nothing(
        self, api: ParseClient, master: ParseClient, flavour: Flavour
    ) -> None:
        before = user_count(master)
        for what, auth in flavour.refused(flavour.new_uid()):
            response = api.post("users", {"authData": {flavour.name: auth}})
            assert response.status_code == 400, (what, response.json_body)
            assert_error(response, 251, what)
        assert user_count(master) == before
        assert not AuthIdentity.objects.filter(provider=flavour.name).exists()

    def test_refused_token_cannot_log_in_an_existing_identity(
        self, api: ParseClient, flavour: Flavour
    ) -> None:
        uid = flavour.new_uid()
        assert (
            api.post("users", {"authData": {flavour.name: flavour.valid(uid)}}).status_code == 201
        )
        what, auth = flavour.refused(uid)[0]
        assert_error(api.post("users", {"authData": {flavour.name: auth}}), 251, what)

    def test_token_of_another_account_is_101(
        self, api: ParseClient, master: ParseClient, flavour: Flavour
    ) -> None:
        before = user_count(master)
        response = api.post(
            "users", {"authData": {flavour.name: flavour.of_another_account(flavour.new_uid())}}
        )
        assert response.status_code == 404, response.json_body
        assert_error(response, 101)
        assert user_count(master) == before

    def test_missing_id_is_250(self, api: ParseClient, flavour: Flavour) -> None:
        response = api.post(
            "users", {"authData": {flavour.name: flavour.without_id(flavour.new_uid())}}
        )
        assert_error(response, 250)

    def test_unreachable_provider_is_251(
        self, api: ParseClient, master: ParseClient, settings: Any, flavour: Flavour
    ) -> None:
        auth = flavour.valid(flavour.new_uid())
        before = user_count(master)
        providers = dict(settings.BACKEND_KIT["AUTH_PROVIDERS"])
        providers[flavour.name] = flavour.unreachable_settings()
        settings.BACKEND_KIT = {**settings.BACKEND_KIT, "AUTH_PROVIDERS": providers}
        response = api.post("users", {"authData": {flavour.name: auth}})
        assert response.status_code == 400, response.json_body
        assert_error(response, 251)
        assert user_count(master) == before


def test_unknown_provider_is_252(api: ParseClient, flavours: dict[str, Flavour]) -> None:
    response = api.post("users", {"authData": {"myspace": {"id": "1", "access_token": "x"}}})
    assert_error(response, 252)
    user = api.post("users", {"username": "unknown-provider", "password": "pw-123456"}).json_body
    linked = as_user(user["sessionToken"]).put(
        f"users/{user['objectId']}", {"authData": {"myspace": {"id": "1", "access_token": "x"}}}
    )
    assert_error(linked, 252)


def test_anonymous_sign_up_log_in_and_upgrade(api: ParseClient) -> None:
    anon_id = str(uuid.uuid4())
    signup = api.post("users", {"authData": {"anonymous": {"id": anon_id}}})
    assert signup.status_code == 201, signup.json_body
    user_id, token = signup.json_body["objectId"], signup.json_body["sessionToken"]
    again = api.post("users", {"authData": {"anonymous": {"id": anon_id}}})
    assert again.status_code == 200 and again.json_body["objectId"] == user_id
    assert again.json_body["authData"] == {"anonymous": {"id": anon_id}}
    assert_error(api.post("users", {"authData": {"anonymous": {"id": ""}}}), 250)

    client = as_user(token)
    upgraded = client.put(
        f"users/{user_id}", {"username": "no-longer-anon", "password": "pw-123456"}
    )
    assert upgraded.status_code == 200, upgraded.json_body
    me = client.get("users/me").json_body
    assert me["username"] == "no-longer-anon" and "anonymous" not in (me.get("authData") or {})
    login = api.post("login", {"username": "no-longer-anon", "password": "pw-123456"})
    assert login.status_code == 200 and login.json_body["objectId"] == user_id
    # the anonymous id no longer reaches the upgraded user
    fresh = api.post("users", {"authData": {"anonymous": {"id": anon_id}}})
    assert fresh.status_code == 201 and fresh.json_body["objectId"] != user_id


def test_anonymous_users_can_be_switched_off(api: ParseClient, settings: Any) -> None:
    settings.BACKEND_KIT = {**settings.BACKEND_KIT, "ALLOW_ANONYMOUS_USERS": False}
    assert_error(api.post("users", {"authData": {"anonymous": {"id": str(uuid.uuid4())}}}), 252)
