"""Settings of the example host project.

Everything comes from the environment, with demo defaults that
``python manage.py check --deploy`` flags:

``BACKEND_KIT_APP_ID``, ``BACKEND_KIT_MASTER_KEY``, ``BACKEND_KIT_JAVASCRIPT_KEY``,
``BACKEND_KIT_REST_API_KEY``, ``BACKEND_KIT_SERVER_URL``, ``DATABASE_URL`` (PostgreSQL;
SQLite when unset), ``REDIS_URL`` (cache, channel layer, Celery broker; in-process when
unset), ``DEBUG``, ``DJANGO_SECRET_KEY``, ``ALLOWED_HOSTS``, and
``BACKEND_KIT_CONFORMANCE`` (``1`` or ``sdk``: see ``conformance.py``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BACKEND_KIT_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-demo-only-change-me")
ALLOWED_HOSTS = [
    h
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
    if h
]

INSTALLED_APPS = [
    *(["daphne"] if installed("daphne") else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "backend_kit",
    "backend_kit.objects",
    "backend_kit.accounts",
    "backend_kit.cloud",
    "backend_kit.files",
    *(["backend_kit.realtime"] if installed("channels") else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3 connection pool: the production shape (Django 5.1+).
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
                "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
                "timeout": 10,
            },
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(DATA_DIR / "db.sqlite3")),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# LiveQuery fans out across ASGI processes through Redis. redis-py 8 times reads out
# after 5 s, exactly as long as channels-redis' blocking pops wait: socket_timeout=None.
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django's default hashers, then the one that reads the bcrypt hashes of users imported
# from Parse Server (bk_import); each such user is re-hashed with PBKDF2 at first login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "backend_kit.accounts.hashers.ParseBCryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"

REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {
    "TITLE": "backend_kit Parse API",
    "DESCRIPTION": "The Parse Server wire protocol served by backend_kit.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

BACKEND_KIT = {
    "APP_ID": os.environ.get("BACKEND_KIT_APP_ID", "demo-app"),
    "MASTER_KEY": os.environ.get("BACKEND_KIT_MASTER_KEY", "demo-master-key"),
    "JAVASCRIPT_KEY": os.environ.get("BACKEND_KIT_JAVASCRIPT_KEY", "demo-js-key"),
    "REST_API_KEY": os.environ.get("BACKEND_KIT_REST_API_KEY", "demo-rest-key"),
    "SERVER_URL": os.environ.get("BACKEND_KIT_SERVER_URL", "http://127.0.0.1:8000/parse"),
    # threads per process for the Parse API's views (backend_kit.handler)
    "REQUEST_THREADS": int(os.environ.get("BACKEND_KIT_REQUEST_THREADS", "4")),
}

# --- jobs: Celery workers and beat (the "jobs" extra) ------------------------------------
# Broker from ``CELERY_BROKER_URL`` or ``REDIS_URL`` (RabbitMQ: ``amqp://...``). With
# neither, jobs run in threads of the web process, so the demo needs no Redis.
#   celery -A example_project worker -l info
#   celery -A example_project beat -l info
if installed("django_celery_beat"):
    INSTALLED_APPS += ["django_celery_beat", "backend_kit.jobs"]
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL
    # Redis hands an unacknowledged message to another worker after this long: keep it
    # above the longest job time limit plus its grace, or long jobs run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_TASK_IGNORE_RESULT = True
    # With late acks a worker should not hold messages it is not working on.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
    CELERY_TIMEZONE = TIME_ZONE
    BACKEND_KIT["JOBS_CELERY_APP"] = "example_project.celery.app"
    # The conformance harnesses start the web server only, no worker: jobs run in
    # threads there unless BACKEND_KIT_JOBS_RUNNER says otherwise.
    BACKEND_KIT["JOBS_RUNNER"] = os.environ.get(
        "BACKEND_KIT_JOBS_RUNNER",
        "thread" if os.environ.get("BACKEND_KIT_CONFORMANCE") else "auto",
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "backend_kit": {
            "handlers": ["console"],
            "level": os.environ.get("BACKEND_KIT_LOG_LEVEL", "WARNING"),
        },
    },
}

# --- django-allauth headless beside the Parse API (the "social" extra) -------------------
# Web and mobile clients log in through allauth (``/_allauth/...``), then trade that login
# for a Parse session at ``POST /parse/allauth/session``. An OpenID Connect provider is
# configured from ``OIDC_SERVER_URL``, ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET`` (and
# ``OIDC_PROVIDER_ID``); its accounts are the Parse ``authData.oidc`` identities.
# ``FRONTEND_URL`` is where allauth's mails send people (verify email, reset password).
ALLAUTH = installed("allauth.headless")
if ALLAUTH:
    INSTALLED_APPS += [
        "allauth",
        "allauth.account",
        "allauth.socialaccount",
        "allauth.socialaccount.providers.openid_connect",
        "allauth.headless",
    ]
    MIDDLEWARE += ["allauth.account.middleware.AccountMiddleware"]
    AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]
    ACCOUNT_LOGIN_METHODS = {"email", "username"}
    ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*"]
    ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
    ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
    if DEBUG and "EMAIL_BACKEND" not in globals():
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    _frontend = os.environ.get("FRONTEND_URL", "http://127.0.0.1:8000").rstrip("/")
    HEADLESS_FRONTEND_URLS = {
        "account_confirm_email": _frontend + "/account/verify-email/{key}",
        "account_reset_password": _frontend + "/account/password/reset",
        "account_reset_password_from_key": _frontend + "/account/password/reset/key/{key}",
        "account_signup": _frontend + "/account/signup",
        "socialaccount_login_error": _frontend + "/account/provider/callback",
    }
    SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []}}
    if os.environ.get("OIDC_SERVER_URL") and os.environ.get("OIDC_CLIENT_ID"):
        _oidc_id = os.environ.get("OIDC_PROVIDER_ID", "oidc")
        SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
            {
                "provider_id": _oidc_id,
                "name": os.environ.get("OIDC_PROVIDER_NAME", "OpenID Connect"),
                "client_id": os.environ["OIDC_CLIENT_ID"],
                "secret": os.environ.get("OIDC_CLIENT_SECRET", ""),
                "settings": {"server_url": os.environ["OIDC_SERVER_URL"]},
            }
        )
        BACKEND_KIT["AUTH_PROVIDERS"] = {
            "oidc": {
                "class": "backend_kit.accounts.providers.oidc.OIDCProvider",
                "issuer": os.environ["OIDC_SERVER_URL"],
                "client_ids": os.environ.get(
                    "OIDC_APP_CLIENT_IDS", os.environ["OIDC_CLIENT_ID"]
                ).split(","),
                "allauth_provider": _oidc_id,
            }
        }

# --- files (backend_kit.files) -----------------------------------------------------------
# Local disk under MEDIA_ROOT by default, served by the app. ``FILES_S3_BUCKET`` moves them
# to S3 (the "s3" extra; ``AWS_S3_ENDPOINT_URL`` for an S3-compatible store, credentials
# from the usual AWS variables), ``FILES_CDN_URL`` puts public files on a CDN domain and
# ``FILES_CLOUDFRONT_KEY_ID`` + ``FILES_CLOUDFRONT_KEY_FILE`` sign private ones for it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("FILES_S3_BUCKET"):
    STORAGES["backend_kit_files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["FILES_S3_BUCKET"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("FILES_S3_PREFIX", ""),
        },
    }
BACKEND_KIT["FILES"] = {
    "MAX_SIZE": int(os.environ.get("FILES_MAX_SIZE", 20 * 1024 * 1024)),
    "CDN_URL": os.environ.get("FILES_CDN_URL") or None,
    # POST /jobs/bk_files_cleanup {"delete": true} with the master key, or a schedule
    "CLEANUP_JOB": "bk_files_cleanup",
}
if os.environ.get("FILES_CLOUDFRONT_KEY_ID") and os.environ.get("FILES_CLOUDFRONT_KEY_FILE"):
    BACKEND_KIT["FILES"]["CLOUDFRONT_KEY_ID"] = os.environ["FILES_CLOUDFRONT_KEY_ID"]
    BACKEND_KIT["FILES"]["CLOUDFRONT_KEY"] = Path(
        os.environ["FILES_CLOUDFRONT_KEY_FILE"]
    ).read_text()

# --- the demo task board (example_project/web) -------------------------------------------
# Served at / (``python3 dev.py demo``); its cloud code, the Task class with its permissions
# and the admin-only ``boardStats``, is in cloud_demo.py. The conformance modes replace both.
WEB_DIR = BASE_DIR / "example_project" / "web"
TEMPLATES[0]["DIRS"].append(WEB_DIR / "templates")
STATICFILES_DIRS = [WEB_DIR / "static"]
BACKEND_KIT["CLOUD_MODULES"] = ["example_project.cloud_demo"]
BACKEND_KIT["LIVE_QUERY"] = {"CLASSES": ["Task"]}

# --- push (backend_kit.push, the "push" extra) ------------------------------------------
# Installations and POST /push. Each provider is configured from the environment; a
# device type without one is logged, not sent (the demo). Sending runs where jobs run
# (Celery workers, or threads without a broker); beat starts scheduled pushes.
#   APNs:     PUSH_APNS_KEY_FILE, PUSH_APNS_KEY_ID, PUSH_APNS_TEAM_ID, PUSH_APNS_TOPIC,
#             PUSH_APNS_SANDBOX=1 for development builds
#   FCM:      PUSH_FCM_CREDENTIALS (the service account JSON file)
#   Web Push: PUSH_VAPID_PRIVATE_KEY (PEM or a file), PUSH_VAPID_SUBJECT (mailto:...)
if installed("push_notifications") and "backend_kit.jobs" in INSTALLED_APPS:
    INSTALLED_APPS += ["push_notifications", "backend_kit.push"]
    _logged = {"BACKEND": "backend_kit.push.transports.local.LoggingTransport"}
    _push_transports = {"ios": _logged, "android": _logged, "web": _logged}
    if os.environ.get("PUSH_APNS_KEY_FILE"):
        _push_transports["ios"] = {
            "BACKEND": "backend_kit.push.transports.apns.APNsTransport",
            "OPTIONS": {
                "KEY_FILE": os.environ["PUSH_APNS_KEY_FILE"],
                "KEY_ID": os.environ.get("PUSH_APNS_KEY_ID"),
                "TEAM_ID": os.environ.get("PUSH_APNS_TEAM_ID"),
                "TOPIC": os.environ.get("PUSH_APNS_TOPIC"),
                "USE_SANDBOX": env_bool("PUSH_APNS_SANDBOX", False),
            },
        }
    if os.environ.get("PUSH_FCM_CREDENTIALS"):
        _push_transports["android"] = {
            "BACKEND": "backend_kit.push.transports.fcm.FCMTransport",
            "OPTIONS": {"CREDENTIALS": os.environ["PUSH_FCM_CREDENTIALS"]},
        }
    if os.environ.get("PUSH_VAPID_PRIVATE_KEY"):
        _push_transports["web"] = {
            "BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
            "OPTIONS": {
                "VAPID_PRIVATE_KEY": os.environ["PUSH_VAPID_PRIVATE_KEY"],
                "VAPID_CLAIMS": {
                    "sub": os.environ.get("PUSH_VAPID_SUBJECT", "mailto:ops@example.com")
                },
            },
        }
    BACKEND_KIT["PUSH"] = {"TRANSPORTS": _push_transports}
    # DatabaseScheduler copies this into its schedule: the scheduled-push sweep
    CELERY_BEAT_SCHEDULE = {
        "backend_kit-push-due": {"task": "backend_kit.push.due", "schedule": 60.0},
    }

# --- guardrails: audit trail, rate limits, usage caps, metrics, deep health ------------------
# On by default: master, admin, schema and config changes are audited; limits and caps
# are set in BACKEND_KIT["GUARDRAILS"] (docs/guardrails/). The Prometheus endpoint needs
# the "metrics" extra.
INSTALLED_APPS += ["backend_kit.guardrails"]
MIDDLEWARE += ["backend_kit.guardrails.middleware.GuardrailsMiddleware"]

CONFORMANCE = os.environ.get("BACKEND_KIT_CONFORMANCE", "")
if CONFORMANCE:
    from .conformance import apply as _apply_conformance

    _apply_conformance(globals(), CONFORMANCE)
