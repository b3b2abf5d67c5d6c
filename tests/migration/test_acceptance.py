"""Issue 9's acceptance: a Parse export imported with ``bk_import`` answers queries as the
export does, and its users log in with their old passwords and authData.

The fast variant (3,000 objects, 300 users) runs in every test run; the full one
(100,000 objects, 10,000 users) is marked ``slow``. Both import the REST export and the
MongoDB export of the same data and compare with the oracle computed from the REST files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backend_kit.objects.models import ParseObject

from . import checks

FORMATS = ["rest", "mongo"]


@pytest.mark.parametrize("form", FORMATS)
def test_small_export(
    db: Any, migration_settings: Any, github_server: Any, small_export: Path, form: str
) -> None:
    export, _ = checks.check_everything(
        small_export / form, small_export / "rest", github_server, every=7
    )
    # importing again changes nothing and duplicates no one
    stored = ParseObject.objects.count()
    out, _, _ = checks.import_export(small_export / form, "--sessions")
    total = out.splitlines()[-1]
    assert " 0 created" in total and " 0 errors" in total, out
    assert ParseObject.objects.count() == stored
    assert get_user_model().objects.count() == len(export.classes["_User"])


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMATS)
def test_full_export(
    db: Any, migration_settings: Any, github_server: Any, full_export: Path, form: str
) -> None:
    checks.check_everything(full_export / form, full_export / "rest", github_server, every=250)
