"""Settings of the import benchmark (see import_rate.py): the test project's apps and
the database named by ``BENCH_DATABASE_URL`` (a PostgreSQL database or a SQLite file)."""

import os

import dj_database_url

from tests.projects.base import *  # noqa: F403

DATABASES = {"default": dj_database_url.parse(os.environ["BENCH_DATABASE_URL"], conn_max_age=0)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # as the SQLite test settings: WAL, writers queue
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
    }
