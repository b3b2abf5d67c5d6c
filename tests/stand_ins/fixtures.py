"""Fixtures that start the stand-ins (import them into a test module to use them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .facebook import FacebookStandIn
from .github import GitHubStandIn
from .oidc import OIDCStandIn


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OIDCStandIn]:
    server = OIDCStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def github_server() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def facebook_server() -> Iterator[FacebookStandIn]:
    server = FacebookStandIn().start()
    yield server
    server.stop()
