import importlib
import sys

import pytest

from backend_kit.cloud import registry


@pytest.fixture
def conformance_cloud():
    """The conformance mode's cloud code, registered for one test."""
    snap = registry.snapshot()
    registry.clear()
    sys.modules.pop("example_project.cloud_conformance", None)
    importlib.import_module("example_project.cloud_conformance")
    yield registry
    registry.restore(snap)
