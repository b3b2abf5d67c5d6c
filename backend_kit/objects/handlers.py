"""Per-class handlers for system classes with rules of their own.

``/classes/_User`` behaves like ``/users``, ``/classes/_Session`` like ``/sessions``:
the app that owns such a class registers a handler here (accounts registers
``_User``, ``_Role`` and ``_Session``; push registers ``_Installation``). A handler
has the functions of :mod:`backend_kit.objects.reads` / ``writes`` it overrides:
``find``, ``get``, ``create``, ``update``, ``delete`` and optionally ``purge``.
"""

from __future__ import annotations

from typing import Any

_handlers: dict[str, Any] = {}
# class name -> fn(ctx, obj) -> obj: applied to every object of the class read by
# anyone, including through ``include`` (e.g. _User hides authData from others).
_output_filters: dict[str, Any] = {}


def register_output_filter(class_name: str, fn: Any) -> None:
    _output_filters[class_name] = fn


def output_filter(class_name: str) -> Any:
    return _output_filters.get(class_name)


def register(class_name: str, handler: Any) -> None:
    _handlers[class_name] = handler


def unregister(class_name: str) -> None:
    _handlers.pop(class_name, None)


def handler_for(class_name: str) -> Any:
    return _handlers.get(class_name)


class ClassHandler:
    """Base for per-class handlers: everything delegates to the generic code."""

    def find(self, ctx: Any, class_name: str, params: dict[str, Any]) -> dict[str, Any]:
        from . import reads

        return reads.find(ctx, class_name, params)

    def get(
        self, ctx: Any, class_name: str, object_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        from . import reads

        return reads.get(ctx, class_name, object_id, params)

    def create(self, ctx: Any, class_name: str, body: Any) -> Any:
        from . import writes

        return writes.create(ctx, class_name, body)

    def update(self, ctx: Any, class_name: str, object_id: str, body: Any) -> Any:
        from . import writes

        return writes.update(ctx, class_name, object_id, body)

    def delete(self, ctx: Any, class_name: str, object_id: str) -> dict[str, Any]:
        from . import writes

        return writes.delete(ctx, class_name, object_id)
