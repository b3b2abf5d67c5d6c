"""``/config``: Parse Config parameters, readable by clients, written with the master key."""

from __future__ import annotations

from typing import Any

from django.db import router, transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView, require_master
from ..codec import decode_value
from ..errors import Code, ParseError, permission_denied
from .encoding import _with_file_urls
from .models import GlobalConfig
from .openapi import OBJECT_BODY, error_responses, object_response


def read_config(*, master: bool) -> dict[str, Any]:
    """``{params, masterKeyOnly}``; master-only parameters only for the master key.

    As in Parse, ``masterKeyOnly`` holds a flag for every parameter the caller sees.
    """
    rows = list(GlobalConfig.objects.all())
    if not rows:
        return {"params": {}}
    params: dict[str, Any] = {}
    master_only: dict[str, bool] = {}
    for row in rows:
        if row.master_key_only and not master:
            continue
        params[row.name] = _with_file_urls(row.value)
        master_only[row.name] = bool(row.master_key_only)
    return {"params": params, "masterKeyOnly": master_only}


def write_config(params: Any, master_only: Any) -> None:
    """Set (or ``{"__op": "Delete"}``) parameters; each written parameter's
    master-only flag is set from ``masterKeyOnly`` (false when absent), as in Parse."""
    if params is not None and not isinstance(params, dict):
        raise ParseError(Code.INVALID_JSON, "config params must be an object")
    if master_only is not None and not isinstance(master_only, dict):
        raise ParseError(Code.INVALID_JSON, "masterKeyOnly must be an object")
    master_only = master_only or {}
    if any(not isinstance(flag, bool) for flag in master_only.values()):
        raise ParseError(Code.INVALID_JSON, "masterKeyOnly values must be booleans")
    with transaction.atomic(using=router.db_for_write(GlobalConfig)):
        for name, value in (params or {}).items():
            if not isinstance(name, str) or not name:
                raise ParseError(Code.INVALID_KEY_NAME, "invalid config parameter name")
            if isinstance(value, dict) and value.get("__op") == "Delete":
                GlobalConfig.objects.filter(name=name).delete()
                continue
            stored = decode_value(value, path=name)
            GlobalConfig.objects.update_or_create(
                name=name,
                defaults={"value": stored, "master_key_only": master_only.get(name, False)},
            )


class ConfigView(ParseAPIView):
    @extend_schema(operation_id="config_get", responses={200: object_response, **error_responses})
    def get(self, request: Any) -> Response:
        return Response(read_config(master=request.bk.has_master_rights))

    @extend_schema(
        operation_id="config_update",
        request=OBJECT_BODY,
        responses={200: object_response, **error_responses},
    )
    def put(self, request: Any) -> Response:
        if request.bk.is_read_only_master:
            raise permission_denied("read-only masterKey isn't allowed to update the config.")
        require_master(request.bk)
        body = request.data if isinstance(request.data, dict) else {}
        write_config(body.get("params"), body.get("masterKeyOnly"))
        return Response({"result": True})
