"""Conformance modes (``BACKEND_KIT_CONFORMANCE=1`` or ``sdk``).

The fixtures against which Parse compatibility is judged from outside
(../shared/CONFORMANCE_FIXTURES.md). Each capability adds its part here.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PROVIDERS = "example_project.auth_providers."

# Push in both modes: a recording transport that takes ios, android and web devices and
# reports every targeted installation as sent (readable per push with
# backend_kit.push.transports.local.recorded); _PushStatus reaches "succeeded".
_RECORDING = {"BACKEND": "backend_kit.push.transports.local.RecordingTransport"}
RECORDED_PUSH = {"TRANSPORTS": {"ios": _RECORDING, "android": _RECORDING, "web": _RECORDING}}

# Parse Server options the SDK suite's reconfigureServer() passes, and the settings
# they are (tests/live/sdksuite_server.sh hands them over as BACKEND_KIT_SDK_OVERRIDES).
SDK_OPTIONS = {
    "allowCustomObjectId": "ALLOW_CUSTOM_OBJECT_ID",
    "appName": "APP_NAME",
    "publicServerURL": "PUBLIC_SERVER_URL",
    "verifyUserEmails": "VERIFY_USER_EMAILS",
    "preventLoginWithUnverifiedEmail": "PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL",
}


def sdk_overrides(raw: str) -> dict[str, Any]:
    """BACKEND_KIT settings for a JSON object of Parse Server options (empty: none)."""
    options = json.loads(raw) if raw.strip() else {}
    if not isinstance(options, dict):
        raise ImproperlyConfigured("BACKEND_KIT_SDK_OVERRIDES must be a JSON object")
    unknown = sorted(set(options) - set(SDK_OPTIONS))
    if unknown:
        raise ImproperlyConfigured(f"no setting for the Parse Server options {unknown}")
    return {SDK_OPTIONS[name]: value for name, value in options.items()}


def _live_test_oidc_provider() -> dict[str, Any]:
    """``oidc``, only when the live harness (tests/live) names its local OIDC stand-in.

    ``BACKEND_KIT_TEST_OIDC_ISSUER``, ``..._JWKS_URL`` and ``..._CLIENT_ID`` together
    enable it; without them conformance mode has the ``conformance`` provider alone.
    """
    names = ("ISSUER", "JWKS_URL", "CLIENT_ID")
    values = [os.environ.get(f"BACKEND_KIT_TEST_OIDC_{name}") for name in names]
    if not all(values):
        return {}
    issuer, jwks_url, client_id = values
    return {
        "oidc": {
            "class": "backend_kit.accounts.providers.oidc.OIDCProvider",
            "issuer": issuer,
            "jwks_url": jwks_url,
            "client_ids": [client_id],
            "allauth_provider": None,  # a Parse-only identity
        }
    }


def apply(settings: dict[str, Any], mode: str) -> None:
    kit = settings["BACKEND_KIT"]
    # Parse Server has no password policy by default; clients rely on that.
    settings["AUTH_PASSWORD_VALIDATORS"] = []
    kit["ACCOUNT_ADAPTER"] = "example_project.mail.RecordingAdapter"
    if mode == "sdk":
        kit.update(
            {
                "APP_ID": "integration",
                "APP_NAME": "integration",
                "MASTER_KEY": "notsosecret",
                "JAVASCRIPT_KEY": None,
                "REST_API_KEY": None,
                "SERVER_URL": "http://localhost:1337/parse",
                "ALLOW_CLIENT_CLASS_CREATION": True,
                "ALLOW_CUSTOM_OBJECT_ID": False,
                "REVOKE_SESSION_ON_PASSWORD_RESET": False,
                "ALLOW_ANONYMOUS_USERS": True,
                "IDEMPOTENCY_PATHS": [
                    "functions/CloudFunctionIdempotency",
                    "jobs/CloudJob1",
                    "classes/IdempotentTest",
                ],
                "IDEMPOTENCY_TTL": 120,
                "AUTH_PROVIDERS": {
                    "myAuth": {"class": PROVIDERS + "AcceptAnyProvider"},
                    "twitter": {"class": PROVIDERS + "AcceptAnyProvider"},
                    "facebook": {"class": PROVIDERS + "FacebookTestProvider"},
                },
                # the suite logs in and out hundreds of times from one address
                "LOGIN_THROTTLE": {"per_username": None, "per_ip": None},
                "CLOUD_MODULES": ["example_project.cloud_sdk"],
                # the suite uploads as the public and as anonymous users; it counts the
                # jobs, so the clean-up job is not registered
                "FILES": {
                    **kit.get("FILES", {}),
                    "ENABLE_FOR_PUBLIC": True,
                    "ENABLE_FOR_ANONYMOUS": True,
                    "ENABLE_FOR_AUTHENTICATED": True,
                    "CLEANUP_JOB": None,
                },
                "LIVE_QUERY": {"CLASSES": ["TestObject", "DiffObject"]},
                "PUSH": RECORDED_PUSH,
            }
        )
        settings["ALLOWED_HOSTS"] = ["*"]
        kit.update(sdk_overrides(os.environ.get("BACKEND_KIT_SDK_OVERRIDES", "")))
        return
    # mode "1": Parse Server 9's secure defaults with the conformance fixtures
    kit.update(
        {
            "APP_NAME": "conformance",
            "ALLOW_CLIENT_CLASS_CREATION": False,
            "ALLOW_ANONYMOUS_USERS": True,
            "AUTH_PROVIDERS": {
                "conformance": {"class": PROVIDERS + "ConformanceProvider"},
                **_live_test_oidc_provider(),
            },
            "LOGIN_THROTTLE": {"per_username": [10, 900], "per_ip": None},
            "CLOUD_MODULES": ["example_project.cloud_conformance"],
            # Parse Server 9's upload rules (the files app's defaults): no public or
            # anonymous uploads, html/htm/svg... refused for non-master callers
            "FILES": {**kit.get("FILES", {}), "CLEANUP_JOB": None},
            "LIVE_QUERY": {"CLASSES": ["LQItem", "LQOther"]},
            "PUSH": RECORDED_PUSH,
        }
    )
