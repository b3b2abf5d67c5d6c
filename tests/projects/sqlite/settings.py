import os
import tempfile

from ..base import *  # noqa: F403

# The test database is a file, not Django's shared in-memory database: the in-process
# job runner, realtime and live-server tests use it from several threads, and SQLite's
# shared cache answers "table is locked" at once where a file waits for its turn (WAL
# lets readers run beside the writer; IMMEDIATE makes writers queue rather than fail).
_TEST_DB = os.path.join(tempfile.gettempdir(), f"backend_kit-test-{os.getpid()}.sqlite3")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
        },
        "TEST": {"NAME": _TEST_DB},
    }
}
