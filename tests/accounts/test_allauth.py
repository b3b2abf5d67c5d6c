"""django-allauth headless beside the Parse API, end to end.

The OpenID Connect login runs the whole authorization-code flow: allauth's headless
redirect endpoint -> the local provider's ``/authorize`` (fetched over HTTP) -> allauth's
callback -> allauth calls the provider's ``/token`` and ``/userinfo`` over HTTP ->
logged in -> ``POST /parse/allauth/session`` -> a Parse session token.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import pytest
import requests
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from backend_kit.accounts.models import AuthIdentity, UserLink
from tests.conftest import APP_ID, REST_KEY, ParseClient
from tests.stand_ins.fixtures import oidc_server  # noqa: F401
from tests.stand_ins.oidc import OIDCStandIn, app_sign_in

pytest.importorskip("allauth.headless")
pytestmark = pytest.mark.skipif(
    "allauth.headless" not in django_settings.INSTALLED_APPS,
    reason="allauth.headless is not in INSTALLED_APPS",
)

IDP = "localidp"  # allauth's provider id of the local OpenID Connect provider
WEB_CLIENT, WEB_SECRET = "allauth-web", "allauth-web-secret"
MOBILE_CLIENT = "parse-mobile-app"
PARSE_HEADERS = {"X-Parse-Application-Id": APP_ID, "X-Parse-REST-API-Key": REST_KEY}
PASSWORD = "correct-horse-battery"


@pytest.fixture
def idp(settings: Any, oidc_server: OIDCStandIn) -> OIDCStandIn:  # noqa: F811
    """allauth's OpenID Connect app and the Parse ``oidc`` provider, both on the stand-in."""
    oidc_server.register_client(WEB_CLIENT, WEB_SECRET)
    oidc_server.register_client(MOBILE_CLIENT)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": IDP,
                    "name": "Local IdP",
                    "client_id": WEB_CLIENT,
                    "secret": WEB_SECRET,
                    "settings": {"server_url": oidc_server.issuer},
                }
            ],
        }
    }
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "AUTH_PROVIDERS": {
            "oidc": {
                "class": "backend_kit.accounts.providers.oidc.OIDCProvider",
                "issuer": oidc_server.issuer,
                "client_ids": [MOBILE_CLIENT, WEB_CLIENT],
                "allauth_provider": IDP,
            }
        },
    }
    return oidc_server


def body(response: Any) -> Any:
    return orjson.loads(response.content) if response.content else None


def exchange(client: Client, **headers: str) -> Any:
    """``POST /parse/allauth/session`` with the Parse keys."""
    response = client.post(
        "/parse/allauth/session",
        b"{}",
        content_type="application/json",
        headers={**PARSE_HEADERS, **headers},
    )
    response.json_body = body(response)
    return response


def csrf_token(client: Client) -> str:
    return client.cookies["csrftoken"].value


