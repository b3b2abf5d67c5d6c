"""authData providers: who vouches for ``authData.<provider>``.

Providers are listed in ``BACKEND_KIT["AUTH_PROVIDERS"]``, each a dict with the dotted
``class`` of an :class:`~backend_kit.accounts.providers.base.AuthProvider` and its
options::

    "AUTH_PROVIDERS": {
        "google": {"class": "backend_kit.accounts.providers.google.GoogleProvider",
                   "client_ids": ["1234.apps.googleusercontent.com"]},
    }

``anonymous`` is built in and enabled by ``ALLOW_ANONYMOUS_USERS``.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ...conf import bk_settings
from .base import AuthProvider

_cache: dict[str, AuthProvider] | None = None


def _build() -> dict[str, AuthProvider]:
    from .anonymous import AnonymousProvider

    registry: dict[str, AuthProvider] = {}
    if bk_settings.ALLOW_ANONYMOUS_USERS:
        registry["anonymous"] = AnonymousProvider("anonymous", {})
    for name, options in (bk_settings.AUTH_PROVIDERS or {}).items():
        if options is None or options is False:
            registry.pop(name, None)
            continue
        options = dict(options)
        cls = options.pop("class", None)
        if cls is None:
            raise ValueError(f"BACKEND_KIT['AUTH_PROVIDERS'][{name!r}] needs a 'class'")
        provider_cls = import_string(cls) if isinstance(cls, str) else cls
        registry[name] = provider_cls(name, options)
    return registry


def get_provider(name: str) -> AuthProvider | None:
    global _cache
    if _cache is None:
        _cache = _build()
    return _cache.get(name)


def reset(**kwargs: Any) -> None:
    global _cache
    if kwargs.get("setting") in (None, "BACKEND_KIT"):
        _cache = None


setting_changed.connect(reset)


def for_allauth(allauth_provider_id: str) -> AuthProvider | None:
    """The Parse provider that vouches for the accounts of an allauth provider, if any."""
    global _cache
    if _cache is None:
        _cache = _build()
    for provider in _cache.values():
        if allauth_provider_id in provider.allauth_provider_ids:
            return provider
    return None
