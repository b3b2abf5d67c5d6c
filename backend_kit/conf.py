"""The ``BACKEND_KIT`` settings object.

Every setting lives in one namespaced dict in the host project's settings::

    BACKEND_KIT = {"APP_ID": "myapp", "MASTER_KEY": env("MASTER_KEY")}

Values are read lazily through :data:`bk_settings` and cached; the cache is
dropped on Django's ``setting_changed`` signal so ``override_settings`` works in
tests. Never copy a value into a module or class attribute at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

# Parse Server 9's secure defaults unless noted. Documented in docs/reference/settings.md.
DEFAULTS: dict[str, Any] = {
    # --- identity and keys -------------------------------------------------
    "APP_ID": None,
    "APP_NAME": "backend_kit",
    "MASTER_KEY": None,
    # Client addresses (CIDR) allowed to use the master key; None allows any.
    "MASTER_KEY_IPS": None,
    "READ_ONLY_MASTER_KEY": None,
    # Client keys are enforced only when at least one is configured.
    "JAVASCRIPT_KEY": None,
    "REST_API_KEY": None,
    "CLIENT_KEY": None,
    "DOTNET_KEY": None,
    # Absolute URL of the mount (``https://api.example.com/parse``); used for
    # Location headers, file URLs and links in mails. None: built from the request.
    "SERVER_URL": None,
    "PUBLIC_SERVER_URL": None,
    # --- objects -----------------------------------------------------------
    "ALLOW_CLIENT_CLASS_CREATION": False,
    "ALLOW_CUSTOM_OBJECT_ID": False,
    "DEFAULT_LIMIT": 100,
    "MAX_LIMIT": None,
    "MAX_BODY_SIZE": 20 * 1024 * 1024,
    # threads that run the Parse API's sync views under ASGI (backend_kit.handler); 0: Django's.
    # Few on purpose: past 4 busy threads per process the GIL costs more than it overlaps.
    "REQUEST_THREADS": 4,
    # Seconds a request thread keeps the pooled database connection it took, across
    # requests, before giving it back to the pool (backend_kit.handler); 0: after each.
    "KEEP_DB_CONNECTIONS": 60,
    # Host middleware that acts only on cookies or on pages a browser renders: a Parse
    # request with no Cookie header that does not ask for HTML runs the host's chain
    # without them (backend_kit.handler). [] runs the whole chain for every request.
    "API_SKIPPED_MIDDLEWARE": [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    # On PostgreSQL, send the objects' statements with their parameters apart and let
    # psycopg prepare the ones a connection runs often (backend_kit.objects.prepared).
    # None: on, unless the database sets DISABLE_SERVER_SIDE_CURSORS (transaction pooling).
    "PREPARED_STATEMENTS": None,
    # The ASGI process's garbage collector, set once the app is built (backend_kit.gctuning):
    # freeze what start-up allocated, and collect generation 0 every N allocations.
    # None leaves Python's collector as it is.
    "GC_TUNING": {"FREEZE": True, "THRESHOLDS": [5000, 20, 100]},
    "MAX_OBJECT_SIZE": 4 * 1024 * 1024,
    "MAX_QUERY_DEPTH": 16,
    "MAX_QUERY_CONSTRAINTS": 2000,
    "MAX_IN_VALUES": 10000,
    "MAX_INCLUDE_DEPTH": 10,
    "BATCH_REQUEST_LIMIT": 1000,
    "SANITIZE_PERMISSION_ERRORS": True,
    # Seconds an in-process schema cache entry may be served before it is
    # checked against the shared version counter in Django's cache. 0: checked
    # on every use (one cache read), so schema changes are seen at once by every
    # worker; raise it to trade that for fewer cache reads.
    "SCHEMA_CACHE_TTL": 0.0,
    # Which Django cache alias holds shared counters (schema version, throttles).
    "CACHE_ALIAS": "default",
    # On a Redis cache, each process keeps the schema and role versions it read and a
    # thread listening on Redis drops them when they change (backend_kit.versions): a
    # change waits up to VERSION_PUSH_TIMEOUT seconds for every process to acknowledge;
    # a version changed without a publish is seen within VERSION_POLL_INTERVAL seconds.
    # False: read the cache on every request.
    "VERSION_PUSH": True,
    "VERSION_PUSH_TIMEOUT": 2.0,
    "VERSION_POLL_INTERVAL": 1.0,
    # --- CORS (the Parse API is called from browsers on other origins) ------
    "CORS_ALLOWED_ORIGINS": ["*"],
    "CORS_MAX_AGE": 86400,
    # --- users and sessions (accounts app) ---------------------------------
    "ENFORCE_PRIVATE_USERS": True,
    "SESSION_LENGTH": 31536000,
    "EXPIRE_INACTIVE_SESSIONS": True,
    "REVOKE_SESSION_ON_PASSWORD_RESET": True,
    "VERIFY_USER_EMAILS": False,
    "PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL": False,
    "ALLOW_ANONYMOUS_USERS": True,
    "PROTECTED_USER_FIELDS": ["email"],
    "AUTH_PROVIDERS": {},
    "ACCOUNT_ADAPTER": "backend_kit.accounts.adapter.AccountAdapter",
    # Failed logins per username and attempts per client address: [count, seconds].
    "LOGIN_THROTTLE": {"per_username": [10, 900], "per_ip": [300, 900]},
    "EMAIL_VERIFY_TOKEN_VALIDITY": 7 * 24 * 3600,
    # --- idempotency -------------------------------------------------------
    # Regular expressions over the request path below the mount ("classes/X").
    "IDEMPOTENCY_PATHS": [],
    "IDEMPOTENCY_TTL": 300,
    # --- cloud code --------------------------------------------------------
    "CLOUD_MODULES": [],
    # --- jobs (see backend_kit/jobs/app_settings.py) ------------------------
    "JOBS_RUNNER": "auto",
    "JOBS_CELERY_APP": None,
    "JOBS_QUEUE": None,
    "JOBS_TIME_LIMIT": 3600,
    "JOBS_TIME_LIMIT_GRACE": 30,
    "JOBS_MAX_WORKER_LOSSES": 3,
    "JOBS_REDISPATCH_AFTER": 300,
    # --- realtime (see backend_kit/realtime/settings.py) -------------------
    "LIVE_QUERY": {},
    # --- files (see backend_kit/files/settings.py) -------------------------
    "FILES": {},
    # --- push (see backend_kit/push/app_settings.py) ------------------------
    "PUSH": {},
    # --- guardrails (see backend_kit/guardrails/app_settings.py) -------------
    "GUARDRAILS": {},
    # --- browsable API -----------------------------------------------------
    # A logged-in Django superuser acts with the master key in the browsable API
    # (CSRF-protected). Off in production unless you want it.
    "BROWSABLE_API_SUPERUSER_IS_MASTER": True,
}

# Settings whose values are dotted paths to import.
IMPORT_STRINGS: frozenset[str] = frozenset()

REMOVED_SETTINGS: frozenset[str] = frozenset()


def perform_import(value: Any, setting_name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return import_string(value, setting_name)
    if isinstance(value, (list, tuple)):
        return [import_string(item, setting_name) for item in value]
    return value


def import_string(dotted: str, setting_name: str) -> Any:
    module_path, _, attr = dotted.rpartition(".")
    try:
        return getattr(import_module(module_path), attr)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"Could not import {dotted!r} for BACKEND_KIT[{setting_name!r}]: {exc}")


class BackendKitSettings:
    """Attribute access to ``settings.BACKEND_KIT`` with defaults, read lazily."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = defaults or DEFAULTS
        self._cached: set[str] = set()
        self._user_settings: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user_settings is None:
            value = getattr(settings, "BACKEND_KIT", {}) or {}
            # not a dict: defaults only, and check backend_kit.E000 reports it
            self._user_settings = dict(value) if isinstance(value, dict) else {}
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid backend_kit setting: {name!r}")
        value = self.user_settings.get(name, self.defaults[name])
        if name in IMPORT_STRINGS:
            value = perform_import(value, name)
        self._cached.add(name)
        setattr(self, name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    def reload(self) -> None:
        for name in self._cached:
            delattr(self, name)
        self._cached.clear()
        self._user_settings = None


bk_settings = BackendKitSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "BACKEND_KIT":
        bk_settings.reload()


setting_changed.connect(_reload)