def browser_login(client: Client, idp: OIDCStandIn, sub: str, email: str) -> None:
    """allauth headless browser login through the OpenID Connect provider."""
    idp.add_user(sub, email, name="Web User")
    idp.sign_in(sub)
    assert client.get("/_allauth/browser/v1/config").status_code == 200  # sets the CSRF cookie
    start = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {"provider": IDP, "callback_url": "/app/after-login", "process": "login"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(f"{idp.url}/authorize?"), authorize
    seen = len(idp.requests_seen)
    at_idp = requests.get(authorize, allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    back = urlsplit(at_idp.headers["Location"])
    assert back.netloc == "testserver" and back.path == f"/accounts/oidc/{IDP}/login/callback/", (
        back
    )
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302 and done["Location"] == "/app/after-login", done
    assert ("POST", "/token") in idp.requests_seen[seen:], "allauth did not call /token over HTTP"
    assert ("GET", "/userinfo") in idp.requests_seen[seen:]
    session = client.get("/_allauth/browser/v1/auth/session")
    assert session.status_code == 200, body(session)
    assert body(session)["data"]["user"]["email"] == email


def mail_link(pattern: str) -> str:
    """The key in the newest mail's link (``pattern`` has one group)."""
    assert mail.outbox, "no mail sent"
    found = re.search(pattern, mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return unquote(found.group(1))  # the frontend URL carries the key URL-encoded


class AppClient:
    """An allauth headless *app* client: JSON bodies, ``X-Session-Token``."""

    def __init__(self) -> None:
        self.client = Client()
        self.session_token: str | None = None

    def call(self, method: str, path: str, data: Any = None) -> Any:
        headers = {"X-Session-Token": self.session_token} if self.session_token else {}
        response = self.client.generic(
            method,
            "/_allauth/app/v1/" + path,
            orjson.dumps(data) if data is not None else b"",
            content_type="application/json",
            headers=headers,
        )
        response.json_body = body(response)
        token = ((response.json_body or {}).get("meta") or {}).get("session_token")
        if token:
            self.session_token = token
        return response

    def exchange(self) -> Any:
        return exchange(Client(), **{"X-Session-Token": self.session_token or ""})


def pending_flows(response: Any) -> set[str]:
    return {f["id"] for f in response.json_body["data"]["flows"] if f.get("is_pending")}


# --- OpenID Connect through allauth --------------------------------------------------------


def test_oidc_authorization_code_flow_to_a_parse_session(db: Any, idp: OIDCStandIn) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, idp, "oidc-alice", "alice@idp.example")

    refused = exchange(browser)  # the session cookie alone is not enough: CSRF
    assert refused.status_code == 403 and refused.json_body["code"] == 119, refused.json_body
    answer = exchange(browser, **{"X-CSRFToken": csrf_token(browser)})
    assert answer.status_code == 200, answer.json_body
    parse_user = answer.json_body
    assert (
        parse_user["sessionToken"].startswith("r:") and parse_user["email"] == "alice@idp.example"
    )

    me = ParseClient(session_token=parse_user["sessionToken"]).get("users/me")
    assert me.status_code == 200 and me.json_body["objectId"] == parse_user["objectId"]
    assert me.json_body["authData"] == {"oidc": {"id": "oidc-alice"}}
    assert me.json_body["emailVerified"] is True  # the provider vouched for the address
    session = ParseClient(session_token=parse_user["sessionToken"]).get("sessions/me").json_body
    assert session["createdWith"] == {"action": "login", "authProvider": "oidc"}

    # the Parse SDK's authData login with the same identity reaches the same user
    tokens = app_sign_in(idp, MOBILE_CLIENT, "oidc-alice")
    sdk = ParseClient().post(
        "users", {"authData": {"oidc": {"id": "oidc-alice", "id_token": tokens["id_token"]}}}
    )
    assert sdk.status_code == 200 and sdk.json_body["objectId"] == parse_user["objectId"], (
        sdk.json_body
    )


def test_identity_linked_through_parse_first_reaches_the_same_user(
    db: Any, idp: OIDCStandIn
) -> None:
    tokens = app_sign_in(idp, MOBILE_CLIENT, "oidc-bob")
    sdk = ParseClient().post(
        "users", {"authData": {"oidc": {"id": "oidc-bob", "id_token": tokens["id_token"]}}}
    )
    assert sdk.status_code == 201, sdk.json_body

    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, idp, "oidc-bob", "bob@idp.example")
    answer = exchange(browser, **{"X-CSRFToken": csrf_token(browser)})
    assert answer.status_code == 200 and answer.json_body["objectId"] == sdk.json_body["objectId"]
    from allauth.socialaccount.models import SocialAccount

    account = SocialAccount.objects.get(provider=IDP, uid="oidc-bob")
    assert account.user.parse_link.object_id == sdk.json_body["objectId"]
    assert AuthIdentity.objects.filter(provider="oidc", uid="oidc-bob").count() == 1


def test_disconnecting_in_allauth_unlinks_the_parse_identity(db: Any, idp: OIDCStandIn) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, idp, "oidc-carl", "carl@idp.example")
    from allauth.socialaccount.models import SocialAccount

    account = SocialAccount.objects.get(provider=IDP, uid="oidc-carl")
    account.user.set_password(PASSWORD)  # allauth refuses to remove the only way in
    account.user.save()  # ... which logs the browser out: log in again
    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, idp, "oidc-carl", "carl@idp.example")
    assert AuthIdentity.objects.filter(provider="oidc", uid="oidc-carl").exists()
    gone = browser.generic(
        "DELETE",
        "/_allauth/browser/v1/account/providers",
        orjson.dumps({"provider": IDP, "account": "oidc-carl"}),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(browser)},
    )
    assert gone.status_code == 200, body(gone)
    assert not AuthIdentity.objects.filter(provider="oidc", uid="oidc-carl").exists()
    token = exchange(browser, **{"X-CSRFToken": csrf_token(browser)}).json_body["sessionToken"]
    assert "authData" not in ParseClient(session_token=token).get("users/me").json_body


def test_exchange_needs_an_allauth_login_and_the_parse_keys(db: Any, idp: OIDCStandIn) -> None:
    nobody = exchange(Client())
    assert nobody.status_code == 400 and nobody.json_body["code"] == 209, nobody.json_body
    assert "allauth" in nobody.json_body["error"]
    stale = exchange(Client(), **{"X-Session-Token": "not-a-session"})
    assert stale.status_code == 400 and stale.json_body["code"] == 209
    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, idp, "oidc-dora", "dora@idp.example")
    no_keys = browser.post(
        "/parse/allauth/session",
        b"{}",
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(browser)},
    )
    assert no_keys.status_code == 403 and body(no_keys) == {"error": "unauthorized"}


# --- the app client, email sign-up, verification and password reset ----------------------


