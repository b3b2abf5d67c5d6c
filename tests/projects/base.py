"""Settings shared by the test projects (one module per configuration)."""

from __future__ import annotations

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.projects.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
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
    "django_celery_beat",
    "backend_kit.jobs",
]

import importlib.util  # noqa: E402

if importlib.util.find_spec("push_notifications") is not None:
    INSTALLED_APPS += ["push_notifications", "backend_kit.push"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    # users imported from Parse Server keep their bcrypt passwords (bk_import)
    "backend_kit.accounts.hashers.ParseBCryptPasswordHasher",
]
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {
    "TITLE": "backend_kit tests",
    "VERSION": "test",
    "SERVE_INCLUDE_SCHEMA": False,
}
BACKEND_KIT = {
    "APP_ID": "test-app",
    "MASTER_KEY": "test-master-key",
    "JAVASCRIPT_KEY": "test-js-key",
    "REST_API_KEY": "test-rest-key",
    "SERVER_URL": "http://testserver/parse",
}

# --- django-allauth headless beside the Parse API (only when allauth is installed) -------
if importlib.util.find_spec("allauth") is not None:
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
    ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
    ACCOUNT_RATE_LIMITS = False
    SOCIALACCOUNT_PROVIDERS: dict = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []}}
    HEADLESS_FRONTEND_URLS = {
        "account_confirm_email": "https://app.example/account/verify-email/{key}",
        "account_reset_password": "https://app.example/account/password/reset",
        "account_reset_password_from_key": "https://app.example/account/password/reset/key/{key}",
        "account_signup": "https://app.example/account/signup",
        "socialaccount_login_error": "https://app.example/account/provider/callback",
    }

# --- guardrails: audit trail, rate limits, quotas, metrics (tests/guardrails) -------------
INSTALLED_APPS += ["backend_kit.guardrails"]
MIDDLEWARE += ["backend_kit.guardrails.middleware.GuardrailsMiddleware"]
