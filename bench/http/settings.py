"""Settings of the backend_kit server under benchmark.

The example project as deployed (``DATABASE_URL`` on PostgreSQL with the psycopg pool,
``REDIS_URL`` for the shared cache, ``DEBUG=0``: all from the environment), with two
changes that keep the comparison with Parse Server about the servers:

* passwords hashed with bcrypt at cost 10, Parse Server's cost (``hashers.py``);
* no per-address login throttle: every benchmark request comes from 127.0.0.1, and
  Parse Server throttles nothing by default. Failed logins per username still count.

``BENCH_BACKEND_KIT`` (a JSON object in the environment) overrides ``BACKEND_KIT``
entries, to measure a setting on and off: ``BENCH_BACKEND_KIT='{"KEEP_DB_CONNECTIONS": 0}'
python3 bench/run.py --cpu --instructions --ops get``.
"""

import json
import os

from example_project.settings import *  # noqa: F403
from example_project.settings import BACKEND_KIT

PASSWORD_HASHERS = ["bench.http.hashers.BCryptSHA256Cost10PasswordHasher"]
BACKEND_KIT = {**BACKEND_KIT, "LOGIN_THROTTLE": {"per_username": [10, 900], "per_ip": None}}
BACKEND_KIT.update(json.loads(os.environ.get("BENCH_BACKEND_KIT") or "{}"))