def test_app_client_email_sign_up_verification_and_exchange(db: Any, mailoutbox: list[Any]) -> None:
    app = AppClient()
    signup = app.call(
        "POST",
        "auth/signup",
        {"email": "erin@example.com", "username": "erin", "password": PASSWORD},
    )
    assert signup.status_code == 401 and "verify_email" in pending_flows(signup), signup.json_body
    assert app.exchange().json_body["code"] == 209  # not logged in until the address is verified
    # the Django user allauth created already has its Parse side (the post_save sync)
    link = UserLink.objects.get(user__username="erin")
    doc = ParseClient(master=True).get(f"users/{link.object_id}").json_body
    assert doc["username"] == "erin" and doc["email"] == "erin@example.com"
    assert not doc.get("emailVerified")

    key = mail_link(r"/account/verify-email/(\S+)")
    verified = app.call("POST", "auth/email/verify", {"key": key})
    assert verified.status_code == 200, verified.json_body
    assert verified.json_body["meta"]["is_authenticated"] is True

    answer = app.exchange()
    assert answer.status_code == 200, answer.json_body
    parse_user = answer.json_body
    assert parse_user["username"] == "erin" and parse_user["email"] == "erin@example.com"
    assert parse_user["emailVerified"] is True
    session = ParseClient(session_token=parse_user["sessionToken"]).get("sessions/me").json_body
    assert session["createdWith"] == {"action": "login", "authProvider": "allauth"}
    # the same user logs in through the Parse API with the same password
    login = ParseClient().post("login", {"username": "erin", "password": PASSWORD})
    assert login.status_code == 200 and login.json_body["objectId"] == parse_user["objectId"]


def test_parse_user_logs_in_through_allauth_and_resets_its_password(
    db: Any, mailoutbox: list[Any]
) -> None:
    parse = ParseClient().post(
        "users", {"username": "fay", "password": PASSWORD, "email": "fay@example.com"}
    )
    assert parse.status_code == 201, parse.json_body
    user_id, parse_token = parse.json_body["objectId"], parse.json_body["sessionToken"]

    app = AppClient()
    login = app.call("POST", "auth/login", {"username": "fay", "password": PASSWORD})
    assert login.status_code == 401 and "verify_email" in pending_flows(login), login.json_body
    verified = app.call(
        "POST", "auth/email/verify", {"key": mail_link(r"/account/verify-email/(\S+)")}
    )
    assert verified.status_code == 200, verified.json_body
    answer = app.exchange()
    assert answer.status_code == 200 and answer.json_body["objectId"] == user_id, answer.json_body
    assert ParseClient(session_token=parse_token).get("users/me").json_body["emailVerified"] is True

    # a password reset through allauth: Parse sessions die, the new password works on both sides
    requested = AppClient().call("POST", "auth/password/request", {"email": "fay@example.com"})
    assert requested.status_code == 200, requested.json_body
    key = mail_link(r"/account/password/reset/key/(\S+)")
    reset = AppClient().call(
        "POST", "auth/password/reset", {"key": key, "password": "a-new-passphrase"}
    )
    assert reset.status_code in (200, 401), reset.json_body
    assert ParseClient(session_token=parse_token).get("users/me").json_body["code"] == 209
    assert (
        ParseClient(session_token=answer.json_body["sessionToken"])
        .get("users/me")
        .json_body["code"]
        == 209
    )
    old = ParseClient().post("login", {"username": "fay", "password": PASSWORD})
    assert old.status_code == 404 and old.json_body["code"] == 101
    new = ParseClient().post("login", {"username": "fay", "password": "a-new-passphrase"})
    assert new.status_code == 200 and new.json_body["objectId"] == user_id

    again = AppClient()
    relogin = again.call(
        "POST", "auth/login", {"email": "fay@example.com", "password": "a-new-passphrase"}
    )
    assert relogin.status_code == 200, relogin.json_body
    assert again.exchange().json_body["objectId"] == user_id


def test_password_change_through_allauth_ends_parse_sessions(
    db: Any, mailoutbox: list[Any]
) -> None:
    parse = ParseClient().post(
        "users", {"username": "gil", "password": PASSWORD, "email": "gil@example.com"}
    )
    assert parse.status_code == 201, parse.json_body
    token = parse.json_body["sessionToken"]
    app = AppClient()
    login = app.call("POST", "auth/login", {"username": "gil", "password": PASSWORD})
    assert login.status_code == 401 and "verify_email" in pending_flows(login), login.json_body
    key = mail_link(r"/account/verify-email/(\S+)")
    assert app.call("POST", "auth/email/verify", {"key": key}).status_code == 200
    changed = app.call(
        "POST",
        "account/password/change",
        {"current_password": PASSWORD, "new_password": "another-passphrase"},
    )
    assert changed.status_code == 200, changed.json_body
    assert ParseClient(session_token=token).get("users/me").json_body["code"] == 209
    login = ParseClient().post("login", {"username": "gil", "password": "another-passphrase"})
    assert login.status_code == 200 and login.json_body["objectId"] == parse.json_body["objectId"]
