"""The local OpenID Connect provider of the live run.

Serves ``tests/stand_ins/oidc.py`` (RS256 ID tokens, a real JWKS) on a loopback port
in a thread of the harness, with one public client (PKCE). The server learns of it
through ``BACKEND_KIT_TEST_OIDC_*`` (conformance mode then enables the ``oidc``
provider, see example_project/conformance.py); the SDK suite through
``PARSE_TEST_OIDC_*``, and signs in at it with the authorization code flow.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "bk-live-sdk"


@dataclass
class OIDCStandInEnv:
    server_env: dict[str, str]  # for the example project
    client_env: dict[str, str]  # for the SDK suite


@contextmanager
def oidc_stand_in() -> Iterator[OIDCStandInEnv]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.stand_ins.oidc import OIDCStandIn

    provider = OIDCStandIn().start()
    provider.register_client(CLIENT_ID)  # no secret: a public client, PKCE required
    try:
        yield OIDCStandInEnv(
            server_env={
                "BACKEND_KIT_TEST_OIDC_ISSUER": provider.issuer,
                "BACKEND_KIT_TEST_OIDC_JWKS_URL": f"{provider.url}/jwks",
                "BACKEND_KIT_TEST_OIDC_CLIENT_ID": CLIENT_ID,
            },
            client_env={
                "PARSE_TEST_OIDC_ISSUER": provider.issuer,
                "PARSE_TEST_OIDC_CLIENT_ID": CLIENT_ID,
            },
        )
    finally:
        provider.stop()
