"""Fixtures of the migration tests: generated Parse exports, hashers, a GitHub stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.stand_ins.fixtures import github_server  # noqa: F401

from .parse_export import write_both

HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "backend_kit.accounts.hashers.ParseBCryptPasswordHasher",
]
SMALL = {"objects": 3000, "users": 300}
FULL = {"objects": 100_000, "users": 10_000}


@pytest.fixture(scope="session")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parse-export-small")
    write_both(out, **SMALL)
    return out


@pytest.fixture(scope="session")
def full_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parse-export-full")
    write_both(out, **FULL)
    return out


@pytest.fixture
def migration_settings(settings: Any, github_server: Any, tmp_path: Path) -> Any:  # noqa: F811
    """Parse's bcrypt hashes readable, GitHub authData checked against the stand-in,
    files stored in a temporary directory."""
    settings.PASSWORD_HASHERS = HASHERS
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "AUTH_PROVIDERS": {
            "github": {
                "class": "backend_kit.accounts.providers.github.GitHubProvider",
                "api_url": github_server.url,
            }
        },
    }
    return settings
