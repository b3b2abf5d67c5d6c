"""The objects app's trigger seam (:class:`backend_kit.objects.hooks.Triggers`),
answered from the cloud registry."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..objects.hooks import Triggers
from .registry import GLOBAL, registry
from .request import CloudRequest
from .runner import run, run_after
from .server import Object, Query


class CloudTriggers(Triggers):
    def has(self, trigger: str, class_name: str) -> bool:
        return registry.trigger(trigger, class_name) is not None

    def _entry(self, trigger: str, class_name: str) -> Any:
        return registry.trigger(trigger, class_name)

    def before_save(
        self,
        ctx: RequestContext,
        class_name: str,
        obj: dict[str, Any],
        original: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        entry = self._entry("beforeSave", class_name)
        if entry is None:
            return None
        request = CloudRequest(
            ctx=ctx,
            trigger_name="beforeSave",
            object=Object.from_api(class_name, obj),
            original=Object.from_api(class_name, original) if original else None,
        )
        result = run(entry, request)
        target = result if isinstance(result, Object) else request.object
        assert target is not None
        return target.to_json()

    def after_save(
        self,
        ctx: RequestContext,
        class_name: str,
        obj: dict[str, Any],
        original: dict[str, Any] | None,
    ) -> None:
        entry = self._entry("afterSave", class_name)
        if entry is not None:
            run_after(
                entry,
                CloudRequest(
                    ctx=ctx,
                    trigger_name="afterSave",
                    object=Object.from_api(class_name, obj),
                    original=Object.from_api(class_name, original) if original else None,
                ),
            )

    def before_delete(self, ctx: RequestContext, class_name: str, obj: dict[str, Any]) -> None:
        entry = self._entry("beforeDelete", class_name)
        if entry is not None:
            run(
                entry,
                CloudRequest(
                    ctx=ctx, trigger_name="beforeDelete", object=Object.from_api(class_name, obj)
                ),
            )

    def after_delete(self, ctx: RequestContext, class_name: str, obj: dict[str, Any]) -> None:
        self._on_object(ctx, "afterDelete", class_name, obj, after=True)

    def _on_object(
        self,
        ctx: RequestContext,
        trigger: str,
        class_name: str,
        obj: dict[str, Any],
        *,
        after: bool,
    ) -> None:
        """Run ``trigger``'s handler of ``class_name`` (if any) on ``obj``."""
        entry = self._entry(trigger, class_name)
        if entry is not None:
            request = CloudRequest(
                ctx=ctx, trigger_name=trigger, object=Object.from_api(class_name, obj)
            )
            (run_after if after else run)(entry, request)

    def before_find(
        self,
        ctx: RequestContext,
        class_name: str,
        query: dict[str, Any],
        *,
        count: bool,
        is_get: bool,
    ) -> dict[str, Any]:
        entry = self._entry("beforeFind", class_name)
        if entry is None:
            return query
        request = CloudRequest(
            ctx=ctx,
            trigger_name="beforeFind",
            query=Query.from_dict(class_name, query),
            count=count,
            is_get=is_get,
        )
        result = run(entry, request)
        target = result if isinstance(result, Query) else request.query
        assert target is not None
        out = dict(query)
        out.update(target.to_dict())
        return out

    def after_find(
        self, ctx: RequestContext, class_name: str, objects: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        entry = self._entry("afterFind", class_name)
        if entry is None:
            return objects
        wrapped = [Object.from_api(class_name, o) for o in objects]
        request = CloudRequest(ctx=ctx, trigger_name="afterFind", objects=wrapped)
        result = run(entry, request)
        final = result if isinstance(result, list) else request.objects or []
        return [o.to_json() if isinstance(o, Object) else o for o in final]

    def before_login(self, ctx: RequestContext, user: dict[str, Any]) -> None:
        self._on_object(ctx, "beforeLogin", "_User", user, after=False)

    def after_login(self, ctx: RequestContext, user: dict[str, Any]) -> None:
        self._on_object(ctx, "afterLogin", "_User", user, after=True)

    def after_logout(self, ctx: RequestContext, session: dict[str, Any]) -> None:
        self._on_object(ctx, "afterLogout", "_Session", session, after=True)

    # --- files -----------------------------------------------------------------------
    # Registered without a class (``@cloud.before_save_file()``). Handlers get the file
    # description in ``request.extra["file"]`` (and its size in ``request.extra["file_size"]``);
    # a before-save handler may change it in place or return a new dict.

    def _file_request(self, ctx: RequestContext, trigger: str, file: dict[str, Any]) -> Any:
        return CloudRequest(
            ctx=ctx, trigger_name=trigger, extra={"file": file, "file_size": file.get("size")}
        )

    def before_save_file(self, ctx: RequestContext, file: dict[str, Any]) -> dict[str, Any] | None:
        entry = self._entry("beforeSaveFile", GLOBAL)
        if entry is None:
            return None
        request = self._file_request(ctx, "beforeSaveFile", dict(file))
        result = run(entry, request)
        return result if isinstance(result, dict) else request.extra["file"]

    def after_save_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        entry = self._entry("afterSaveFile", GLOBAL)
        if entry is not None:
            run_after(entry, self._file_request(ctx, "afterSaveFile", dict(file)))

    def before_delete_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        entry = self._entry("beforeDeleteFile", GLOBAL)
        if entry is not None:
            run(entry, self._file_request(ctx, "beforeDeleteFile", dict(file)))

    def after_delete_file(self, ctx: RequestContext, file: dict[str, Any]) -> None:
        entry = self._entry("afterDeleteFile", GLOBAL)
        if entry is not None:
            run_after(entry, self._file_request(ctx, "afterDeleteFile", dict(file)))

    # --- LiveQuery -------------------------------------------------------------------

    def before_connect(self, ctx: RequestContext, message: dict[str, Any]) -> None:
        entry = self._entry("beforeConnect", "@global")
        if entry is not None:
            run(
                entry,
                CloudRequest(
                    ctx=ctx,
                    trigger_name="beforeConnect",
                    extra={
                        "installation_id": message.get("installationId"),
                        "session_token": message.get("sessionToken"),
                        "use_master_key": ctx.is_master,
                    },
                ),
            )

    def before_subscribe(
        self, ctx: RequestContext, class_name: str, query: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self._entry("beforeSubscribe", class_name)
        if entry is None:
            return query
        request = CloudRequest(
            ctx=ctx, trigger_name="beforeSubscribe", query=Query(class_name, query.get("where"))
        )
        result = run(entry, request)
        target = result if isinstance(result, Query) else request.query
        assert target is not None
        return {**query, "where": target.where}

    def after_live_query_event(
        self, ctx: RequestContext, class_name: str, event: str, obj: Any, original: Any
    ) -> tuple[Any, bool]:
        """Returns (object to send, whether to send). Set ``request.extra["send_event"] = False`` to drop."""
        entry = self._entry("afterLiveQueryEvent", class_name)
        if entry is None:
            return obj, True
        request = CloudRequest(
            ctx=ctx,
            trigger_name="afterLiveQueryEvent",
            object=Object.from_api(class_name, obj) if obj else None,
            original=Object.from_api(class_name, original) if original else None,
            extra={"event": event, "send_event": True},
        )
        run(entry, request)
        sent = request.object.to_json() if request.object is not None else obj
        if isinstance(sent, dict):
            sent.setdefault("className", class_name)
        return sent, bool(request.extra.get("send_event", True))
