"""Cloud code in Python: functions, triggers and jobs next to the data.

    from backend_kit import cloud

    @cloud.define("hello", validator={"fields": {"name": {"type": str}}})
    def hello(request):
        return f"Hello {request.params.get('name', 'world')}"

    @cloud.before_save("Review")
    def check_review(request):
        if len(request.object.get("text", "")) > 1000:
            raise cloud.ParseError(142, "review too long")

List the modules in ``BACKEND_KIT["CLOUD_MODULES"]``; they are imported at start-up.
A raised :class:`ParseError` keeps its code; any other exception answers 141 with its
message; a failed validator answers 142.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import Code, ParseError
from .registry import GLOBAL, CloudError, Entry, registry

# Loaded on first use: they reach the models, which cannot be imported while
# Django is still loading apps (this package is an app).
_LAZY = {"CloudRequest": ".request", "Object": ".server", "Query": ".server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)


__all__ = [
    "CloudError",
    "CloudRequest",
    "Code",
    "Object",
    "ParseError",
    "Query",
    "define",
    "job",
    "registry",
    "before_save",
    "after_save",
    "before_delete",
    "after_delete",
    "before_find",
    "after_find",
    "before_login",
    "after_login",
    "after_logout",
    "before_save_file",
    "after_save_file",
    "before_delete_file",
    "after_delete_file",
    "before_connect",
    "before_subscribe",
    "after_live_query_event",
]

Handler = Callable[..., Any]


def define(name: str, *, validator: Any = None) -> Callable[[Handler], Handler]:
    """A cloud function, served at ``POST /functions/<name>``."""

    def register(fn: Handler) -> Handler:
        registry.add_function(Entry(name, fn, validator))
        return fn

    return register


def job(
    name: str,
    *,
    time_limit: int | None = None,
    retries: int = 0,
    retry_backoff: int = 5,
    validator: Any = None,
) -> Callable[[Handler], Handler]:
    """A background job, started with ``POST /jobs/<name>`` (master key) or on a schedule."""

    def register(fn: Handler) -> Handler:
        registry.add_job(
            Entry(
                name,
                fn,
                validator,
                {"time_limit": time_limit, "retries": retries, "retry_backoff": retry_backoff},
            )
        )
        return fn

    return register


def _trigger(trigger: str) -> Callable[..., Callable[[Handler], Handler]]:
    def decorator(
        class_name: str = GLOBAL, *, validator: Any = None
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            registry.add_trigger(
                trigger, class_name, Entry(f"{trigger}:{class_name}", fn, validator)
            )
            return fn

        return register

    decorator.__name__ = trigger
    decorator.__doc__ = f"Register a ``{trigger}`` trigger for a class."
    return decorator


before_save = _trigger("beforeSave")
after_save = _trigger("afterSave")
before_delete = _trigger("beforeDelete")
after_delete = _trigger("afterDelete")
before_find = _trigger("beforeFind")
after_find = _trigger("afterFind")
before_save_file = _trigger("beforeSaveFile")
after_save_file = _trigger("afterSaveFile")
before_delete_file = _trigger("beforeDeleteFile")
after_delete_file = _trigger("afterDeleteFile")
before_subscribe = _trigger("beforeSubscribe")
after_live_query_event = _trigger("afterLiveQueryEvent")


def before_login(*, validator: Any = None) -> Callable[[Handler], Handler]:
    return _trigger("beforeLogin")("_User", validator=validator)


def after_login(*, validator: Any = None) -> Callable[[Handler], Handler]:
    return _trigger("afterLogin")("_User", validator=validator)


def after_logout(*, validator: Any = None) -> Callable[[Handler], Handler]:
    return _trigger("afterLogout")("_Session", validator=validator)


def before_connect(*, validator: Any = None) -> Callable[[Handler], Handler]:
    return _trigger("beforeConnect")(GLOBAL, validator=validator)
